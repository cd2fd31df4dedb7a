// `kube-image-cleanup list`: the dry-run results of every node folded into one cluster-wide table,
// one row per image the patterns matched: on which nodes it is, on which a pod uses it, its size,
// and on which nodes the patterns would delete it. Images no --include matched are only counted by
// the agent, so `--include '**'` lists every image.
import type { AgentResult } from "../run-model/agent-result.js";
import type { KeepReason } from "../run-model/keep-reason.js";
import { escapeControl } from "../text/escape.js";
import { formatTable } from "./table.js";
import { formatBytes, plural } from "../text/units.js";
import { toYaml } from "../text/yaml.js";

/** Kept reasons that mean something on the node needs the image. */
const USED: ReadonlySet<KeepReason> = new Set(["in-use", "protected", "sandbox"]);

export interface InventoryRow {
  /** The image's first name, or `<untagged id>`. */
  image: string;
  id: string;
  /** Nodes holding it, by name. */
  nodes: string[];
  /** Nodes where a container, a pod bound to the node or a pod sandbox needs it. */
  usedOn: string[];
  /** Nodes where this run's patterns and rules would delete it. */
  wouldCleanOn: string[];
  /** Size as the runtime reports it, where a node would delete it (kept images carry no size). */
  bytes: number | undefined;
  /** Why the other nodes keep it, counted: `in-use 3, excluded 1`. */
  kept: Partial<Record<KeepReason, number>>;
  /**
   * With --unused-for, per node: since when this tool has seen it unused there (RFC 3339), or
   * `in use`. A node where it has no clock yet is not listed.
   */
  unused?: Record<string, string>;
}

export class Inventory {
  private readonly rows = new Map<string, InventoryRow>();
  nodes = 0;

  private row(image: { id: string; names: readonly string[] }): InventoryRow {
    let row = this.rows.get(image.id);
    if (row === undefined) {
      row = {
        image: image.names[0] ?? `<untagged ${image.id.replace(/^sha256:/, "").slice(0, 12)}>`,
        id: image.id,
        nodes: [],
        usedOn: [],
        wouldCleanOn: [],
        bytes: undefined,
        kept: {},
      };
      this.rows.set(image.id, row);
    }
    return row;
  }

  /** Adds one node's dry-run result. */
  add(node: string, result: AgentResult): void {
    this.nodes++;
    const clock = (row: InventoryRow, image: { unusedSince?: string; inUse?: true }) => {
      const value = image.inUse === true ? IN_USE : image.unusedSince;
      if (value === undefined) return;
      row.unused = { ...(row.unused ?? {}), [node]: value };
    };
    for (const d of result.deleted) {
      const row = this.row(d);
      clock(row, d);
      row.nodes.push(node);
      row.wouldCleanOn.push(node);
      row.bytes = Math.max(row.bytes ?? 0, d.bytes);
    }
    for (const k of result.kept) {
      if (k.reason === "no-match") continue;
      const row = this.row(k);
      clock(row, k);
      row.nodes.push(node);
      if (USED.has(k.reason)) row.usedOn.push(node);
      row.kept[k.reason] = (row.kept[k.reason] ?? 0) + 1;
    }
    for (const f of result.failed) this.row(f).nodes.push(node);
  }

  /** Most nodes first, then by name. */
  list(): InventoryRow[] {
    return [...this.rows.values()]
      .map((r) => ({
        ...r,
        nodes: [...r.nodes].sort(),
        usedOn: [...r.usedOn].sort(),
        wouldCleanOn: [...r.wouldCleanOn].sort(),
      }))
      .sort((a, b) => b.nodes.length - a.nodes.length || a.image.localeCompare(b.image));
  }
}

const IN_USE = "in use";

/**
 * The clock column: the latest "unused since" among the nodes (the last to pass --unused-for),
 * and on how many nodes the image is in use: `2026-11-20T03:00:00Z`, `in use on 2`, or both.
 */
function unusedText(unused: InventoryRow["unused"]): string {
  if (unused === undefined) return "-";
  const values = Object.values(unused);
  const since = values.filter((v) => v !== IN_USE).sort();
  const inUse = values.length - since.length;
  const parts: string[] = [];
  const latest = since[since.length - 1];
  if (latest !== undefined) {
    const text = latest.replace(/\.000Z$/, "Z");
    parts.push(since.length > 1 ? `${text} (latest of ${since.length})` : text);
  }
  if (inUse > 0) parts.push(`in use on ${inUse}`);
  return parts.join(", ");
}

/** `node-a, node-b` or `12 nodes (node-a, node-b, ...)` for long lists. */
function nodeList(nodes: readonly string[], max = 3): string {
  if (nodes.length === 0) return "-";
  if (nodes.length <= max) return nodes.join(",");
  return `${nodes.length}: ${nodes.slice(0, max).join(",")},...`;
}

function keptText(kept: InventoryRow["kept"]): string {
  const parts = Object.entries<number>(kept)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason} ${n}`);
  return parts.length === 0 ? "-" : parts.join(", ");
}

export function formatInventoryTable(rows: readonly InventoryRow[], nodes: number): string[] {
  const lines = [
    `${plural(rows.length, "image")} matched on ${plural(nodes, "node")} (dry run: nothing was deleted)`,
  ];
  if (rows.length === 0) return lines;
  // The clock column only where clocks are kept (--unused-for): otherwise it would say nothing.
  const clocks = rows.some((r) => r.unused !== undefined);
  lines.push(
    ...formatTable(
      [
        "IMAGE",
        "NODES",
        "USED ON",
        "SIZE",
        ...(clocks ? ["UNUSED SINCE"] : []),
        "WOULD CLEAN ON",
        "KEPT BECAUSE",
      ],
      rows.map((r) => [
        r.image,
        String(r.nodes.length),
        nodeList(r.usedOn),
        r.bytes === undefined ? "-" : formatBytes(r.bytes),
        ...(clocks ? [unusedText(r.unused)] : []),
        nodeList(r.wouldCleanOn),
        keptText(r.kept),
      ]),
      new Set([1, 3]),
    ),
  );
  return lines.map(escapeControl);
}

/** One JSON document; JSON escapes what needs it. */
export function formatInventoryJson(rows: readonly InventoryRow[], nodes: number): string {
  return JSON.stringify({ nodes, images: rows }, null, 2);
}

/** The JSON document as YAML (`-o yaml`); js-yaml quotes and escapes what needs it. */
export function formatInventoryYaml(rows: readonly InventoryRow[], nodes: number): string {
  return toYaml({ nodes, images: rows });
}

/**
 * RFC 4180 CSV. A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at the
 * start: image names come from pod authors and registries) gets a leading `'`.
 */
export function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function formatInventoryCsv(rows: readonly InventoryRow[]): string {
  const clocks = rows.some((r) => r.unused !== undefined);
  const lines = [
    [
      "image",
      "id",
      "nodes",
      "used_on",
      "size_bytes",
      ...(clocks ? ["unused_since"] : []),
      "would_clean_on",
      "kept",
    ],
  ];
  for (const r of rows)
    lines.push([
      r.image,
      r.id,
      r.nodes.join(" "),
      r.usedOn.join(" "),
      r.bytes === undefined ? "" : String(r.bytes),
      // node=time or node=in-use, space separated, as the other node lists.
      ...(clocks
        ? [
            Object.entries(r.unused ?? {})
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([node, v]) => `${node}=${v === IN_USE ? "in-use" : v}`)
              .join(" "),
          ]
        : []),
      r.wouldCleanOn.join(" "),
      Object.keys(r.kept).length === 0 ? "" : keptText(r.kept),
    ]);
  return `${lines.map((l) => l.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

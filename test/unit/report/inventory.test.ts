import { describe, expect, it } from "vitest";
import {
  csvCell,
  formatInventoryCsv,
  formatInventoryTable,
  Inventory,
} from "../../../src/report/inventory.js";
import { agentResult } from "../controller/fixtures.js";

const app = { id: "sha256:aaa", names: ["docker.io/acme/app:1"] };
const base = { id: "sha256:bbb", names: ["docker.io/acme/base:1"] };

function sample(): Inventory {
  const inv = new Inventory();
  inv.add(
    "node-a",
    agentResult({
      dryRun: true,
      deleted: [{ ...app, bytes: 5 * 1024 ** 2 }],
      kept: [{ ...base, reason: "in-use", detail: "container c" }],
    }),
  );
  inv.add(
    "node-b",
    agentResult({
      dryRun: true,
      deleted: [],
      kept: [
        { ...app, reason: "protected", detail: "pod x/y" },
        { ...base, reason: "excluded" },
        { id: "sha256:ccc", names: ["docker.io/acme/other:1"], reason: "no-match" },
      ],
    }),
  );
  return inv;
}

describe("list: cluster-wide image table", () => {
  it("folds every node's dry run into one row per image: nodes holding it, using it, would clean it", () => {
    const rows = sample().list();
    expect(rows.map((r) => r.image)).toEqual(["docker.io/acme/app:1", "docker.io/acme/base:1"]);
    expect(rows[0]).toMatchObject({
      nodes: ["node-a", "node-b"],
      usedOn: ["node-b"],
      wouldCleanOn: ["node-a"],
      bytes: 5 * 1024 ** 2,
      kept: { protected: 1 },
    });
    expect(rows[1]).toMatchObject({
      nodes: ["node-a", "node-b"],
      usedOn: ["node-a"],
      wouldCleanOn: [],
      bytes: undefined,
      kept: { "in-use": 1, excluded: 1 },
    });
  });

  it("prints an aligned table", () => {
    const inv = sample();
    expect(formatInventoryTable(inv.list(), inv.nodes)).toEqual([
      "2 images matched on 2 nodes (dry run: nothing was deleted)",
      "IMAGE                  NODES  USED ON     SIZE  WOULD CLEAN ON  KEPT BECAUSE",
      "docker.io/acme/app:1       2  node-b   5.0 MiB  node-a          protected 1",
      "docker.io/acme/base:1      2  node-a         -  -               excluded 1, in-use 1",
    ]);
  });

  it("writes CSV a spreadsheet cannot run as a formula, and escapes names in the table", () => {
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    const inv = new Inventory();
    inv.add(
      "node-a",
      agentResult({ deleted: [{ id: "sha256:x", names: ["@evil\nimage:1"], bytes: 1 }] }),
    );
    const csv = formatInventoryCsv(inv.list());
    expect(csv.split("\r\n")[1]).toBe('"\'@evil\nimage:1",sha256:x,node-a,,1,node-a,');
    const table = formatInventoryTable(inv.list(), 1).join("\n");
    expect(table).toContain("@evil\\nimage:1");
  });

  it("with --unused-for shows per image and node since when it is unused, or in use", () => {
    const inv = new Inventory();
    inv.add(
      "node-a",
      agentResult({
        dryRun: true,
        deleted: [{ ...app, bytes: 1024, unusedSince: "2026-11-01T03:00:00.000Z" }],
        kept: [{ ...base, reason: "in-use", inUse: true }],
      }),
    );
    inv.add(
      "node-b",
      agentResult({
        dryRun: true,
        kept: [
          {
            ...app,
            reason: "unused-for",
            detail: "unused since 2026-12-01T03:00:00Z (6d < 14d)",
            unusedSince: "2026-12-01T03:00:00.000Z",
          },
          { ...base, reason: "unused-for", unusedSince: "2026-12-06T03:00:00.000Z" },
        ],
      }),
    );
    const rows = inv.list();
    expect(rows[0]?.unused).toEqual({
      "node-a": "2026-11-01T03:00:00.000Z",
      "node-b": "2026-12-01T03:00:00.000Z",
    });
    expect(formatInventoryTable(rows, inv.nodes)).toEqual([
      "2 images matched on 2 nodes (dry run: nothing was deleted)",
      "IMAGE                  NODES  USED ON     SIZE  UNUSED SINCE                        WOULD CLEAN ON  KEPT BECAUSE",
      "docker.io/acme/app:1       2  -        1.0 KiB  2026-12-01T03:00:00Z (latest of 2)  node-a          unused-for 1",
      "docker.io/acme/base:1      2  node-a         -  2026-12-06T03:00:00Z, in use on 1   -               in-use 1, unused-for 1",
    ]);
    expect(formatInventoryCsv(rows).split("\r\n")[1]).toBe(
      "docker.io/acme/app:1,sha256:aaa,node-a node-b,,1024,node-a=2026-11-01T03:00:00.000Z node-b=2026-12-01T03:00:00.000Z,node-a,unused-for 1",
    );
  });
});

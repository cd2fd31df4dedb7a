// The user docs cannot drift from the code: every chart value, CLI flag and stated default that
// README.md, CONTRIBUTING.md, docs/*.md and chart/README.md name must exist, with that default, in
// chart/values.yaml, chart/values.schema.json and the commands' option tables (src/commands,
// src/config). The rules the docs follow for this are in CONTRIBUTING.md ("Docs that cannot drift").
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { loadCommands } from "../../../src/commands/index.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const read = (file: string) => readFileSync(join(repoRoot, file), "utf8");

const DOCS = [
  "README.md",
  "CONTRIBUTING.md",
  "chart/README.md",
  ...readdirSync(join(repoRoot, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

const values = yaml.load(read("chart/values.yaml")) as Record<string, unknown>;
const schema = JSON.parse(read("chart/values.schema.json")) as SchemaNode;
const TOP_LEVEL = new Set(Object.keys(schema.properties ?? {}));

/** The schema node of a dotted value path, or undefined when the chart has no such value. */
function schemaAt(path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const part of path.split(".")) node = node?.properties?.[part];
  return node;
}

function defaultAt(path: string): { found: boolean; value?: unknown } {
  let at: unknown = values;
  for (const part of path.split(".")) {
    if (at === null || typeof at !== "object" || !(part in at)) return { found: false };
    at = (at as Record<string, unknown>)[part];
  }
  return { found: true, value: at };
}

/** Whether the schema accepts `text` as typed on a `--set` line or in a `key=value` span. */
function accepts(node: SchemaNode, text: string): boolean {
  const unquoted = text.replace(/^(["'])(.*)\1$/, "$2");
  if (node.enum) return node.enum.map(String).includes(unquoted);
  const types = [node.type ?? []].flat();
  if (types.length === 0) return true;
  return types.some((t) => {
    if (t === "boolean") return unquoted === "true" || unquoted === "false";
    if (t === "integer") return /^-?\d+$/.test(unquoted);
    if (t === "null") return unquoted === "null";
    if (t === "array") return /^\{.*\}$|^\[.*\]$/.test(unquoted);
    return t === "string" || t === "object";
  });
}

/** Every option of every command, with its aliases, and the option table it comes from. */
const options = new Map<string, { command: string; default: unknown }>();
for (const c of await loadCommands()) {
  for (const [key, o] of Object.entries(c.options)) {
    for (const name of [key, ...[o.alias ?? []].flat()])
      if (!options.has(name)) options.set(name, { command: c.command, default: o.default });
  }
}
for (const builtIn of ["help", "version", "h"])
  options.set(builtIn, { command: "", default: undefined });

/**
 * Flags of the other tools the docs show (helm, kubectl, docker, buildah, npm, vitest, nsenter,
 * node), by tool. A flag named in the docs must be kube-image-cleanup's or one of these; keep this
 * list to flags the docs really use, so that a flag the CLI drops is not hidden by it.
 */
const OTHER_TOOLS: Record<string, string[]> = {
  helm: ["set", "reuse-values", "logs", "namespace", "api-versions"],
  kubectl: ["from", "follow", "pod-running-timeout", "overwrite", "field-selector"],
  docker: [
    "build-arg",
    "secret",
    "rm",
    "force",
    "name",
    "network",
    "user",
    "volume",
    "group-add",
    "time",
    "format",
  ],
  "npm, vitest": ["project", "provenance", "no-git-tag-version"],
  nsenter: ["target", "mount", "uts", "ipc", "net", "pid"],
  systemctl: ["now"],
  unshare: ["cgroup"],
  "kube-apiserver": ["event-ttl"],
  node: ["max-old-space-size", "max-semi-space-size", "cpu-prof"],
  // `schedule --run-now`, the CLI's own; `--flag=value` in the admission-policy text is a pattern.
  words: ["flag"],
};
const otherFlags = new Set(Object.values(OTHER_TOOLS).flat());

interface Found {
  file: string;
  line: number;
  text: string;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** Inline code spans (not fenced blocks), with where they are. */
function codeSpans(file: string): Found[] {
  const text = read(file);
  const withoutFences = text.replace(/^```[\s\S]*?^```/gm, (block) => block.replace(/[^\n]/g, " "));
  return [...withoutFences.matchAll(/`([^`\n]+)`/g)].map((m) => ({
    file,
    line: lineOf(text, m.index),
    text: m[1] ?? "",
  }));
}

/** `--set key=value` (and `--set-json`) in any line, fenced or not. */
function setArguments(file: string): Found[] {
  const text = read(file);
  return [...text.matchAll(/--set(?:-json)? +'?([A-Za-z][\w.]*=[^ '`\n]*)'?/g)].map((m) => ({
    file,
    line: lineOf(text, m.index),
    text: m[1] ?? "",
  }));
}

const FILE_NAME = /\.(sh|ts|mjs|js|md|ya?ml|json|toml|txt|tmpl|log|svg)$/;
/** `images.minAge`, `helper.mode=socket`, `dryRun: true`: a value path, maybe with a value. */
const VALUE_SPAN = /^([a-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)(?:\[\d+\])?(?:(=|: )(\S+))?$/;

function valueMentions(): (Found & { path: string; given?: string })[] {
  const spans = DOCS.flatMap((f) => [...codeSpans(f), ...setArguments(f)]);
  return spans.flatMap((s) => {
    if (FILE_NAME.test(s.text)) return [];
    const m = VALUE_SPAN.exec(s.text);
    if (!m?.[1]) return [];
    const path = m[1];
    const top = path.split(".")[0] ?? "";
    // A bare word (`output`, `schedule`) is a value only when it is given one: `dryRun=true`.
    if (!TOP_LEVEL.has(top) || (!path.includes(".") && m[2] === undefined)) return [];
    return [{ ...s, path, ...(m[3] === undefined ? {} : { given: m[3] }) }];
  });
}

function flagMentions(): (Found & { flag: string })[] {
  return DOCS.flatMap((file) => {
    const text = read(file);
    return [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*\*?)/g)].map((m) => ({
      file,
      line: lineOf(text, m.index),
      text: m[0],
      flag: m[1] ?? "",
    }));
  });
}

/** "`key` (10)", "`key` (default 10)", "`key`, default on": a default the docs state. */
function statedDefaults(): (Found & { key: string; stated: string })[] {
  return DOCS.flatMap((file) => {
    const text = read(file).replace(/^```[\s\S]*?^```/gm, (b) => b.replace(/[^\n]/g, " "));
    return [
      ...text.matchAll(/`([^`\n]+)`\s+\((?:[^()`]*?\bdefault\s+`?([^`),;\s]+)`?|([^`),;\s]+)\))/g),
      ...text.matchAll(/`([^`\n]+)`,\s+default\s+`?([^`),;\s]+)`?/g),
    ].map((m) => ({
      file,
      line: lineOf(text, m.index),
      text: m[0],
      key: m[1] ?? "",
      stated: m[2] ?? m[3] ?? "",
    }));
  });
}

function sameDefault(declared: unknown, stated: string): boolean {
  if (declared === true) return stated === "on" || stated === "true";
  if (declared === false) return stated === "off" || stated === "false";
  return String(declared) === stated.replace(/^"(.*)"$/, "$1");
}

const where = (f: Found) => `${f.file}:${String(f.line)}: ${f.text}`;

describe("docs name only values, flags and defaults that exist", () => {
  it("reads every doc file, and finds what it checks in them", () => {
    expect(DOCS).toEqual(expect.arrayContaining(["README.md", "docs/how-it-decides.md"]));
    // The checks below see real mentions (a broken extraction would pass them vacuously).
    expect(valueMentions().length).toBeGreaterThan(100);
    expect(flagMentions().length).toBeGreaterThan(50);
    expect(statedDefaults().length).toBeGreaterThan(5);
  });

  it("every chart value named exists in values.yaml or the schema", () => {
    const missing = valueMentions()
      .filter((m) => schemaAt(m.path) === undefined)
      .map(where);
    expect(missing).toEqual([]);
  });

  it("every value given as key=value is one the schema accepts", () => {
    const refused = valueMentions()
      .filter((m) => m.given !== undefined)
      .filter((m) => {
        const node = schemaAt(m.path);
        return node !== undefined && !accepts(node, m.given ?? "");
      })
      .map(where);
    expect(refused).toEqual([]);
  });

  it("every --flag named is kube-image-cleanup's (or one of the listed other tools')", () => {
    const unknown = flagMentions()
      .filter((m) => {
        if (m.flag.endsWith("*"))
          return ![...options.keys()].some((k) => k.startsWith(m.flag.slice(0, -1)));
        return !options.has(m.flag) && !otherFlags.has(m.flag);
      })
      .map(where);
    expect(unknown).toEqual([]);
  });

  it("the other tools' flags the test allows are all still used in the docs", () => {
    const used = new Set(flagMentions().map((m) => m.flag));
    expect([...otherFlags].filter((f) => !used.has(f))).toEqual([]);
  });

  it("every default the docs state is the declared one", () => {
    const checked: string[] = [];
    const wrong: string[] = [];
    for (const d of statedDefaults()) {
      let declared: { found: boolean; value?: unknown } = { found: false };
      if (d.key.startsWith("--") && options.has(d.key.slice(2))) {
        declared = { found: true, value: options.get(d.key.slice(2))?.default };
      } else if (schemaAt(d.key) !== undefined) {
        declared = defaultAt(d.key);
      }
      if (!declared.found) continue;
      checked.push(d.key);
      if (!sameDefault(declared.value, d.stated))
        wrong.push(`${where(d)} (declared: ${JSON.stringify(declared.value)})`);
    }
    expect(wrong).toEqual([]);
    expect(checked.length).toBeGreaterThan(3);
  });

  it("every relative link points to a file that exists, and an anchor to a heading in it", () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, "")
        .replace(/\s/g, "-");
    const broken: string[] = [];
    let checked = 0;
    for (const file of DOCS) {
      const text = read(file);
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] ?? "";
        if (/^[a-z]+:/.test(target)) continue;
        const [path = "", anchor] = target.split("#");
        const resolved = path === "" ? file : normalize(join(dirname(file), path));
        checked++;
        if (!existsSync(join(repoRoot, resolved))) {
          broken.push(`${file}:${String(lineOf(text, m.index))}: ${target} (no ${resolved})`);
        } else if (anchor !== undefined && resolved.endsWith(".md")) {
          const headings = [...read(resolved).matchAll(/^#+ (.*)$/gm)].map((h) => slug(h[1] ?? ""));
          if (!headings.includes(anchor))
            broken.push(
              `${file}:${String(lineOf(text, m.index))}: ${target} (no heading #${anchor})`,
            );
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it("no internal issue numbers", () => {
    const found = DOCS.flatMap((file) =>
      [...read(file).matchAll(/\bissues? #?\d+|\bissue-\d+/gi)].map(
        (m) => `${file}:${String(lineOf(read(file), m.index))}: ${m[0]}`,
      ),
    );
    expect(found).toEqual([]);
  });
});

describe("the drift checks can fail", () => {
  it("a value, a value's setting and a flag that do not exist are found", () => {
    expect(schemaAt("images.minAge")).toBeDefined();
    expect(schemaAt("images.maxAge")).toBeUndefined();
    const mode = schemaAt("helper.mode");
    expect(mode && accepts(mode, "socket")).toBe(true);
    expect(mode && accepts(mode, "sockets")).toBe(false);
    const dry = schemaAt("dryRun");
    expect(dry && accepts(dry, "true")).toBe(true);
    expect(dry && accepts(dry, "yes")).toBe(false);
    expect(options.has("min-age")).toBe(true);
    expect(options.has("max-age")).toBe(false);
  });

  it("a stated default that differs is found", () => {
    expect(sameDefault(defaultAt("report.runs").value, "10")).toBe(true);
    expect(sameDefault(defaultAt("report.runs").value, "20")).toBe(false);
    expect(sameDefault(defaultAt("events.enabled").value, "on")).toBe(true);
    expect(sameDefault(defaultAt("events.enabled").value, "off")).toBe(false);
  });
});

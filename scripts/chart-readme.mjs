#!/usr/bin/env node
// Generates chart/README.md from chart/README.md.tmpl and the helm-docs `# --` comments in
// chart/values.yaml (a small stand-in for helm-docs, which is not available here):
//
//   # -- (type) description          documents the key on the next line; the type is optional
//   # continued description
//   key: default
//
//   # some.path -- description       documents a key that has no default (it is not in the file)
//
//   node scripts/chart-readme.mjs            write chart/README.md
//   node scripts/chart-readme.mjs --check    exit 1 if chart/README.md is out of date
//   --chart <dir>                            another chart directory (tests use a copy)
//
// Fails when a value is not documented: every key in values.yaml needs a comment on itself or on an
// enclosing key.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const MARKER = "<!-- values-table -->";

/** Reads the `# --` comments; returns [{ path, type?, description }] in file order. */
export function parseValueDocs(text) {
  const docs = [];
  /** @type {{ path?: string, type?: string, lines: string[] } | undefined} */
  let open;
  const stack = []; // [{ indent, key }]
  const close = () => {
    if (open?.path !== undefined) docs.push(finish(open));
    open = undefined;
  };
  for (const line of text.split("\n")) {
    const explicit = /^\s*# ([A-Za-z0-9_.-]+) -- (.*)$/.exec(line);
    const next = /^\s*# -- (.*)$/.exec(line);
    const continued = /^\s*#(?: (.*))?$/.exec(line);
    const key = /^(\s*)([A-Za-z0-9_.-]+):(?:\s|$)/.exec(line);
    if (explicit) {
      close();
      open = { path: explicit[1], lines: [explicit[2]] };
    } else if (next) {
      close();
      open = { path: undefined, lines: [next[1]] };
    } else if (continued && open) {
      open.lines.push(continued[1] ?? "");
    } else if (key) {
      const indent = key[1].length;
      while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
      stack.push({ indent, key: key[2] });
      if (open && open.path === undefined) open.path = stack.map((s) => s.key).join(".");
      close();
    } else if (line.trim() === "" || !/^\s*-/.test(line)) {
      close();
    }
  }
  close();
  return docs;
}

function finish(open) {
  let description = open.lines.join(" ").replace(/\s+/g, " ").trim();
  let type;
  const typed = /^\(([^)]+)\)\s*(.*)$/.exec(description);
  if (typed) [, type, description] = typed;
  return { path: open.path, type, description };
}

function lookup(values, path) {
  let at = values;
  for (const part of path.split(".")) {
    if (at === null || typeof at !== "object" || !(part in at)) return { found: false };
    at = at[part];
  }
  return { found: true, value: at };
}

function typeOf(value) {
  if (value === null) return ""; // give null defaults an explicit "(type)" in the comment
  if (Array.isArray(value)) return "list";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return typeof value;
}

/** Keys of `values` (leaves and empty maps/lists) no documented path covers. */
export function undocumented(values, docs) {
  const documented = new Set(docs.map((d) => d.path));
  const missing = [];
  const walk = (node, path) => {
    if (path && documented.has(path)) return;
    if (
      node !== null &&
      typeof node === "object" &&
      !Array.isArray(node) &&
      Object.keys(node).length > 0
    ) {
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
    } else if (path) {
      missing.push(path);
    }
  };
  walk(values, "");
  return missing;
}

const cell = (text) => text.replace(/\|/g, "\\|");

export function valuesTable(valuesText) {
  const values = yaml.load(valuesText) ?? {};
  const docs = parseValueDocs(valuesText);
  const missing = undocumented(values, docs);
  if (missing.length > 0) throw new Error(`values without a "# --" comment: ${missing.join(", ")}`);
  const rows = docs.map((d) => {
    const { found, value } = lookup(values, d.path);
    const type = d.type ?? (found ? typeOf(value) : "");
    const def = found ? `\`${cell(JSON.stringify(value))}\`` : "(required)";
    return `| \`${d.path}\` | ${type} | ${def} | ${cell(d.description)} |`;
  });
  return [
    "| Key | Type | Default | Description |",
    "|-----|------|---------|-------------|",
    ...rows,
  ].join("\n");
}

export function renderReadme(chartDir) {
  const template = readFileSync(join(chartDir, "README.md.tmpl"), "utf8");
  if (!template.includes(MARKER)) throw new Error(`${chartDir}/README.md.tmpl lacks ${MARKER}`);
  const table = valuesTable(readFileSync(join(chartDir, "values.yaml"), "utf8"));
  return template.replace(MARKER, table);
}

function main(argv) {
  const check = argv.includes("--check");
  const at = argv.indexOf("--chart");
  const chartDir =
    at >= 0 ? argv[at + 1] : join(dirname(fileURLToPath(import.meta.url)), "..", "chart");
  const readme = join(chartDir, "README.md");
  const wanted = renderReadme(chartDir);
  if (check) {
    let current = "";
    try {
      current = readFileSync(readme, "utf8");
    } catch {
      // A missing README is out of date like any other; the message below says what to run.
    }
    if (current !== wanted) {
      process.stderr.write(`${readme} is out of date: run node scripts/chart-readme.mjs\n`);
      return 1;
    }
    return 0;
  }
  writeFileSync(readme, wanted);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`chart-readme: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

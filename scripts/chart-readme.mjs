#!/usr/bin/env node
// Generates chart/README.md from chart/README.md.tmpl, the helm-docs `# --` comments in
// chart/values.yaml (a small stand-in for helm-docs, which is not available here) and the RBAC rules
// `helm template` renders (the permissions table, so the README cannot promise fewer or other
// rules than the chart grants):
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
// helm: $HELM, else the one test/cluster/build-binaries.sh builds into the cache dir, else `helm`.
//
// Fails when a value is not documented: every key in values.yaml needs a comment on itself or on an
// enclosing key.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const MARKER = "<!-- values-table -->";
const PERMISSIONS_MARKER = "<!-- permissions-table -->";

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

// ---- The permissions table, from what `helm template` renders -------------------------------------

const RELEASE = "kic";
const NAMESPACE = "kic-system";
const PULL_SECRET = "registry-pull";
/** The values the chart requires, and what the local cluster's helm must claim to be (kubeVersion). */
const REQUIRED = ["--set", "schedule=0 3 * * *", "--set", "images.include={docker.io/acme/*}"];
const KUBE_VERSION = "v1.34.4";
/** Values that add rules: rendered with the defaults, so the table has every rule there can be. */
const ADDING = {
  label: `\`images.onlyIfPullable=true\` with \`registryPullSecrets\``,
  args: ["--set", "images.onlyIfPullable=true", "--set", `registryPullSecrets={${PULL_SECRET}}`],
};
/** Values that take rules away or narrow their verbs. */
const REMOVING = [
  { label: "`rbac.allowPodDeletion=false`", args: ["--set", "rbac.allowPodDeletion=false"] },
  { label: "`events.enabled=false`", args: ["--set", "events.enabled=false"] },
  { label: "`report.enabled=false`", args: ["--set", "report.enabled=false"] },
];
/**
 * Why each rule is there, by scope and resource. A rendered rule with no entry here, or an entry
 * no rendered rule has, fails the generation: a new grant needs its reason written down.
 */
const WHY = {
  "cluster|nodes":
    "choose the nodes to clean (listed with a label selector, never read one by one)",
  "cluster|pods":
    "images that pods bound to a node need are never deleted (one list, then one watch, per run: the shared pod view)",
  "release|pods": "the helper pods, one per node and run",
  "release|pods/log": "read each helper pod's result",
  "release|events": "explain a helper pod that stays Pending",
  "release|configmaps":
    "the run report (`report.enabled`); the chart creates the ConfigMap, because `create` cannot be limited to a name",
  "release|secrets": "check the registry pull Secrets before a run with `images.onlyIfPullable`",
  "default|events":
    "an Event about each Node when it is done (`events.enabled`); Events about Nodes live in `default`",
};
const SCOPE_LABEL = {
  cluster: "cluster (ClusterRole)",
  release: "release namespace (Role)",
  default: "namespace `default` (Role)",
};

export function findHelm(env = process.env) {
  if (env.HELM) return env.HELM;
  const cache =
    env.KIC_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kube-image-cleanup");
  const built = join(cache, "bin", "helm");
  return existsSync(built) ? built : "helm";
}

/** The RBAC rules of one `helm template`, as [{ key, scope, resource, names, verbs }]. */
function renderedRules(chartDir, args) {
  const helm = findHelm();
  const r = spawnSync(
    helm,
    [
      "template",
      RELEASE,
      chartDir,
      "-n",
      NAMESPACE,
      "--kube-version",
      KUBE_VERSION,
      ...REQUIRED,
      ...args,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  if (r.error)
    throw new Error(
      `cannot run ${helm} (set HELM, or build it with test/cluster/build-binaries.sh): ${r.error.message}`,
    );
  if (r.status !== 0) throw new Error(`helm template ${args.join(" ")} failed:\n${r.stderr}`);
  const rules = [];
  for (const doc of yaml.loadAll(r.stdout)) {
    if (!doc || (doc.kind !== "ClusterRole" && doc.kind !== "Role")) continue;
    const scope =
      doc.kind === "ClusterRole"
        ? "cluster"
        : doc.metadata.namespace === "default"
          ? "default"
          : "release";
    for (const rule of doc.rules ?? []) {
      for (const resource of rule.resources) {
        const names = (rule.resourceNames ?? []).map((n) =>
          n === PULL_SECRET
            ? "those in `registryPullSecrets`"
            : `\`${n.replace(`${RELEASE}-kube-image-cleanup`, "<fullname>")}\``,
        );
        const group = (rule.apiGroups ?? [""]).filter((g) => g !== "").join(", ");
        rules.push({
          key: `${scope}|${resource}`,
          scope,
          resource: group ? `${group}/${resource}` : resource,
          names,
          verbs: rule.verbs,
        });
      }
    }
  }
  return rules;
}

export function permissionsTable(chartDir) {
  const defaults = renderedRules(chartDir, []);
  const every = renderedRules(chartDir, ADDING.args);
  const without = REMOVING.map((v) => ({
    ...v,
    rules: renderedRules(chartDir, [...ADDING.args, ...v.args]),
  }));
  const unexplained = every.filter((r) => !(r.key in WHY)).map((r) => r.key);
  if (unexplained.length > 0)
    throw new Error(
      `rules without a reason in scripts/chart-readme.mjs WHY: ${unexplained.join(", ")}`,
    );
  const unused = Object.keys(WHY).filter((k) => !every.some((r) => r.key === k));
  if (unused.length > 0)
    throw new Error(`WHY names rules the chart does not render: ${unused.join(", ")}`);
  const rows = every.map((rule) => {
    const when = [];
    if (!defaults.some((d) => d.key === rule.key)) when.push(`only with ${ADDING.label}`);
    for (const v of without) {
      const left = v.rules.find((r) => r.key === rule.key);
      if (left === undefined) when.push(`not with ${v.label}`);
      else {
        const gone = rule.verbs.filter((verb) => !left.verbs.includes(verb));
        if (gone.length > 0)
          when.push(`no ${gone.map((g) => `\`${g}\``).join(", ")} with ${v.label}`);
      }
    }
    const resource = `\`${rule.resource}\`${rule.names.length > 0 ? `, only ${rule.names.join(", ")}` : ""}`;
    const why = WHY[rule.key] + (when.length > 0 ? ` (${when.join("; ")})` : "");
    return `| ${SCOPE_LABEL[rule.scope]} | ${resource} | ${rule.verbs.join(", ")} | ${cell(why)} |`;
  });
  return ["| Scope | Resource | Verbs | Why |", "|-------|----------|-------|-----|", ...rows].join(
    "\n",
  );
}

export function renderReadme(chartDir) {
  const template = readFileSync(join(chartDir, "README.md.tmpl"), "utf8");
  if (!template.includes(MARKER)) throw new Error(`${chartDir}/README.md.tmpl lacks ${MARKER}`);
  if (!template.includes(PERMISSIONS_MARKER))
    throw new Error(`${chartDir}/README.md.tmpl lacks ${PERMISSIONS_MARKER}`);
  const table = valuesTable(readFileSync(join(chartDir, "values.yaml"), "utf8"));
  return template.replace(MARKER, table).replace(PERMISSIONS_MARKER, permissionsTable(chartDir));
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

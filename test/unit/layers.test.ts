// The layers of src/ (docs/architecture.md) are held by an eslint rule (eslint.config.js,
// import-x/no-restricted-paths). These tests prove the rule fails on each kind of forbidden import
// (a rule that never fires would hold nothing), passes the allowed ones, and is on, as an error,
// for every file of src/ in the repository's own config.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ESLint, type Linter } from "eslint";
import tseslint from "typescript-eslint";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const LAYER_RULES = ["import-x/no-restricted-paths", "import-x/no-unresolved"];

let eslint: ESLint;
let layers: { paths: string[] }[];

beforeAll(async () => {
  // The layer block alone (no type information: the rule needs none, and the test stays fast).
  const configPath = join(root, "eslint.config.js");
  const config = (await import(configPath)) as {
    layersConfig: Linter.Config;
    LAYERS: { paths: string[] }[];
  };
  const { layersConfig } = config;
  layers = config.LAYERS;
  eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ["**/*.ts"], languageOptions: { parser: tseslint.parser } },
      layersConfig,
    ],
  });
});

/** The layer rules' messages for `code` as if it were the file at `path`. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  const messages = result?.messages ?? [];
  // A parse error would leave the rule unrun and the test passing for the wrong reason.
  expect(messages.filter((m) => m.fatal === true)).toEqual([]);
  return messages
    .filter((m) => m.ruleId !== null && LAYER_RULES.includes(m.ruleId))
    .map((m) => m.message);
}

describe("the layer rule", () => {
  [
    {
      why: "report imports the controller",
      path: "src/report/pretty.ts",
      code: 'import type { RunDeps } from "../controller/run.js";\nexport type X = RunDeps;\n',
      says: "src/report and src/controller do not import each other",
    },
    {
      why: "the controller imports report",
      path: "src/controller/run.ts",
      code: 'import { formatSummary } from "../report/pretty.js";\nexport const f = formatSummary;\n',
      says: "src/controller and src/report do not import each other",
    },
    {
      why: "the agent re-exports from report",
      path: "src/agent/report.ts",
      code: 'export { Inventory } from "../report/inventory.js";\n',
      says: "src/agent and src/report do not import each other",
    },
    {
      why: "config imports the agent",
      path: "src/config/agent-options.ts",
      code: 'import { resolveNsenterTarget } from "../agent/nsenter-target.js";\nexport const r = resolveNsenterTarget;\n',
      says: "src/config is below src/agent",
    },
    {
      why: "the run model imports config (a type import counts too)",
      path: "src/run-model/run-header.ts",
      code: 'import type { RunConfig } from "../config/run-options.js";\nexport type X = RunConfig;\n',
      says: "src/run-model is below src/config",
    },
    {
      why: "kube imports a command lazily",
      path: "src/kube/clients.ts",
      code: 'export const load = () => import("../commands/compose-run.js");\n',
      says: "src/kube is below src/commands",
    },
    {
      why: "errors imports the run model",
      path: "src/errors.ts",
      code: 'import type { NodeResult } from "./run-model/node-result.js";\nexport type X = NodeResult;\n',
      says: "src/errors.ts is below src/run-model",
    },
    {
      why: "a command imports the CLI entry point",
      path: "src/commands/run.ts",
      code: 'import "../cli.js";\n',
      says: "src/commands is below src/cli.ts",
    },
    {
      why: "the crictl adapter imports the ctr adapter",
      path: "src/agent/crictl.ts",
      code: 'import { createCtrAdapter } from "./ctr.js";\nexport const c = createCtrAdapter;\n',
      says: "the runtime adapters do not import each other",
    },
    {
      why: "the product imports a test helper",
      path: "src/report/pretty.ts",
      code: 'import "../../test/unit/controller/fixtures.js";\n',
      says: "the product does not import its tests",
    },
  ].forEach((t) => {
    it(`fails when ${t.why}`, async () => {
      const errors = await layerErrors(t.path, t.code);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(t.says);
    });
  });

  it("fails on an import it cannot resolve (which it could not check)", async () => {
    const errors = await layerErrors(
      "src/report/pretty.ts",
      'import { gone } from "../controller/no-such-module.js";\nexport const g = gone;\n',
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Unable to resolve path to module/);
  });

  [
    { path: "src/report/pretty.ts", from: "../run-model/node-result.js" },
    { path: "src/controller/run.ts", from: "../kube/api.js" },
    { path: "src/agent/ctr.ts", from: "./ctr-parse.js" },
    { path: "src/commands/run.ts", from: "../controller/main.js" },
    { path: "src/commands/run.ts", from: "../report/run-reporter.js" },
    { path: "src/run-model/labels.ts", from: "../text/units.js" },
    { path: "src/config/run-options.ts", from: "../errors.js" },
  ].forEach((t) => {
    it(`lets ${t.path} import ${t.from}`, async () => {
      const code = `import * as m from "${t.from}";\nexport { m };\n`;
      expect(await layerErrors(t.path, code)).toEqual([]);
    });
  });

  it("places every folder and file at the top of src/ in a layer (one outside would be unchecked)", () => {
    const placed = new Set(layers.flatMap((l) => l.paths));
    const entries = readdirSync(join(root, "src")).map((name) => `src/${name}`);
    expect(entries.filter((e) => !placed.has(e))).toEqual([]);
    expect([...placed].filter((p) => !entries.includes(p))).toEqual([]);
  });

  it("holds for every file in src/ today", async () => {
    const results = await eslint.lintFiles(["src/**/*.ts"]);
    expect(results.length).toBeGreaterThan(90);
    // Only this block's rules: disable comments for the type-aware rules name rules not loaded here.
    const found = results.flatMap((r) =>
      r.messages
        .filter((m) => m.fatal === true || (m.ruleId !== null && LAYER_RULES.includes(m.ruleId)))
        .map((m) => `${r.filePath.slice(root.length + 1)}: ${m.message}`),
    );
    expect(found).toEqual([]);
  });

  it("is on, as an error, for src/ in the repository's eslint config", async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile(
      join(root, "src/report/pretty.ts"),
    )) as Linter.Config;
    for (const rule of LAYER_RULES) {
      const setting = config.rules?.[rule];
      expect(Array.isArray(setting) ? setting[0] : setting, rule).toBe(2);
    }
  });
});

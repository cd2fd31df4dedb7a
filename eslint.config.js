// @ts-check
import eslint from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * The layers of src/, lowest first (docs/architecture.md is their description). A module imports
 * from its own layer and the layers below it, never from one above. Folders of one `apart` layer
 * do not import each other either: what two of them share belongs lower down.
 */
export const LAYERS = [
  { paths: ["src/errors.ts", "src/log.ts", "src/text"] },
  { paths: ["src/run-model"] },
  { paths: ["src/config", "src/kube", "src/registry"] },
  { paths: ["src/controller", "src/report", "src/agent"], apart: true },
  { paths: ["src/commands"] },
  { paths: ["src/cli.ts"] },
];
const WHY = "see the layers in docs/architecture.md";

/** One zone per forbidden (importer, imported) pair, so the message names both. */
function layerZones() {
  const zones = [];
  LAYERS.forEach((layer, i) => {
    for (const target of layer.paths) {
      for (const above of LAYERS.slice(i + 1).flatMap((l) => l.paths)) {
        zones.push({
          target,
          from: above,
          message: `${target} is below ${above}: pass what it needs in, or move it down (${WHY}).`,
        });
      }
      if (layer.apart) {
        for (const sibling of layer.paths.filter((p) => p !== target)) {
          zones.push({
            target,
            from: sibling,
            message: `${target} and ${sibling} do not import each other: what both need goes to src/run-model or lower; the command composes them (${WHY}).`,
          });
        }
      }
    }
  });
  const adapters = ["src/agent/crictl.ts", "src/agent/ctr.ts"];
  for (const target of adapters) {
    for (const other of adapters.filter((a) => a !== target)) {
      zones.push({
        target,
        from: other,
        message: `the runtime adapters do not import each other: shared parsing lives in its own module (${WHY}).`,
      });
    }
  }
  zones.push({
    target: "src",
    from: ["test", "bench"],
    message: "the product does not import its tests or benchmarks.",
  });
  return zones;
}

/** The layer rule, exported for test/unit/layers.test.ts (which proves it fails on a violation). */
export const layersConfig = {
  files: ["src/**/*.ts"],
  plugins: { "import-x": importX },
  settings: {
    // NodeNext: `./x.js` in the source is `./x.ts` on disk.
    "import-x/resolver-next": [createNodeResolver({ extensionAlias: { ".js": [".ts", ".js"] } })],
  },
  rules: {
    "import-x/no-restricted-paths": [
      "error",
      { zones: layerZones(), basePath: import.meta.dirname },
    ],
    // no-restricted-paths skips a path the resolver cannot find: such a path is an error instead.
    "import-x/no-unresolved": "error",
  },
};

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bench/results/", "chart/", "coverage/"] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
    },
  },
  layersConfig,
  { files: ["**/*.js", "**/*.mjs", "**/*.cjs"], ...tseslint.configs.disableTypeChecked },
  // Plain scripts (image assembly, media rendering, the chart's helm-test check) run on Node.js.
  { files: ["**/*.mjs", "**/*.cjs"], languageOptions: { globals: globals.node } },
);

// `helm template` of one extra template in a copy of the chart: how the chart tests read what
// `helm template` does not render itself (NOTES.txt and the named templates it includes), with the
// values written to a file as `helm install -f` takes them. One helper for the tests that do this.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helm, KUBE_VERSION, REQUIRED_VALUES } from "../chart/helm.js";

/** The rendered `template` of `chart` (a copy) with `values` over the required ones: helm's stdout. */
export function renderTemplateOfCopy(
  chart: string,
  template: string,
  values: Record<string, unknown>,
  extraArgs: string[] = [],
): string {
  const dir = mkdtempSync(join(tmpdir(), "kic-copy-values-"));
  try {
    const file = join(dir, "values.json");
    writeFileSync(file, JSON.stringify({ ...REQUIRED_VALUES, ...values }));
    const r = helm([
      "template",
      "kic",
      chart,
      "--kube-version",
      KUBE_VERSION,
      "-f",
      file,
      "--show-only",
      template,
      ...extraArgs,
    ]);
    if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A vitest reporter that writes what summarise.mjs counts, as JSON, to the file given by
// `--outputFile.outcomes=<file>`. vitest's own JSON reporter cannot tell a test that never ran
// because its beforeAll failed from an `it.skip` (both are "skipped") and drops hook errors; this one
// keeps both: every test with its declared mode, its state and the failed hook that stopped it, and
// every suite or file error (failed hooks, a file that threw while loading).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import type { Reporter, TestModule, TestSuite, TestRunEndReason } from "vitest/node";
import type { Vitest } from "vitest/node";

/** The outcome file, one per vitest run. */
export interface Outcomes {
  reason: TestRunEndReason;
  tests: TestOutcome[];
  /** Errors of files and suites themselves (not of a test): failed hooks, load errors. */
  errors: HolderError[];
  unhandledErrors: string[];
}

export interface TestOutcome {
  name: string;
  /** Declared mode: "skip" and "todo" are skipped on purpose. */
  mode: string;
  state: string;
  /** Index into `errors` of the nearest failed file or suite around this test. */
  blockedBy?: number;
  /** The first line of a failed test's first error: what a CI log's last lines name. */
  error?: string;
}

export interface HolderError {
  where: string;
  message: string;
}

type Holder = TestModule | TestSuite;

export default class OutcomeReporter implements Reporter {
  private file = "";
  private root = process.cwd();

  onInit(vitest: Vitest): void {
    const out = vitest.config.outputFile;
    this.file = typeof out === "object" ? (out.outcomes ?? "") : "";
    this.root = vitest.config.root;
  }

  onTestRunEnd(
    modules: readonly TestModule[],
    unhandled: readonly { message?: string }[],
    reason: TestRunEndReason,
  ): void {
    if (this.file === "") return;
    const errors: HolderError[] = [];
    const indexOf = new Map<Holder, number>();
    const where = (h: Holder): string =>
      h.type === "module" ? relative(this.root, h.moduleId) : `${where(h.module)} > ${h.fullName}`;
    const record = (h: Holder): void => {
      const errs = h.errors();
      if (errs.length === 0) return;
      indexOf.set(h, errors.length);
      errors.push({ where: where(h), message: errs.map((e) => e.message).join("; ") });
    };
    const tests: TestOutcome[] = [];
    for (const m of modules) {
      record(m);
      for (const s of m.children.allSuites()) record(s);
      for (const t of m.children.allTests()) {
        let blockedBy: number | undefined;
        for (let p: Holder = t.parent; ; p = p.parent) {
          blockedBy = indexOf.get(p);
          if (blockedBy !== undefined || p.type === "module") break;
        }
        const result = t.result();
        const firstError = result.state === "failed" ? result.errors[0]?.message : undefined;
        tests.push({
          name: `${where(m)} > ${t.fullName}`,
          mode: t.options.mode,
          state: result.state,
          ...(blockedBy === undefined ? {} : { blockedBy }),
          ...(firstError === undefined ? {} : { error: firstError.split("\n")[0] }),
        });
      }
    }
    const outcomes: Outcomes = {
      reason,
      tests,
      errors,
      unhandledErrors: unhandled.map((e) => e.message ?? JSON.stringify(e)),
    };
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, JSON.stringify(outcomes, null, 1));
  }
}

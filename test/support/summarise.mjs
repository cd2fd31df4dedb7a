// The closing line of `npm test`: "N passed, N failed[, N skipped]" over every suite, from the
// outcome files test/support/outcome-reporter.ts wrote (one per vitest project).
//   node test/support/summarise.mjs <dir> unit integration-node integration-cluster e2e
// How it counts, so that the line is exact:
//   - each test counts once: passed, failed, or skipped (declared it.skip / it.todo, or skipped at
//     run time with nothing failed around it);
//   - a test that did not run because a hook around it failed (beforeAll) is failed, not skipped;
//   - an error of a file or suite that stopped no test (afterAll failed, a file that threw while
//     loading, a suite with no tests) is one failure; so is each unhandled error;
//   - a suite without an outcome file (its vitest run crashed or never started) is one failure.
// Every failure is named on its own line above the closing line (a failed test with the first line of
// its error), so the last lines of a CI log say what to look at.
// Exit status 1 when anything failed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * @param {Record<string, import("./outcome-reporter.ts").Outcomes | undefined>} suites
 * @returns {{ passed: number, failed: number, skipped: number, notes: string[] }}
 */
export function summarise(suites) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const notes = [];
  for (const [suite, outcomes] of Object.entries(suites)) {
    if (outcomes === undefined) {
      failed += 1;
      notes.push(
        `${suite}: no readable outcome file: the vitest run ended before writing it; counted as 1 failed`,
      );
      continue;
    }
    const blocked = new Map();
    for (const t of outcomes.tests) {
      if (t.state === "passed") passed += 1;
      else if (t.state === "failed") {
        failed += 1;
        notes.push(`${suite}: failed: ${t.name}` + (t.error ? `: ${t.error}` : ""));
      }
      else if (t.mode === "skip" || t.mode === "todo") skipped += 1;
      else if (t.blockedBy !== undefined) {
        failed += 1;
        blocked.set(t.blockedBy, (blocked.get(t.blockedBy) ?? 0) + 1);
      } else skipped += 1;
    }
    outcomes.errors.forEach((e, i) => {
      const n = blocked.get(i);
      if (n !== undefined) {
        notes.push(
          `${suite}: ${e.where}: ${n} test(s) did not run and count as failed: ${e.message}`,
        );
      } else {
        failed += 1;
        notes.push(
          `${suite}: ${e.where}: failed outside any test, counted as 1 failed: ${e.message}`,
        );
      }
    });
    for (const message of outcomes.unhandledErrors) {
      failed += 1;
      notes.push(`${suite}: unhandled error, counted as 1 failed: ${message}`);
    }
  }
  return { passed, failed, skipped, notes };
}

/** "N passed, N failed[, N skipped]" */
export function closingLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : "");
}

/** The outcome file, or undefined when it is missing or cut short (the run died while writing). */
function readOutcomes(file) {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // Half-written: as good as missing, and counted the same way.
    return undefined;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [dir, ...names] = process.argv.slice(2);
  if (dir === undefined || names.length === 0) {
    console.error("usage: summarise.mjs <outcome dir> <suite>...");
    process.exit(2);
  }
  const suites = {};
  for (const name of names) {
    const file = join(dir, `${name}.json`);
    suites[name] = readOutcomes(file);
  }
  const summary = summarise(suites);
  for (const note of summary.notes) console.log(note);
  console.log(closingLine(summary));
  process.exit(summary.failed > 0 ? 1 : 0);
}

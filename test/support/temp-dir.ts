// Temp dirs of a test file, removed when the file's tests are done: a test run leaves nothing in
// /tmp. Hooks, not a process exit handler: vitest ends its workers without running those.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/**
 * A new directory under the system temp dir, removed after the tests of the file (or of the
 * describe block) it is made in. Call it where hooks may be declared: at a file's top level or in
 * a describe callback, not inside a hook or a test.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

// The one way a file named by a flag is read: a file that cannot be read is a ConfigError naming
// the flag and the path, so the process stops before it acts on half of what it was given.
import { readFile } from "node:fs/promises";
import { ConfigError } from "../errors.js";

/** The file's text; ConfigError(`flag`, `path`, `allowed(err)`) when it cannot be read. */
export async function readFlagFile(
  flag: string,
  path: string,
  allowed: (err: NodeJS.ErrnoException) => string,
): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(flag, path, allowed(err as NodeJS.ErrnoException));
  }
}

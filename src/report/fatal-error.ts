// How an error that ends the process is shown, for every command alike: one line (plus, for bad
// input, one hint line naming the help to read), or with `--log-format json` one JSON record on
// stdout where the other records go. Never a stack trace for an OperatorError: its message is
// written for the operator. Anything else is a bug, and its stack is what a bug report needs.
import { ConfigError, KubeApiError, OperatorError, exitCodeFor, type ExitCode } from "../errors.js";
import { createLogger, type LogFormat } from "../log.js";
import { escapeControl } from "../text/escape.js";

export interface FatalOutput {
  format: LogFormat;
  /** `see kube-image-cleanup run --help`, shown after a ConfigError. */
  hint: string;
  stderr: (text: string) => void;
}

/** Writes `err` the way `out` asks and returns the exit code it maps to. */
export function reportFatal(err: unknown, out: FatalOutput): ExitCode {
  const code = exitCodeFor(err);
  // One line means one line: a message quoting a file or a value must not break it.
  const message = escapeControl(
    err instanceof OperatorError ? err.message : err instanceof Error ? err.message : String(err),
  );
  const hint = err instanceof ConfigError ? out.hint : undefined;
  if (out.format === "json") {
    const fields: Record<string, unknown> = { exitCode: code };
    if (err instanceof ConfigError) {
      Object.assign(fields, { key: err.key, given: err.given, allowed: err.allowed, hint });
    } else if (err instanceof KubeApiError) {
      Object.assign(fields, {
        verb: err.verb,
        resource: err.resource,
        namespace: err.namespace,
        status: err.status,
      });
    } else if (!(err instanceof OperatorError) && err instanceof Error) {
      fields.stack = err.stack;
    }
    createLogger("json").error(fields, message);
    return code;
  }
  out.stderr(`error: ${message}\n`);
  if (hint !== undefined) out.stderr(`${hint}\n`);
  if (!(err instanceof OperatorError) && err instanceof Error && err.stack) {
    out.stderr(`${err.stack}\n`);
  }
  return code;
}

// Typed errors, mapped to exit codes in one place (`exitCodeFor`), so every command agrees on what
// 0 / 1 / 2 mean:
//   0  everything asked for was done (also: nothing matched)
//   1  the run went through but some node or some deletion failed (data in the result, not thrown)
//   2  the run could not start: bad configuration, runtime or API server unreachable, forbidden

export type ExitCode = 0 | 1 | 2;

/** Base for errors whose message is written for the operator and ends the process with `exitCode`. */
export abstract class OperatorError extends Error {
  abstract readonly exitCode: ExitCode;
}

/** Invalid input: names the key, what was given and what is allowed. */
export class ConfigError extends OperatorError {
  readonly exitCode = 2;
  constructor(
    readonly key: string,
    readonly given: unknown,
    readonly allowed: string,
  ) {
    super(`invalid ${key}: ${describeGiven(given)}; ${allowed}`);
    this.name = "ConfigError";
  }
}

/** A container runtime, socket or client binary that cannot be used. */
export class RuntimeUnavailableError extends OperatorError {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "RuntimeUnavailableError";
  }
}

/** A Kubernetes API call that failed in a way that stops the run (unreachable, 401, 403). */
export class KubeApiError extends OperatorError {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly verb: string,
    readonly resource: string,
    readonly namespace: string | undefined,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof OperatorError) return err.exitCode;
  return 1;
}

function describeGiven(given: unknown): string {
  if (given === undefined) return "nothing was given";
  return `given ${JSON.stringify(given)}`;
}

// The options a kubectl user reaches for, with kubectl's names and short forms where they mean what
// kubectl means: -n/--namespace, -o/--output, -l/--selector (nodes), --request-timeout,
// --kubeconfig, --context. Declared once here and spread into the tables of run, list and report.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { oneOf, optionalString } from "./checks.js";
import { parseDuration } from "./duration.js";

/** `--output` names: the same word for the same thing in every command. */
export type OutputName = "table" | "json" | "yaml" | "csv";

/**
 * The name `run` and `report` used for their readable output before `table`: still taken (an
 * installed CronJob passes `--output=pretty`), read as `table`.
 */
export const OLD_TABLE_NAME = "pretty";

/** The old name of `table` as `table`; anything else as it is. */
export function tableIfOld(value: unknown): unknown {
  return value === OLD_TABLE_NAME ? "table" : value;
}

/** `-o/--output` with these choices; `table` is the default and the readable one. */
export function outputOption(choices: readonly OutputName[], describe: string): Options {
  return {
    alias: "o",
    choices: [...choices],
    default: "table",
    requiresArg: true,
    // Before yargs checks the choices, so the old name passes as what it now is.
    coerce: tableIfOld,
    describe,
  };
}

/**
 * Client timeout of one API request when none is given.
 * @default 60 s
 */
export const DEFAULT_REQUEST_TIMEOUT = "60s";

export const kubectlOptions = {
  kubeconfig: {
    type: "string",
    requiresArg: true,
    describe:
      "kubeconfig file (default: $KUBECONFIG, else the pod's service account, else ~/.kube/config)",
  },
  context: { type: "string", requiresArg: true, describe: "kubeconfig context to use" },
  "request-timeout": {
    type: "string",
    default: DEFAULT_REQUEST_TIMEOUT,
    requiresArg: true,
    describe:
      "how long to wait for the API server's answer to one request (30s, 2m); the pod watch is exempt: the server ends it itself",
  },
} as const satisfies Record<string, Options>;

/** `-n/--namespace`, described for the command at hand. */
export function namespaceOption(describe: string): Options {
  return { alias: "n", type: "string", requiresArg: true, describe };
}

/** `--request-timeout` in milliseconds; 0 (kubectl's "no timeout") is refused: a run must end. */
export function requestTimeoutMs(value: unknown): number {
  const text = optionalString("--request-timeout", value) ?? DEFAULT_REQUEST_TIMEOUT;
  const seconds = parseDuration("--request-timeout", text);
  if (seconds < 1) {
    throw new ConfigError(
      "--request-timeout",
      value,
      "give at least 1s, e.g. 30s or 2m (a request without a limit could hang the run for good)",
    );
  }
  return seconds * 1000;
}

/** What the kubectl options of a command say, checked. */
export interface KubectlConfig<O extends OutputName> {
  /** Undefined: the caller's default (the pod's namespace, the kubeconfig context's). */
  namespace: string | undefined;
  output: O;
  kubeconfig: string | undefined;
  context: string | undefined;
  requestTimeoutMs: number;
}

/** The kubectl options of parsed arguments, `--output` one of `outputs`; throws ConfigError. */
export function loadKubectlConfig<O extends OutputName>(
  args: Record<string, unknown>,
  outputs: readonly O[],
): KubectlConfig<O> {
  return {
    namespace: optionalString("--namespace", args.namespace),
    output: oneOf("--output", tableIfOld(args.output ?? "table"), outputs),
    kubeconfig: optionalString("--kubeconfig", args.kubeconfig),
    context: optionalString("--context", args.context),
    requestTimeoutMs: requestTimeoutMs(args["request-timeout"]),
  };
}

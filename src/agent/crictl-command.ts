// crictl's command line against one socket, for every crictl call of the agent (the adapter's and
// pre-pull's): both endpoints named (crictl would otherwise probe its default sockets and warn) and
// a timeout of the caller's (crictl's own default, 2 s, is too short for real work).
import type { HostExec } from "./host-exec.js";

/** A builder of `program --runtime-endpoint ... --image-endpoint ... --timeout T <args>`. */
export function crictlCommand(
  program: string,
  socket: string,
  timeout: string,
): (...args: string[]) => string[] {
  const endpoint = `unix://${socket}`;
  return (...args) => [
    program,
    "--runtime-endpoint",
    endpoint,
    "--image-endpoint",
    endpoint,
    "--timeout",
    timeout,
    ...args,
  ];
}

/** Where a crictl client's calls go, and its command line. */
export interface CrictlTarget {
  exec: HostExec;
  socket: string;
  /** crictl on PATH, or a path to it (RKE2 keeps it off PATH: see client-locations.ts). */
  program: string;
  argv: (...args: string[]) => string[];
}

/**
 * A crictl client's constructor, `(exec, socket, program = "crictl")`, whose calls all carry
 * `timeout`: the adapter's (inventory, removal) and pre-pull's.
 */
export function crictlClient<T>(
  timeout: string,
  build: (target: CrictlTarget) => T,
): (exec: HostExec, socket: string, program?: string) => T {
  return (exec, socket, program = "crictl") =>
    build({ exec, socket, program, argv: crictlCommand(program, socket, timeout) });
}

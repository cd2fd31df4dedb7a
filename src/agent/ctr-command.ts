// ctr's command line against one socket and namespace, for every ctr call of the agent (the
// adapter's and the usage reader's), as crictl-command.ts is for crictl.
import { runChecked, type HostExec } from "./host-exec.js";

/** A builder of `program --address SOCKET --namespace NS <args>`. */
export function ctrCommand(
  program: string,
  socket: string,
  namespace: string,
): (...args: string[]) => string[] {
  return (...args) => [program, "--address", socket, "--namespace", namespace, ...args];
}

export interface CtrCalls {
  argv: (...args: string[]) => string[];
  run: (...args: string[]) => Promise<string>;
}

/**
 * The ctr calls of one socket and namespace: `argv` builds a command line, `run` runs one and
 * returns its output (a non-zero exit throws CommandFailedError).
 */
export function ctrCalls(
  exec: HostExec,
  program: string,
  socket: string,
  namespace: string,
): CtrCalls {
  const argv = ctrCommand(program, socket, namespace);
  return { argv, run: (...args) => runChecked(exec, argv(...args)) };
}

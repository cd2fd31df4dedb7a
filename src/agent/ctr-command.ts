// ctr's command line against one socket and namespace, for every ctr call of the agent (the
// adapter's and the usage reader's), as crictl-command.ts is for crictl.

/** A builder of `program --address SOCKET --namespace NS <args>`. */
export function ctrCommand(
  program: string,
  socket: string,
  namespace: string,
): (...args: string[]) => string[] {
  return (...args) => [program, "--address", socket, "--namespace", namespace, ...args];
}

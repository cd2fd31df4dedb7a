// crictl's command line against one socket, for every crictl call of the agent (the adapter's and
// pre-pull's): both endpoints named (crictl would otherwise probe its default sockets and warn) and
// a timeout of the caller's (crictl's own default, 2 s, is too short for real work).

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

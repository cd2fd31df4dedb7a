// The handler of a command that runs against the cluster (`run`, `pull`): its config is loaded, and
// a bad one refused, before compose-run.ts is imported: that brings in the Kubernetes client
// (~75 MB), which neither a usage error nor the agent (the same binary) should pay for.
type ComposeRun = typeof import("./compose-run.js");

export function composedHandler<C>(
  load: (args: Record<string, unknown>) => C,
  run: (compose: ComposeRun, config: C) => Promise<number>,
): (args: Record<string, unknown>) => Promise<number> {
  return async (args) => {
    const config = load(args);
    return run(await import("./compose-run.js"), config);
  };
}

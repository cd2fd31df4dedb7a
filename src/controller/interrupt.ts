// SIGTERM (the Job is deleted or hits its deadline; the kubelet gives terminationGracePeriodSeconds)
// and SIGINT (Ctrl-C): the first one aborts the run, which then stops starting nodes, deletes the
// helper pods it created and prints a partial summary. A second one exits at once.

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function interruptOnSignals(
  onFirst: (signal: NodeJS.Signals) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): Interrupt {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`${signal} again: exiting without deleting the remaining helper pods\n`);
      exit(1);
      return;
    }
    onFirst(signal);
    controller.abort(signal);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
    },
  };
}

import type { CommandModule } from "yargs";

/** A command whose handler resolves to the process exit code. */
export type ExitingCommand = Omit<CommandModule, "handler"> & {
  handler: (args: Record<string, unknown>) => Promise<number>;
};

export const commands: ExitingCommand[] = [];
commands.push((await import("./agent.js")).agentCommand);
commands.push((await import("./run.js")).runCommand);
commands.push((await import("./schedule.js")).scheduleCommand);

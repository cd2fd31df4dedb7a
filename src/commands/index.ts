import type { CommandModule, Options } from "yargs";
import type { CommandLine } from "../config/command-line.js";

/** A command whose handler resolves to the process exit code. */
export type ExitingCommand = Omit<CommandModule, "handler" | "command"> & {
  command: string;
  /** Its positional arguments in yargs' syntax, e.g. `[image..]`. */
  positional?: string;
  /** The option table its builder declares (for "did you mean" and booleans in error messages). */
  options: Readonly<Record<string, Options>>;
  /** `line`: the command line as typed, for checks the option table cannot express. */
  handler: (args: Record<string, unknown>, line?: CommandLine) => Promise<number>;
};

export const commands: ExitingCommand[] = [];
commands.push((await import("./agent.js")).agentCommand);
commands.push((await import("./run.js")).runCommand);
commands.push((await import("./schedule.js")).scheduleCommand);
commands.push((await import("./report.js")).reportCommand);
commands.push((await import("./list.js")).listCommand);
commands.push((await import("./pull.js")).pullCommand);

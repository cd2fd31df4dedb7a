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

/**
 * The commands yargs is told about, in the order `--help` lists them. Only `agent` when the command
 * line starts with it: every helper pod starts one, on every node of every run, and the other
 * commands' modules (their option tables, `run`'s and `list`'s checks) are a third of its start.
 */
export async function loadCommands(argv: readonly string[] = []): Promise<ExitingCommand[]> {
  if (argv[0] === "agent") return [(await import("./agent.js")).agentCommand];
  return [
    (await import("./agent.js")).agentCommand,
    (await import("./run.js")).runCommand,
    (await import("./schedule.js")).scheduleCommand,
    (await import("./report.js")).reportCommand,
    (await import("./list.js")).listCommand,
    (await import("./pull.js")).pullCommand,
  ];
}

import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.js";
import { closest } from "../../../src/config/closest.js";
import { readCommandLine } from "../../../src/config/command-line.js";
import {
  attributeToEnv,
  envName,
  usageError,
  type UsageContext,
} from "../../../src/config/usage-errors.js";

function context(argv: string[], env: NodeJS.ProcessEnv = {}): UsageContext {
  const line = readCommandLine(
    argv,
    [{ command: "run", options: { include: { type: "string" }, "dry-run": { type: "boolean" } } }],
    env,
  );
  return {
    command: line.command,
    commands: ["agent", "run", "schedule"],
    options: ["include", "exclude", "dry-run", "client"],
    onCommandLine: line.all,
    noCommandMessage: "no command given",
    env,
  };
}

describe("usageError: yargs' failure sentences as ConfigErrors", () => {
  [
    {
      yargs: "Unknown argument: inclde",
      argv: ["run", "--inclde", "x"],
      message: 'invalid --inclde: given "x"; not an option of run; did you mean --include?',
    },
    {
      yargs: "Unknown arguments: include, rn",
      argv: ["rn", "--include", "x"],
      message: 'invalid command: given "rn"; use one of agent, run, schedule (did you mean run?)',
    },
    {
      yargs: "Unknown argument: extra",
      argv: ["run", "extra"],
      message: /^invalid arguments: given "extra"; run takes no positional arguments/,
    },
    {
      yargs:
        'Invalid values:\n  Argument: client, Given: "docker", Choices: "auto", "crictl", "ctr"',
      argv: ["run", "--client", "docker"],
      message: 'invalid --client: given "docker"; use one of auto, crictl, ctr',
    },
    {
      yargs: "Not enough arguments following: include",
      argv: ["run", "--include"],
      message: "invalid --include: nothing was given; give a value after --include",
    },
    {
      yargs: "Missing required argument: cron",
      argv: ["schedule"],
      message: "invalid --cron: nothing was given; --cron is required (or KIC_CRON)",
    },
    {
      yargs: "no command given",
      argv: [],
      message: "invalid command: nothing was given; choose one of agent, run, schedule",
    },
    {
      yargs: "Something new yargs says\nover two lines",
      argv: ["run"],
      message: "invalid arguments: nothing was given; Something new yargs says",
    },
  ].forEach((t) => {
    it(`maps "${t.yargs.split("\n")[0]}"`, () => {
      const err = usageError(t.yargs, context(t.argv));
      expect(err).toBeInstanceOf(ConfigError);
      if (typeof t.message === "string") expect(err.message).toBe(t.message);
      else expect(err.message).toMatch(t.message);
    });
  });

  it("names the KIC_ variable when the value came from the environment", () => {
    const env = { KIC_CLIENT: "docker", KIC_DRYRUN: "true" };
    expect(
      usageError(
        'Invalid values:\n  Argument: client, Given: "docker", Choices: "auto"',
        context(["run"], env),
      ).message,
    ).toBe('invalid KIC_CLIENT: given "docker"; use one of auto');
    expect(usageError("Unknown argument: dryrun", context(["run"], env)).message).toBe(
      'invalid KIC_DRYRUN: given "true"; not an option of run; did you mean KIC_DRY_RUN?',
    );
  });

  it("names the flag when it was typed, even if the variable is set too", () => {
    const err = attributeToEnv(
      new ConfigError("--client", "x", "use one of auto"),
      context(["run", "--client", "x"], { KIC_CLIENT: "y" }),
    );
    expect((err as ConfigError).key).toBe("--client");
  });

  it("renames a loader's ConfigError to the variable, keeping a sub-key", () => {
    const err = attributeToEnv(
      new ConfigError("--helper-tolerations operator", "Maybe", "use one of Exists, Equal"),
      context(["run"], { KIC_HELPER_TOLERATIONS: '[{"operator":"Maybe"}]' }),
    );
    expect((err as ConfigError).message).toBe(
      'invalid KIC_HELPER_TOLERATIONS operator: given "Maybe"; use one of Exists, Equal',
    );
  });

  it("spells variables as yargs' .env('KIC') reads them", () => {
    expect(envName("node-timeout")).toBe("KIC_NODE_TIMEOUT");
    expect(envName("nodeTimeout")).toBe("KIC_NODE_TIMEOUT");
  });
});

describe("readCommandLine", () => {
  it("takes the log format from after schedule's --, then before it, then KIC_LOG_FORMAT", () => {
    const commands = [{ command: "schedule", options: {} }];
    expect(
      readCommandLine(["schedule", "--", "run", "--log-format", "json"], commands).logFormat,
    ).toBe("json");
    expect(readCommandLine(["run", "--log-format=json"], commands).logFormat).toBe("json");
    expect(readCommandLine(["run"], commands, { KIC_LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(readCommandLine(["run", "--log-format", "xml"], commands).logFormat).toBe("pretty");
  });

  it("keeps schedule's own keys apart from the run's after --", () => {
    const line = readCommandLine(
      ["schedule", "--cron", "* * * * *", "--", "run", "--dry-run"],
      [
        { command: "schedule", options: {} },
        { command: "run", options: { "dry-run": { type: "boolean" } } },
      ],
    );
    expect(line.command).toBe("schedule");
    expect("dry-run" in line.outer).toBe(false);
    expect(line.all["dry-run"]).toBe(true);
  });
});

describe("closest", () => {
  [
    { word: "inclde", candidates: ["include", "exclude"], want: "include" },
    { word: "dry", candidates: ["dry-run", "client"], want: "dry-run" },
    { word: "rn", candidates: ["agent", "run", "schedule"], want: "run" },
    { word: "frobnicate", candidates: ["agent", "run", "schedule"], want: undefined },
    { word: "node", candidates: ["nodes", "node-selector", "node-timeout"], want: "nodes" },
  ].forEach((t) => {
    it(`suggests ${String(t.want)} for ${t.word}`, () => {
      expect(closest(t.word, t.candidates)).toBe(t.want);
    });
  });
});

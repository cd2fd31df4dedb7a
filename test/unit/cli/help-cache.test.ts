// The agent's start does not render the help text it never prints (src/commands/help-cache.ts): a
// real yargs parser with one command, its help renders counted while the command runs.
import yargs from "yargs";
import { describe, expect, it } from "vitest";
import { skipHelpCache } from "../../../src/commands/help-cache.js";

type Usage = { help: () => string };
const usageOf = (parser: object): Usage =>
  (parser as { getInternalMethods: () => { getUsageInstance: () => Usage } })
    .getInternalMethods()
    .getUsageInstance();

/** Runs `work --n 1` through a parser like the CLI's; how often the help text was rendered. */
async function rendersWhileRunning(skip: boolean): Promise<{ renders: number; ran: boolean }> {
  let ran = false;
  const parser = yargs(["work", "--n", "1"])
    .strict()
    .help()
    .command({
      command: "work",
      describe: "does the work",
      builder: (y) => y.option("n", { type: "number", describe: "how many" }),
      handler: async () => {
        await Promise.resolve();
        ran = true;
      },
    });
  const usage = usageOf(parser);
  const help = usage.help.bind(usage);
  let renders = 0;
  usage.help = () => {
    renders++;
    return help();
  };
  if (skip) expect(skipHelpCache(parser)).toBe(true);
  await parser.parseAsync();
  return { renders, ran };
}

describe("the help text while a command runs", () => {
  it("is rendered by yargs after starting the handler when nothing turns that off", async () => {
    // If this fails, yargs changed how it caches help: skipHelpCache may no longer do anything.
    expect(await rendersWhileRunning(false)).toEqual({ renders: 1, ran: true });
  });

  it("is not rendered with the cache turned off; the command runs all the same", async () => {
    expect(await rendersWhileRunning(true)).toEqual({ renders: 0, ran: true });
  });

  it("is still printed for --help", async () => {
    let out = "";
    const parser = yargs()
      .help()
      .exitProcess(false)
      .command("work", "does the work", (y) => y.option("n", { describe: "how many" }))
      .showHelpOnFail(false);
    skipHelpCache(parser);
    await parser.parseAsync(["--help"], {}, (_err, _argv, output) => {
      out = output;
    });
    expect(out).toContain("does the work");
  });
});

// The CLI run as a separate process, the way the helper pod runs it: from source through
// vite-node (no build needed), or the built dist/cli.js spawned with node (it answers signals
// itself, as in the pod). KUBERNETES_SERVICE_HOST is emptied in both: a test machine inside a pod
// must not make the CLI reach for that cluster.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { buildCliInTemp, removeBuiltCli } from "./built-cli.js";
import { binDir } from "./containerd.js";

export const repoRoot = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);

export interface CliOutcome {
  /** The exit code; -1 when the process had none (killed). */
  code: number;
  stdout: string;
  stderr: string;
}

/** `agent --socket <socket> --host-exec <hostExec>`, then `rest`: the argv the helper pod gets. */
export function agentArgv(socket: string, hostExec: string, ...rest: string[]): string[] {
  return ["agent", "--socket", socket, "--host-exec", hostExec, ...rest];
}

/**
 * Runs src/cli.ts with `args` from the repository root; `env` over the test's own environment.
 * Never throws on a non-zero exit: the outcome says how it ended.
 */
export async function cliFromSource(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliOutcome> {
  try {
    const r = await run(
      join(repoRoot, "node_modules/.bin/vite-node"),
      [join(repoRoot, "src/cli.ts"), "--", ...args],
      { cwd: repoRoot, env: { ...process.env, KUBERNETES_SERVICE_HOST: "", ...env } },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

export interface SpawnedAgent {
  readonly child: ChildProcess & { stdout: NodeJS.ReadableStream };
  /** Everything the agent printed on stdout so far. */
  readonly stdout: () => string;
}

/**
 * Spawns the built CLI `cli` as the agent in direct mode on `socket` with `client`, JSON log lines,
 * deleting what matches `<prefix>/**`; `more` after those.
 */
export function spawnBuiltAgent(
  cli: string,
  socket: string,
  client: string,
  prefix: string,
  ...more: string[]
): SpawnedAgent {
  const args = agentArgv(socket, "direct", "--client", client, "--log-format", "json");
  const child = spawn(process.execPath, [cli, ...args, "--include", `${prefix}/**`, ...more], {
    env: { ...process.env, KUBERNETES_SERVICE_HOST: "" },
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  return { child, stdout: () => stdout };
}

/**
 * The agent from source with crictl and no ctr (a node whose image ships only crictl): a PATH of
 * node and crictl only, made under `dir`, direct host exec on `socket`; `args` after those.
 */
export function agentWithCrictlOnly(
  socket: string,
  dir: string,
  ...args: string[]
): Promise<CliOutcome> {
  const bin = join(dir, `crictl-only-${randomBytes(4).toString("hex")}`);
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, "node"));
  symlinkSync(join(binDir, "crictl"), join(bin, "crictl"));
  return cliFromSource(agentArgv(socket, "direct", "--client", "crictl", ...args), { PATH: bin });
}

/**
 * The built CLI (built-cli.ts) for the tests of the file or describe block this is called in:
 * compiled before them, removed after. Returns its getter: the path of its dist/cli.js.
 */
export function builtCli(): () => string {
  let cli = "";
  beforeAll(() => {
    cli = buildCliInTemp();
  });
  afterAll(() => {
    removeBuiltCli(cli);
  });
  return () => cli;
}

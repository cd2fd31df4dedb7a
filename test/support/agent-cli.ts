// The CLI run as a separate process, the way the helper pod runs it: from source through
// vite-node (no build needed), or the built dist/cli.js spawned with node (it answers signals
// itself, as in the pod). KUBERNETES_SERVICE_HOST is emptied in both: a test machine inside a pod
// must not make the CLI reach for that cluster.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

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

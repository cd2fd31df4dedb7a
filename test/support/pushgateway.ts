// A real Prometheus Pushgateway (Debian package prometheus-pushgateway, installed by
// test/cluster/install-deps.sh) on loopback and a free port, for the metrics sink's tests.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PUSHGATEWAY_BIN = "/usr/bin/prometheus-pushgateway";

export interface Pushgateway {
  url: string;
  /** The text of /metrics. */
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

export async function startPushgateway(): Promise<Pushgateway> {
  if (!existsSync(PUSHGATEWAY_BIN))
    throw new Error(
      `${PUSHGATEWAY_BIN} is missing: run test/cluster/install-deps.sh (Debian package prometheus-pushgateway)`,
    );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "kic-pushgateway-"));
  let log = "";
  const child: ChildProcess = spawn(
    PUSHGATEWAY_BIN,
    // Memory only: Debian's build persists to /var/lib/prometheus/pushgateway.data by default, a
    // file every gateway started here would load (another test's, another checkout's groups) and
    // write back on exit.
    [`--web.listen-address=127.0.0.1:${port}`, "--log.level=warn", "--persistence.file="],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pushgateway exited: ${log}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`pushgateway not ready on ${url} within 15 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    scrape: async () => {
      const res = await fetch(`${url}/metrics`);
      return res.text();
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

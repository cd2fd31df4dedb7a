// docs/docker-host.md's Docker host line, run: the image the Dockerfile builds (test/cluster/images.sh, as
// built-image.test.ts uses it), loaded into a real Docker Engine (Debian's dockerd 20.10 in temp
// dirs, test/support/dockerd.ts) and started with `docker run` as docs/docker-host.md's systemd unit starts
// it: the Engine's socket at /var/run/docker.sock, the image store read-only at its own path, root,
// no network, `schedule ... -- agent --client docker`. It cleans the Engine it runs on, and
// `docker stop` ends it cleanly. Only the host's socket path differs (the test's own Engine).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Scratch, uniqueToken } from "../../support/containerd.js";
import {
  scheduleDockerAgentNow,
  startDockerd,
  type StandaloneDockerd,
} from "../../support/dockerd.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const run = promisify(execFile);
const IMAGE = "kube-image-cleanup:dev";

let dockerd: StandaloneDockerd | undefined;
let scratch: Scratch | undefined;
let work = "";

/**
 * The OCI archive with Docker's manifest.json added over the same blobs: Docker Engine before 25
 * loads only that format (it inflates the gzip layers itself).
 */
async function dockerLoadable(archive: string, dir: string): Promise<string> {
  const layout = join(dir, "layout");
  mkdirSync(layout, { recursive: true });
  // Asynchronous: ~100 MB, and a blocked test worker misses vitest's RPC deadline on a busy machine.
  await run("tar", ["-xf", archive, "-C", layout]);
  const blob = (digest: string) => join(layout, "blobs", "sha256", digest.replace(/^sha256:/, ""));
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string }[];
  };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]?.digest ?? "?"), "utf8")) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const path = (digest: string) => `blobs/sha256/${digest.replace(/^sha256:/, "")}`;
  writeFileSync(
    join(layout, "manifest.json"),
    JSON.stringify([
      {
        Config: path(manifest.config.digest),
        RepoTags: [IMAGE],
        Layers: manifest.layers.map((l) => path(l.digest)),
      },
    ]),
  );
  const out = join(dir, "app-docker.tar");
  await run("tar", ["-cf", out, "-C", layout, "."]);
  rmSync(layout, { recursive: true, force: true });
  return out;
}

beforeAll(async () => {
  // Builds the Dockerfile unless an archive of exactly this source tree exists (built-image.test.ts
  // uses the same one).
  const { stdout } = await run("bash", [join(repoRoot, "test/cluster/images.sh"), "--archive"], {
    maxBuffer: 16 * 1024 * 1024,
  });
  work = mkdtempSync(join(tmpdir(), "kic-docker-host-"));
  const engine = await startDockerd();
  dockerd = engine;
  scratch = new Scratch(engine.socket, engine.store);
  await engine.load(await dockerLoadable(stdout.trim(), work));
}, 1_800_000);

afterAll(() => {
  dockerd?.removeContainers();
  scratch?.cleanup();
  dockerd?.stop();
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("the image on a Docker host, as docs/docker-host.md's systemd unit runs it", () => {
  it("schedule -- agent --client docker in a container cleans the Engine it runs on, and stops cleanly", async () => {
    if (dockerd === undefined || scratch === undefined) throw new Error("set-up failed");
    const engine = dockerd;
    const images = scratch;
    const prefix = `docker.io/kic-docker-host/${uniqueToken()}`;
    const old = images.image(`${prefix}/ci:1`);
    const fresh = images.image(`${prefix}/ci:2`);
    // Pulled two days ago, as the image store records it.
    const record = join(engine.dataRoot, "image", "overlay2", "imagedb/content/sha256");
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(join(record, old.id.slice(7)), twoDaysAgo, twoDaysAgo);
    const name = `kic-host-${uniqueToken()}`;
    const imageStore = join(engine.dataRoot, "image");

    // docs/docker-host.md's line, with this Engine's socket and data root as the host's.
    engine.docker([
      "run",
      "--detach",
      "--name",
      name,
      "--network",
      "none",
      "--user",
      "0:0",
      "--volume",
      `${engine.socket}:/var/run/docker.sock`,
      "--volume",
      `${imageStore}:${imageStore}:ro`,
      IMAGE,
      ...scheduleDockerAgentNow,
      "--include",
      `${prefix}/**`,
      "--min-age",
      "1d",
    ]);
    try {
      const logs = () => engine.docker(["logs", name]);
      const deadline = Date.now() + 120_000;
      while (!logs().includes('"agent result"') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 500));
      engine.docker(["stop", "--time", "60", name]);
      const out = logs();

      expect(out).toMatch(/^note: scheduled: 0 3 1 1 \*; next run /m);
      expect(out).toMatch(
        /^node \S+: docker .* via docker, socket \/var\/run\/docker\.sock, host-exec direct$/m,
      );
      expect(out).toMatch(new RegExp(`^deleted ${prefix.replace("docker.io/", "")}/ci:1 `, "m"));
      expect(engine.docker(["inspect", "--format", "{{.State.ExitCode}}", name]).trim()).toBe("0");
      const left = new Set(engine.store.refs());
      expect(left.has(old.id)).toBe(false);
      // Pulled a moment ago: --min-age keeps it.
      expect(left.has(fresh.id)).toBe(true);
      // The agent's own image is in use by its own container, and stays.
      expect([...left].some((r) => r.includes(IMAGE))).toBe(true);
    } finally {
      engine.docker(["rm", "--force", name]);
    }
  });
});

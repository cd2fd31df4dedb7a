// The real containerd the agent's integration tests run against: the project's own instance
// (test/cluster/containerd.sh, CRI plugin on, locally built pause image as sandbox image), plus
// helpers to build and import test images and to make real sandboxes and containers with crictl
// and ctr. Everything a test creates is recorded in a `Scratch` and removed by `cleanup()`.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDir } from "./cluster.js";

const repoRoot = join(import.meta.dirname, "..", "..");
export const binDir = join(cacheDir, "bin");
export const containerdRoot = join(cacheDir, "cluster", "containerd", "root");
export const PAUSE_IMAGE = "registry.k8s.io/pause:kic";
const pauseArchive = join(cacheDir, "images", "pause.tar");

/** Starts the project's containerd if needed (idempotent) and returns its socket. */
export function ensureContainerd(): string {
  return execFileSync("bash", [join(repoRoot, "test/cluster/containerd.sh"), "start"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/** PATH with the pinned crictl first, as the agent sees it in the tests. */
export const pathWithBins = `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;

export function crictl(socket: string, args: string[]): string {
  const endpoint = `unix://${socket}`;
  return execFileSync(
    join(binDir, "crictl"),
    ["--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "60s", ...args],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
}

export function ctr(socket: string, args: string[]): string {
  return execFileSync("ctr", ["--address", socket, "--namespace", "k8s.io", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export interface BuiltImage {
  name: string;
  /** Config digest = CRI image id. */
  id: string;
  manifest: string;
  /** Manifest + config + layers, bytes. */
  size: number;
}

/** A short random token: unique names per test run, so re-runs never meet leftovers. */
export function uniqueToken(): string {
  return randomBytes(4).toString("hex");
}

/** Every content blob (manifest, config, layers) of an image with its size on disk. */
export function blobsOf(
  socket: string,
  manifestDigest: string,
): { digest: string; bytes: number }[] {
  const manifest = JSON.parse(ctr(socket, ["content", "get", manifestDigest])) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  return [manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)].map(
    (digest) => ({
      digest,
      bytes: blobBytes(digest) ?? 0,
    }),
  );
}

/** Size of a blob file in the content store, undefined when it is gone. */
export function blobBytes(digest: string): number | undefined {
  const file = join(
    containerdRoot,
    "io.containerd.content.v1.content",
    "blobs",
    "sha256",
    digest.replace(/^sha256:/, ""),
  );
  return existsSync(file) ? statSync(file).size : undefined;
}

/** Image references currently in the k8s.io namespace. */
export function imageRefs(socket: string): string[] {
  return ctr(socket, ["images", "ls", "-q"]).split("\n").filter(Boolean);
}

/** Creates things in containerd and removes them again, whatever state a failed test left. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), "kic-agent-it-"));
  private readonly refs = new Set<string>();
  private readonly sandboxes: string[] = [];
  private readonly ctrContainers: string[] = [];

  constructor(readonly socket: string) {}

  /**
   * Builds an OCI archive (test/cluster/oci-image.mjs) and imports it. Without `busybox` the image
   * is only its salt layer: content no other image shares, so deleting it frees exactly `size`.
   */
  image(name: string, opts: { busybox?: boolean; pad?: number } = {}): BuiltImage {
    const out = join(this.dir, `${uniqueToken()}.tar`);
    const args = [join(repoRoot, "test/cluster/oci-image.mjs"), "--name", name, "--out", out];
    args.push("--salt", `${name}-${uniqueToken()}`, "--pad", String(opts.pad ?? 65_536));
    if (opts.busybox) args.push("--busybox", "--cmd", '["sleep","3600"]');
    const built = JSON.parse(execFileSync("node", args, { encoding: "utf8" })) as BuiltImage;
    this.refs.add(name);
    this.refs.add(built.id);
    ctr(this.socket, ["images", "import", out]);
    rmSync(out);
    return built;
  }

  /** Adds another name to an image (ctr images tag). */
  tag(source: string, target: string): void {
    this.refs.add(target);
    ctr(this.socket, ["images", "tag", "--force", source, target]);
  }

  /** A running CRI pod sandbox on the host network (no CNI needed); returns its id. */
  sandbox(name: string): string {
    const config = join(this.dir, `pod-${name}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        metadata: { name, namespace: "kic-agent-it", uid: `${name}-uid`, attempt: 0 },
        linux: { security_context: { namespace_options: { network: 2 } } },
      }),
    );
    const id = crictl(this.socket, ["runp", config]).trim();
    this.sandboxes.push(id);
    return id;
  }

  /** A CRI container in `sandboxId`: created, running (sleep) or exited (true). */
  criContainer(
    sandboxId: string,
    name: string,
    image: string,
    state: "created" | "running" | "exited",
  ): string {
    const pod = join(this.dir, `pod-for-${name}.json`);
    writeFileSync(
      pod,
      JSON.stringify({
        metadata: { name: `p-${name}`, namespace: "kic-agent-it", uid: "u", attempt: 0 },
      }),
    );
    const config = join(this.dir, `container-${name}.json`);
    const command = state === "exited" ? ["true"] : ["sleep", "3600"];
    writeFileSync(
      config,
      JSON.stringify({ metadata: { name }, image: { image }, command, linux: {} }),
    );
    const id = crictl(this.socket, ["create", sandboxId, config, pod]).trim();
    if (state !== "created") crictl(this.socket, ["start", id]);
    if (state === "exited")
      waitFor(
        () =>
          crictl(this.socket, [
            "inspect",
            "-o",
            "go-template",
            "--template",
            "{{.status.state}}",
            id,
          ]).trim() === "CONTAINER_EXITED",
      );
    return id;
  }

  /** A container made with ctr directly: created (no task), running (task), or exited (task gone). */
  ctrContainer(id: string, image: string, state: "created" | "running" | "exited"): string {
    this.ctrContainers.push(id);
    if (state === "created") ctr(this.socket, ["containers", "create", image, id, "sleep", "3600"]);
    else if (state === "running") ctr(this.socket, ["run", "-d", image, id, "sleep", "3600"]);
    else ctr(this.socket, ["run", image, id, "true"]);
    return id;
  }

  cleanup(): void {
    for (const id of this.ctrContainers) {
      quiet(() => ctr(this.socket, ["tasks", "kill", "-s", "KILL", id]));
      quiet(() => ctr(this.socket, ["tasks", "rm", "-f", id]));
      quiet(() => ctr(this.socket, ["containers", "rm", id]));
    }
    for (const id of this.sandboxes) {
      quiet(() => crictl(this.socket, ["stopp", id]));
      quiet(() => crictl(this.socket, ["rmp", "-f", id]));
    }
    const present = new Set(imageRefs(this.socket));
    const mine = [...this.refs].filter((r) => present.has(r));
    if (mine.length > 0) quiet(() => ctr(this.socket, ["images", "rm", "--sync", ...mine]));
    // A test that fails the wrong way may have deleted the cluster's sandbox image: put it back.
    if (!imageRefs(this.socket).includes(PAUSE_IMAGE))
      ctr(this.socket, ["images", "import", pauseArchive]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function quiet(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // Cleanup of something already gone (or never made because the test failed earlier).
  }
}

export function waitFor(check: () => boolean, timeoutMs = 30_000): void {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting for a condition");
    execFileSync("sleep", ["0.2"]);
  }
}

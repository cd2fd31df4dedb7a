// The image the Dockerfile builds, built by a real builder (buildah, test/cluster/images.sh) and run
// by a real runtime (a private containerd 1.6 + runc, like the local cluster's node). This is the
// image the integration and e2e suites and the demo run; here it is checked for what a user of the
// published image relies on: the entrypoint and user, the runtime clients in it, and what it must
// not carry. Prints its size (docs/image.md's numbers come from this test's output).
//
// Needs no cluster (and so no cluster lock): images.sh --archive only builds, and the containerd here
// is the test's own. Cold, the build takes minutes (buildah, 2 cores); warm, it is a cache hit.
import { execFile, execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createGunzip } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAgentResult } from "../../../src/agent/report.js";
import {
  ctr,
  startContainerd,
  type StandaloneContainerd,
  uniqueToken,
} from "../../support/containerd.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const run = promisify(execFile);
const IMAGE = "docker.io/library/kube-image-cleanup:dev";

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}
interface ImageConfig {
  config: { Entrypoint?: string[]; User?: string; WorkingDir?: string; Env?: string[] };
  history?: { created_by?: string }[];
}

/** The capabilities containerd gives a container by default (ctr run), to drop them all. */
const DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

let archive = "";
let unpacked = "";
let containerd: StandaloneContainerd | undefined;
let socket = "";
let manifest: { config: Descriptor; layers: Descriptor[] };
let config: ImageConfig;
/** Every path in the image's layers (no leading "./" or "/"), with its size. */
const files = new Map<string, number>();
/** Uncompressed size of each layer (what the image takes once unpacked on a node). */
const layerBytes: number[] = [];

const blob = (digest: string) => join(unpacked, "blobs", "sha256", digest.replace(/^sha256:/, ""));

async function gunzippedBytes(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file).pipe(createGunzip()))
    n += (chunk as Buffer).length;
  return n;
}

beforeAll(async () => {
  // Builds the Dockerfile unless an archive of exactly this source tree exists.
  const { stdout } = await run("bash", [join(repoRoot, "test/cluster/images.sh"), "--archive"], {
    maxBuffer: 16 * 1024 * 1024,
  });
  archive = stdout.trim();
  unpacked = mkdtempSync(join(tmpdir(), "kic-image-it-"));
  execFileSync("tar", ["-xf", archive, "-C", unpacked]);
  const index = JSON.parse(readFileSync(join(unpacked, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  manifest = JSON.parse(
    readFileSync(blob(index.manifests[0]?.digest ?? "?"), "utf8"),
  ) as typeof manifest;
  config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8")) as ImageConfig;
  for (const layer of manifest.layers) {
    const listing = execFileSync("tar", ["-tzvf", blob(layer.digest)], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    for (const line of listing.split("\n")) {
      // -rw-r--r-- 0/0   1234 2026-01-01 00:00 usr/bin/x
      const m = /^\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*?)(?: -> .*| link to .*)?$/.exec(line);
      if (m?.[2]) files.set(m[2].replace(/^\.?\//, "").replace(/\/$/, ""), Number(m[1]));
    }
    layerBytes.push(await gunzippedBytes(blob(layer.digest)));
  }
  // Socket group 1000: the image's own user may talk to it (as a socket-only helper would).
  containerd = await startContainerd({ socketGid: 1000 });
  socket = containerd.socket;
  ctr(socket, ["images", "import", archive]);
}, 1_800_000);

afterAll(() => {
  containerd?.stop();
  if (unpacked) rmSync(unpacked, { recursive: true, force: true });
});

/** Runs a command in a fresh container of the image on the real runtime; stdout. */
function inImage(args: string[], extra: string[] = []): string {
  const id = `kic-image-it-${uniqueToken()}`;
  return ctr(socket, ["run", "--rm", ...extra, IMAGE, id, ...args]);
}

const pinned = (file: string, module: string) =>
  new RegExp(`^require ${module} (v\\S+)$`, "m").exec(
    readFileSync(join(repoRoot, file), "utf8"),
  )?.[1];

describe("the image built from the Dockerfile by buildah", () => {
  it("was built by buildah from the Dockerfile, not assembled by hand", () => {
    const history = (config.history ?? []).map((h) => h.created_by ?? "").join("\n");
    expect(history).toContain("groupadd --gid 1000 node");
    expect(history).toContain('ENTRYPOINT ["node", "/app/dist/cli.js"]');
    expect(manifest.layers.every((l) => l.mediaType.endsWith("tar+gzip"))).toBe(true);
  });

  it("starts the CLI with node as uid 1000 in /app, in production mode", () => {
    expect(config.config.Entrypoint).toEqual(["node", "/app/dist/cli.js"]);
    expect(config.config.User).toBe("1000:1000");
    expect(config.config.WorkingDir).toBe("/app");
    expect(config.config.Env).toContain("NODE_ENV=production");
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      version: string;
    };
    expect(inImage(["kube-image-cleanup", "--version"]).trim()).toBe(pkg.version);
    expect(inImage(["id", "-u"]).trim()).toBe("1000");
    expect(inImage(["sh", "-c", "command -v nsenter"]).trim()).toBe("/usr/bin/nsenter");
  });

  it("carries crictl and ctr at their pinned versions, crictl the same as the local cluster's node", () => {
    const crictlVersion = pinned("runtime-clients/crictl/go.mod", "sigs.k8s.io/cri-tools");
    const cluster = /CRICTL_VERSION:-(v[^}]+)\}/.exec(
      readFileSync(join(repoRoot, "test/cluster/lib.sh"), "utf8"),
    )?.[1];
    expect(crictlVersion).toBe(cluster);
    expect(inImage(["crictl", "--version"]).trim()).toBe(`crictl version ${crictlVersion ?? "?"}`);
    const ctrVersion = pinned("runtime-clients/ctr/go.mod", "github.com/containerd/containerd/v2");
    expect(inImage(["ctr", "--version"]).trim()).toBe(
      `ctr github.com/containerd/containerd/v2 ${ctrVersion ?? "?"}`,
    );
    expect(files.has("usr/local/bin/crictl") && files.has("usr/local/bin/ctr")).toBe(true);
  });

  it("reaches a real containerd with its own crictl and ctr through the mounted socket alone", () => {
    const mount = [
      "--mount",
      `type=bind,src=${socket},dst=/run/containerd/containerd.sock,options=rbind:rw`,
    ];
    const endpoint = "unix:///run/containerd/containerd.sock";
    const images = inImage(
      ["crictl", "--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "images", "-q"],
      mount,
    );
    expect(images).toMatch(/sha256:[0-9a-f]{64}/);
    const version = inImage(
      ["ctr", "--address", "/run/containerd/containerd.sock", "version"],
      mount,
    );
    expect(version).toMatch(/Server:\s+Version:\s+1\.6\./);
    const listed = inImage(
      [
        "ctr",
        "--address",
        "/run/containerd/containerd.sock",
        "--namespace",
        "k8s.io",
        "images",
        "ls",
        "-q",
      ],
      mount,
    );
    expect(listed.split("\n")).toContain(IMAGE);
  });

  for (const client of ["crictl", "ctr"] as const) {
    it(`runs the agent with the image's own ${client} against the mounted socket alone, as a socket-mode helper does (dry run)`, () => {
      const sock = "/run/containerd/containerd.sock";
      const out = inImage(
        [
          "kube-image-cleanup",
          "agent",
          "--host-exec",
          "socket",
          "--client",
          client,
          "--socket",
          sock,
          "--include",
          "docker.io/library/kube-image-cleanup:*",
          "--dry-run",
          "--log-format",
          "json",
          "--node-name",
          "image-it",
        ],
        // As in a socket-mode helper pod: read-only root, seccomp's default profile, no
        // capabilities (ctr 1.6 takes no "ALL"), the image's user 1000:1000 (the socket's group here).
        [
          "--read-only",
          "--seccomp",
          ...DEFAULT_CAPS.flatMap((c) => ["--cap-drop", c]),
          "--mount",
          `type=bind,src=${socket},dst=${sock},options=rbind:rw`,
        ],
      );
      const result = parseAgentResult(out);
      expect(result, out.slice(-2000)).toBeDefined();
      expect(result?.runtime).toMatchObject({ client, socket: sock, hostExec: "socket" });
      expect(result?.failed).toEqual([]);
      // The agent's own container runs this image: it is seen as in use and kept.
      expect(result?.counts.matched).toBe(1);
      expect(result?.kept.map((k) => k.reason)).toEqual(["in-use"]);
      expect(result?.deleted).toEqual([]);
    });
  }

  it("leaves build tools, dev dependencies, caches, sources and the build's CA out", () => {
    const paths = [...files.keys()];
    const banned: [string, RegExp][] = [
      ["npm", /^usr\/local\/lib\/node_modules\/npm\//],
      ["npm on the PATH", /^usr\/local\/bin\/(npm|npx|yarn|corepack)$/],
      ["the Go toolchain", /^(usr\/local\/go|go)\//],
      ["TypeScript sources", /^app\/src\//],
      ["dev dependencies", /^app\/node_modules\/(typescript|vitest|eslint|prettier)\//],
      [
        "type declarations and source maps",
        /^app\/.*\.(d\.[cm]?ts|map)$|^app\/node_modules\/@types\//,
      ],
      ["npm's cache", /(^|\/)\.npm\//],
      ["Go's caches", /(^|\/)\.cache\/go-build\//],
      ["build secrets", /^run\/secrets\//],
      ["a CA bundle", /ca-certificates\.crt$|host-ca|build-ca/],
    ];
    for (const [what, re] of banned) {
      expect(
        paths.filter((p) => re.test(p)),
        what,
      ).toEqual([]);
    }
    // ...and what it needs is there.
    for (const p of [
      "usr/local/bin/node",
      "app/dist/cli.js",
      "app/node_modules/pino/package.json",
    ]) {
      expect(files.has(p), p).toBe(true);
    }
  });

  it("reports its size: compressed layers (what a node pulls) and unpacked", () => {
    const compressed = manifest.layers.reduce((n, l) => n + l.size, 0);
    const unpackedBytes = layerBytes.reduce((n, b) => n + b, 0);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    const biggest = [...files.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(
      [
        `image ${IMAGE}: ${manifest.layers.length} layers, ${mb(compressed)} compressed, ${mb(unpackedBytes)} unpacked`,
        ...manifest.layers.map(
          (l, i) =>
            `  layer ${i + 1}: ${mb(l.size)} compressed, ${mb(layerBytes[i] ?? 0)} unpacked`,
        ),
        `  biggest files: ${biggest.map(([p, n]) => `${p} ${mb(n)}`).join(", ")}`,
      ].join("\n"),
    );
    expect(compressed).toBeGreaterThan(10e6);
    // Every node pulls this image: a regression that drags a toolchain back in must show.
    expect(compressed).toBeLessThan(120e6);
    expect(unpackedBytes).toBeLessThan(400e6);
  });
});

// The published image is built from the Dockerfile, and the test suites build that same file with
// buildah (test/cluster/images.sh; test/integration/image/built-image.test.ts checks the result).
// These checks read the Dockerfile and the scripts around it and catch, in milliseconds, what the
// build would only catch in minutes or not at all: a final stage that drags in build tools, a copy
// the cache key misses, a client whose pin drifted from the cluster's, a CA that could end in a layer.
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions (continuations joined, comments dropped); global ARGs, then stages. */
function dockerStages(text: string): { globals: Instruction[]; stages: Instruction[][] } {
  const globals: Instruction[] = [];
  const stages: Instruction[][] = [];
  const logical = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => l.trim() !== "");
  for (const line of logical) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new Error(`cannot parse Dockerfile line: ${line}`);
    const ins = { op: m[1].toUpperCase(), args: m[2].trim().replace(/\s+/g, " ") };
    if (ins.op === "FROM") stages.push([]);
    (stages[stages.length - 1] ?? globals).push(ins);
  }
  return { globals, stages };
}

interface Copy {
  from: string | undefined;
  src: string;
  dest: string;
}

/** What one stage puts where. */
function stageLayout(stage: Instruction[]) {
  let workdir = "/";
  const layout = {
    from: stage[0]?.args ?? "",
    workdir,
    entrypoint: undefined as unknown,
    env: {} as Record<string, string>,
    args: [] as string[],
    user: undefined as string | undefined,
    copies: [] as Copy[],
    runs: [] as string[],
  };
  for (const ins of stage) {
    switch (ins.op) {
      case "WORKDIR":
        workdir = posix.resolve(workdir, ins.args);
        layout.workdir = workdir;
        break;
      case "ENTRYPOINT":
        layout.entrypoint = JSON.parse(ins.args);
        break;
      case "ENV":
        for (const pair of ins.args.split(" ")) {
          const [k, v] = pair.split("=");
          if (k && v !== undefined) layout.env[k] = v;
        }
        break;
      case "ARG":
        layout.args.push(ins.args.split("=")[0] ?? "");
        break;
      case "USER":
        layout.user = ins.args;
        break;
      case "COPY": {
        const words = ins.args.split(" ");
        const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
        const paths = words.filter((w) => !w.startsWith("--"));
        const dest = paths.pop() ?? "";
        const target = posix.resolve(workdir, dest);
        for (const src of paths) {
          layout.copies.push({
            from,
            src,
            dest: dest.endsWith("/") ? posix.join(target, posix.basename(src)) : target,
          });
        }
        break;
      }
      case "RUN":
        layout.runs.push(ins.args);
        break;
    }
  }
  return layout;
}

const dockerfile = read("Dockerfile");
const { globals, stages } = dockerStages(dockerfile);
const stageName = (s: Instruction[]) => / AS (\S+)$/i.exec(s[0]?.args ?? "")?.[1];
const named = (name: string) => {
  const s = stages.find((st) => stageName(st) === name);
  if (!s) throw new Error(`Dockerfile has no stage "${name}"`);
  return stageLayout(s);
};
const final = stageLayout(stages[stages.length - 1] ?? []);
const defaults = Object.fromEntries(
  globals
    .filter((i) => i.op === "ARG")
    .map((i) => i.args.split("=") as [string, string | undefined]),
);
const pkg = JSON.parse(read("package.json")) as {
  bin: Record<string, string>;
  engines: { node: string };
};
const copied = (src: string) => final.copies.find((c) => c.src === src || c.src === `./${src}`);

describe("Dockerfile: the runtime stage's layout", () => {
  it("starts node on the built CLI by absolute path, not through npm", () => {
    expect(final.entrypoint).toEqual(["node", "/app/dist/cli.js"]);
    // The entrypoint is package.json's bin, relative to the app directory.
    expect(final.entrypoint).toEqual([
      "node",
      posix.join(final.workdir, pkg.bin["kube-image-cleanup"] ?? ""),
    ]);
  });

  it("puts dist/, node_modules and package.json under /app, the working directory", () => {
    expect(final.workdir).toBe("/app");
    expect(copied("/app/dist")?.dest).toBe("/app/dist");
    expect(copied("/app/node_modules")?.dest).toBe("/app/node_modules");
    expect(copied("package.json")?.dest).toBe("/app/package.json");
  });

  it("takes dist/ from the build stage and node_modules from a production-only install, with npm ci, never npm install", () => {
    expect(named(copied("/app/dist")?.from ?? "?").runs.join(" ")).toMatch(/npm run build/);
    expect(named(copied("/app/node_modules")?.from ?? "?").runs.join(" ")).toMatch(
      /npm ci --omit=dev /,
    );
    // npm install would resolve anew whatever the lock file lacks; npm ci installs the lock file
    // as committed and refuses one that disagrees with package.json.
    const runs = stages.flat().filter((i) => i.op === "RUN");
    expect(runs.map((i) => i.args).join("\n")).not.toMatch(/npm (install|i)\b/);
  });

  it("sets NODE_ENV=production and links kube-image-cleanup on the PATH to the CLI", () => {
    expect(final.env.NODE_ENV).toBe("production");
    expect(final.runs.join("\n")).toContain(
      "ln -s /app/dist/cli.js /usr/local/bin/kube-image-cleanup",
    );
  });

  it("runs as the node user, uid 1000, which the chart's controller pod also uses", () => {
    expect(final.user).toBe("1000:1000");
    expect(final.runs.join("\n")).toMatch(/groupadd --gid 1000 node/);
    expect(final.runs.join("\n")).toMatch(/useradd --uid 1000 --gid node /);
    const values = yaml.load(read("chart/values.yaml")) as {
      podSecurityContext: { runAsUser: number; runAsGroup: number };
    };
    expect(`${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`).toBe(
      final.user,
    );
  });

  it("runs Node.js 20's binary on Debian bookworm slim, which has nsenter, and fails the build without it", () => {
    expect(defaults.NODE_IMAGE).toBe("node:20-bookworm-slim");
    expect(defaults.DEBIAN_IMAGE).toBe("debian:bookworm-slim");
    expect(final.from).toBe("${DEBIAN_IMAGE}");
    expect(named("node").from).toBe("${NODE_IMAGE} AS node");
    expect(copied("/usr/local/bin/node")).toEqual({
      from: "node",
      src: "/usr/local/bin/node",
      dest: "/usr/local/bin/node",
    });
    expect(final.runs.join("\n")).toMatch(/command -v nsenter/);
    // The base's Node major satisfies package.json's engines.
    expect(Number(/>=(\d+)/.exec(pkg.engines.node)?.[1])).toBeLessThanOrEqual(20);
  });
});

describe("Dockerfile: nothing but the runtime in the final stage", () => {
  it("copies from other stages only node, the two clients, production node_modules and dist", () => {
    expect(
      final.copies.filter((c) => c.from !== undefined).map((c) => `${c.from}:${c.src}`),
    ).toEqual([
      "node:/usr/local/bin/node",
      "clients:/out/crictl",
      "clients:/out/ctr",
      "prod-deps:/app/node_modules",
      "build:/app/dist",
    ]);
  });

  it("neither installs nor downloads anything there: no npm, no Go, no package manager, no cache mounts", () => {
    const runs = final.runs.join("\n");
    for (const tool of [/\bnpm\b/, /\bgo\b/, /apt-get|\bapt\b|dpkg -i/, /--mount=/, /curl|wget/]) {
      expect(runs).not.toMatch(tool);
    }
    expect(final.args).toEqual([]);
  });

  it("lends the build's CA to the downloading steps only as a build secret, never as a file in a layer", () => {
    const downloading = stages
      .flat()
      .filter((i) => i.op === "RUN" && /npm ci|runtime-clients\/build\.sh/.test(i.args));
    expect(downloading).toHaveLength(3);
    for (const run of downloading) expect(run.args).toMatch(/--mount=type=secret,id=build-ca /);
    for (const copy of stages.flat().filter((i) => i.op === "COPY" || i.op === "ADD")) {
      expect(copy.args).not.toMatch(/\.(crt|pem)\b|cert/i);
    }
    // The variables that point the tools at it are build arguments of the build stages only.
    expect(named("clients").args).toEqual(["SSL_CERT_FILE", "TARGETOS", "TARGETARCH"]);
    expect(named("deps").args).toEqual(["NODE_EXTRA_CA_CERTS", "npm_config_cafile"]);
    expect(named("prod-deps").args).toEqual(["NODE_EXTRA_CA_CERTS", "npm_config_cafile"]);
  });
});

describe("runtime clients in the image (runtime-clients/)", () => {
  const required = (file: string, module: string) =>
    new RegExp(`^require ${module.replace(/\./g, "\\.")} (v\\S+)$`, "m").exec(read(file))?.[1];

  it("pins crictl to the version the local cluster's node runs (test/cluster/lib.sh)", () => {
    const cluster = /^KIC_CRICTL_VERSION="\$\{KIC_CRICTL_VERSION:-(v[^}]+)\}"$/m.exec(
      read("test/cluster/lib.sh"),
    )?.[1];
    expect(cluster).toMatch(/^v1\.\d+\.\d+$/);
    expect(required("runtime-clients/crictl/go.mod", "sigs.k8s.io/cri-tools")).toBe(cluster);
  });

  it("pins ctr to a containerd release, with go.sum checksums for it and crictl", () => {
    const v = required("runtime-clients/ctr/go.mod", "github.com/containerd/containerd/v2");
    expect(v).toMatch(/^v2\.\d+\.\d+$/);
    expect(read("runtime-clients/ctr/go.sum")).toContain(
      `github.com/containerd/containerd/v2 ${v ?? "?"} h1:`,
    );
    expect(read("runtime-clients/crictl/go.sum")).toMatch(/^sigs\.k8s\.io\/cri-tools v\S+ h1:/m);
  });

  it("builds each client with runtime-clients/build.sh for the image's platform, statically, its version stamped and checked", () => {
    const runs = named("clients").runs.join("\n");
    expect(runs).toMatch(
      /GOOS="\$\{TARGETOS:-linux\}" GOARCH="\$\{TARGETARCH:-\$\(go env GOHOSTARCH\)\}" bash runtime-clients\/build\.sh \/out$/,
    );
    const script = read("runtime-clients/build.sh");
    expect(script).toMatch(
      /^export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -mod=readonly"$/m,
    );
    expect(script).toContain('-ldflags "-s -w -X $var=$v"');
    expect(script).toContain('sigs.k8s.io/cri-tools/pkg/version.Version "crictl version %s"');
    expect(script).toContain('"$c/version.Version" "ctr $c %s"');
    // Built for the target whatever the builder runs on: checked, not assumed.
    expect(script).toContain('GOARCH=$GOARCH" <<<"$info" || die');
    expect(final.runs.join("\n")).toMatch(/crictl --version && ctr --version/);
  });

  it("compiles on the builder's platform and runs only the final stage as the target (multi-platform builds)", () => {
    const from = (name: string) => stages.find((st) => stageName(st) === name)?.[0]?.args ?? "";
    expect(from("clients")).toBe("--platform=$BUILDPLATFORM ${GO_IMAGE} AS clients");
    expect(from("js")).toBe("--platform=$BUILDPLATFORM ${NODE_IMAGE} AS js");
    expect(from("deps")).toBe("js AS deps");
    expect(from("prod-deps")).toBe("js AS prod-deps");
    // The node binary and the runtime base are the target's.
    expect(from("node")).toBe("${NODE_IMAGE} AS node");
    expect(stages[stages.length - 1]?.[0]?.args).toBe("${DEBIAN_IMAGE}");
  });
});

describe("the test suites build this Dockerfile", () => {
  const images = read("test/cluster/images.sh");
  const code = images
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n");
  const context = /^CONTEXT=\(([^)]*)\)$/m.exec(code)?.[1]?.split(" ") ?? [];

  it("images.sh builds it with buildah and no longer assembles an image by hand", () => {
    expect(code).toMatch(/buildah_kic bud /);
    expect(code).toMatch(/--file Dockerfile/);
    expect(code).not.toMatch(/oci-image\.mjs/);
  });

  it("images.sh keys its cache on every file the Dockerfile copies from the build context", () => {
    const sources = stages
      .flat()
      .filter((i) => i.op === "COPY" && !i.args.includes("--from="))
      .flatMap((i) => i.args.split(" ").slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(
        context.some((c) => src === c || src.startsWith(`${c}/`)),
        `${src} in CONTEXT`,
      ).toBe(true);
    }
  });

  it("base-images.sh stands in for exactly the base images the Dockerfile takes as arguments", () => {
    const standIns = [...read("test/cluster/base-images.sh").matchAll(/^echo "(\w+)=/gm)].map(
      (m) => m[1],
    );
    const bases = Object.keys(defaults).filter((k) => k.endsWith("_IMAGE"));
    expect(standIns.sort()).toEqual(bases.sort());
    for (const s of stages)
      expect(s[0]?.args).toMatch(/^(--platform=\$BUILDPLATFORM )?\$\{\w+_IMAGE\}|^(js|deps) AS /);
  });
});

describe("Dockerfile build context", () => {
  const ignored = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

  it("keeps every file the build copies from the context", () => {
    const contextSources = stages
      .flat()
      .filter((i) => i.op === "COPY" && !i.args.includes("--from="))
      .flatMap((i) => i.args.split(" ").slice(0, -1));
    expect([...new Set(contextSources)].sort()).toEqual(
      [
        "package-lock.json",
        "package.json",
        "runtime-clients",
        "src",
        "tsconfig.build.json",
        "tsconfig.json",
      ].sort(),
    );
    for (const src of contextSources) {
      expect(ignored, src).not.toContain(src);
      expect(ignored, src).not.toContain(src.split("/")[0]);
    }
  });

  it("leaves out what the build must not see (local node_modules and dist, git, tests)", () => {
    for (const p of ["node_modules", "dist", ".git", "test"]) expect(ignored).toContain(p);
  });
});

// The published image (Dockerfile) and the image the local test cluster runs (assembled by
// test/cluster/images.sh without a Docker engine) must have the same layout: tests prove the second,
// users run the first. No Docker engine exists here, so both files are parsed and compared.
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

/** Dockerfile instructions (continuations joined, comments dropped), grouped by stage. */
function dockerStages(text: string): Instruction[][] {
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
    const ins = { op: m[1].toUpperCase(), args: m[2].trim() };
    if (ins.op === "FROM") stages.push([]);
    stages[stages.length - 1]?.push(ins);
  }
  return stages;
}

/** What the final stage of the Dockerfile puts where. */
function dockerfileLayout() {
  const stages = dockerStages(read("Dockerfile"));
  const final = stages[stages.length - 1] ?? [];
  let workdir = "/";
  const copies: { from: string | undefined; src: string; dest: string }[] = [];
  const layout = {
    from: final[0]?.args ?? "",
    workdir,
    entrypoint: undefined as unknown,
    env: {} as Record<string, string>,
    user: undefined as string | undefined,
    copies,
    runs: [] as string[],
  };
  for (const ins of final) {
    switch (ins.op) {
      case "WORKDIR":
        workdir = posix.resolve(workdir, ins.args);
        layout.workdir = workdir;
        break;
      case "ENTRYPOINT":
        layout.entrypoint = JSON.parse(ins.args);
        break;
      case "ENV": {
        const [k, v] = ins.args.split("=");
        if (k && v !== undefined) layout.env[k] = v;
        break;
      }
      case "USER":
        layout.user = ins.args;
        break;
      case "COPY": {
        const words = ins.args.split(/\s+/);
        const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
        const paths = words.filter((w) => !w.startsWith("--"));
        const dest = paths.pop() ?? "";
        for (const src of paths) {
          const target = posix.resolve(workdir, dest);
          copies.push({
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
  return { stages, layout };
}

/** What test/cluster/images.sh puts where, read from its assembly commands. */
function imagesShLayout() {
  const text = read("test/cluster/images.sh");
  const code = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n");
  const one = (re: RegExp, what: string) => {
    const m = re.exec(code);
    if (!m?.[1]) throw new Error(`test/cluster/images.sh: cannot find ${what} (${String(re)})`);
    return m[1];
  };
  // The app layer's root is "$work/app"; paths below it are paths in the image.
  const appDir = `/${one(/^\s*app="\$work\/app\/([^"]+)"/m, "the app directory")}`;
  /** `"$app/x"` -> `/app/x`: a path in the app layer, as the image sees it. */
  const inApp = (p: string) => posix.join(appDir, p).replace(/(.)\/$/, "$1");
  return {
    entrypoint: JSON.parse(one(/--entrypoint '([^']+)'/, "--entrypoint")) as unknown,
    workdir: one(/--workdir (\S+)/, "--workdir"),
    env: one(/--env (\S+)/, "--env"),
    appDir,
    dist: inApp(one(/cp -r "\$root\/dist" "\$app\/([^"]+)"/, "the dist copy")),
    packageFiles: inApp(
      one(
        /cp "\$root\/package\.json" "\$root\/package-lock\.json" "\$app(\/[^"]*)"/,
        "the package.json copy",
      ),
    ),
    installsIn: inApp(/\(cd "\$app" && npm install/.test(code) ? "." : "(not found)"),
    installFlags: one(/npm install ([^>)]*)/, "npm install flags"),
    symlink: {
      target: one(/ln -s (\S+) "\$work\/app\//, "the symlink target"),
      link: `/${one(/ln -s \S+ "\$work\/app\/([^"]+)"/, "the symlink")}`,
    },
    nodeUser: one(/node:x:(\d+:\d+):/, "the node user in /etc/passwd"),
    copiesNsenter: /cp \/usr\/bin\/nsenter "\$rt\/usr\/bin\/nsenter"/.test(code),
    // The runtime layer's root is "$rt".
    nodePath: one(
      /cp "\$\(readlink -f "\$\(command -v node\)"\)" "\$rt(\/[^"]+)"/,
      "the node binary copy",
    ),
    usesNpmCi: /npm ci\b/.test(code),
  };
}

const docker = dockerfileLayout();
const script = imagesShLayout();
const pkg = JSON.parse(read("package.json")) as {
  bin: Record<string, string>;
  engines: { node: string };
};

describe("image layout: Dockerfile and test/cluster/images.sh agree", () => {
  it("start node on the built CLI by absolute path, not through npm", () => {
    expect(docker.layout.entrypoint).toEqual(["node", "/app/dist/cli.js"]);
    expect(script.entrypoint).toEqual(docker.layout.entrypoint);
    // The entrypoint is package.json's bin, relative to the app directory.
    expect(docker.layout.entrypoint).toEqual([
      "node",
      posix.join(docker.layout.workdir, pkg.bin["kube-image-cleanup"] ?? ""),
    ]);
  });

  it("use /app as working directory and app directory", () => {
    expect(docker.layout.workdir).toBe("/app");
    expect(script.workdir).toBe("/app");
    expect(script.appDir).toBe("/app");
  });

  it("put dist/, node_modules and package.json under /app", () => {
    const dest = (src: string) =>
      docker.layout.copies.find((c) => c.src.replace(/^\/app\//, "").replace(/^\.\//, "") === src)
        ?.dest;
    expect(dest("dist")).toBe("/app/dist");
    expect(dest("node_modules")).toBe("/app/node_modules");
    expect(dest("package.json")).toBe("/app/package.json");
    expect(script.dist).toBe("/app/dist");
    expect(script.installsIn).toBe("/app");
    expect(script.packageFiles).toBe("/app");
  });

  it("take dist/ from the build stage and node_modules from a production-only install, with npm install, never npm ci", () => {
    const fromStage = (src: string) => docker.layout.copies.find((c) => c.src.endsWith(src))?.from;
    const stageRuns = (name: string | undefined) =>
      docker.stages
        .find((s) => s[0]?.args.endsWith(` AS ${name ?? "?"}`))
        ?.filter((i) => i.op === "RUN")
        .map((i) => i.args) ?? [];
    expect(stageRuns(fromStage("/app/dist"))).toContain("npm run build");
    expect(stageRuns(fromStage("/app/node_modules")).join(" ")).toMatch(/npm install --omit=dev /);
    expect(script.installFlags).toMatch(/--omit=dev/);
    expect(read("Dockerfile")).not.toMatch(/^RUN.*npm ci\b/m);
    expect(script.usesNpmCi).toBe(false);
  });

  it("set NODE_ENV=production", () => {
    expect(docker.layout.env.NODE_ENV).toBe("production");
    expect(script.env).toBe("NODE_ENV=production");
  });

  it("link kube-image-cleanup on the PATH to the CLI", () => {
    expect(docker.layout.runs.join("\n")).toContain(
      "ln -s /app/dist/cli.js /usr/local/bin/kube-image-cleanup",
    );
    expect(script.symlink).toEqual({
      target: "/app/dist/cli.js",
      link: "/usr/local/bin/kube-image-cleanup",
    });
  });

  it("have node at /usr/local/bin/node and nsenter at /usr/bin/nsenter (Debian slim Node base)", () => {
    expect(docker.layout.from).toMatch(/^\$\{NODE_IMAGE\}$|^node:20-bookworm-slim/);
    expect(read("Dockerfile")).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(script.nodePath).toBe("/usr/local/bin/node");
    expect(docker.layout.runs).toContain("command -v nsenter");
    expect(script.copiesNsenter).toBe(true);
    // The base's Node major satisfies package.json's engines.
    expect(Number(/>=(\d+)/.exec(pkg.engines.node)?.[1])).toBeLessThanOrEqual(20);
  });

  it("run as the node user, uid 1000, which the chart's controller pod also uses", () => {
    expect(docker.layout.user).toBe("1000:1000");
    expect(script.nodeUser).toBe("1000:1000");
    const values = yaml.load(read("chart/values.yaml")) as {
      podSecurityContext: { runAsUser: number; runAsGroup: number };
    };
    expect(`${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`).toBe(
      docker.layout.user,
    );
  });
});

describe("Dockerfile build context", () => {
  const ignored = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

  it("keeps every file the build copies from the context", () => {
    const contextSources = docker.stages
      .flat()
      .filter((i) => i.op === "COPY" && !i.args.includes("--from="))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(contextSources.sort()).toEqual(
      [
        "package-lock.json",
        "package.json",
        "package.json",
        "package-lock.json",
        "package.json",
        "src",
        "tsconfig.build.json",
        "tsconfig.json",
      ].sort(),
    );
    for (const src of contextSources) expect(ignored, src).not.toContain(src);
  });

  it("leaves out what the build must not see (local node_modules and dist, git, tests)", () => {
    for (const p of ["node_modules", "dist", ".git", "test"]) expect(ignored).toContain(p);
  });
});

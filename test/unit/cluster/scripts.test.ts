// test/cluster's shell helpers on their own, with a temporary cache dir (KIC_CACHE) so nothing here
// touches the real cluster: waits that keep to their seconds, pinned versions only from KIC_
// variables, and build failures that say what to do.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const clusterDir = join(repoRoot, "test", "cluster");
let cache = "";

beforeAll(() => {
  cache = mkdtempSync(join(tmpdir(), "kic-cache-"));
});
afterAll(() => {
  rmSync(cache, { recursive: true, force: true });
});

/** Runs bash with test/cluster/lib.sh sourced, against the temporary cache dir. */
function withLib(script: string, env: Record<string, string> = {}) {
  const started = Date.now();
  const r = spawnSync("bash", ["-c", `. "${clusterDir}/lib.sh"\n${script}`], {
    encoding: "utf8",
    env: { ...process.env, KIC_CACHE: cache, ...env },
    timeout: 120_000,
  });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    seconds: (Date.now() - started) / 1000,
  };
}

function buildBinaries(target: string, env: Record<string, string>) {
  const r = spawnSync("bash", [join(clusterDir, "build-binaries.sh"), target], {
    encoding: "utf8",
    env: { ...process.env, KIC_CACHE: cache, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stderr: r.stderr };
}

/** A Go module proxy that refuses every connection, and an empty module cache, so nothing is cached. */
function deadProxy(): Record<string, string> {
  const modcache = mkdtempSync(join(cache, "gomod-"));
  return { GOPROXY: "http://127.0.0.1:9", GOMODCACHE: modcache, GOFLAGS: "" };
}

describe("wait_for", () => {
  it("gives up after its seconds even when each probe hangs", () => {
    // Old behaviour: `seconds * 5` probes of up to 30 s each, i.e. minutes for a 2 s wait.
    const r = withLib(`wait_for "a hanging probe" 2 "" sleep 30`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("a hanging probe: not ready after 2s");
    expect(r.seconds).toBeLessThan(6);
  });

  it("cuts each probe off after KIC_PROBE_TIMEOUT and keeps probing until one succeeds", () => {
    const flag = join(cache, "ready-later");
    // The first probe hangs (no flag yet, and it sleeps); a later one finds the flag.
    const r = withLib(
      `(sleep 2; touch "${flag}") & wait_for "a slow service" 20 "" bash -c '[ -e "${flag}" ] || sleep 30'`,
      { KIC_PROBE_TIMEOUT: "1" },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.seconds).toBeLessThan(8);
  });
});

describe("pinned versions", () => {
  it("come only from KIC_-prefixed variables", () => {
    const r = withLib(
      `echo "$KIC_K8S_VERSION $KIC_ETCD_VERSION $KIC_CRICTL_VERSION $KIC_KWOK_VERSION $KIC_HELM_VERSION"`,
      {
        K8S_VERSION: "v1.0.0",
        ETCD_VERSION: "v1.0.0",
        CRICTL_VERSION: "v1.0.0",
        KWOK_VERSION: "v1.0.0",
        HELM_VERSION: "v1.0.0",
      },
    );
    expect(r.stdout.trim()).toBe("v1.34.4 v3.5.21 v1.34.0 v0.7.0 v3.17.3");
  });

  it("a user's HELM_VERSION does not rebuild helm; KIC_HELM_VERSION does", () => {
    mkdirSync(join(cache, "bin"), { recursive: true });
    writeFileSync(join(cache, "bin", ".helm.stamp"), "v3.17.3\n");
    const kept = buildBinaries("helm", { ...deadProxy(), HELM_VERSION: "v3.0.0" });
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).not.toContain("building helm");
    const rebuilt = buildBinaries("helm", { ...deadProxy(), KIC_HELM_VERSION: "v3.0.0" });
    expect(rebuilt.stderr).toContain("building helm v3.0.0");
    expect(rebuilt.code).toBe(1);
  });
});

describe("build-binaries.sh", () => {
  it("names the module and the proxy when a fetch from the Go module proxy fails", () => {
    rmSync(join(cache, "bin"), { recursive: true, force: true });
    const r = buildBinaries("helm", deadProxy());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "cannot fetch helm.sh/helm/v3@v3.17.3 from the Go module proxy (http://127.0.0.1:9)",
    );
    expect(r.stderr).toMatch(/connection refused/);
  });

  it("stops early when the Go on PATH is older than the builds need, saying what to install", () => {
    const bin = mkdtempSync(join(cache, "fake-go-"));
    // Debian 12's own golang-go.
    writeFileSync(join(bin, "go"), '#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo go1.19.8\n');
    chmodSync(join(bin, "go"), 0o755);
    const r = buildBinaries("helm", { PATH: `${bin}:${process.env.PATH ?? ""}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Go 1.24 or newer is needed to build the cluster's binaries; ${bin}/go is 1.19.8`,
    );
    expect(r.stderr).toContain("https://go.dev/dl");
  });
});

describe("the node's runtime (KICTEST_RUNTIME)", () => {
  it("is containerd (1.6) by default and containerd2 on request; KIC_RUNTIME is not read", () => {
    expect(withLib(`echo "$KIC_RUNTIME"`).stdout.trim()).toBe("containerd");
    expect(withLib(`echo "$KIC_RUNTIME"`, { KICTEST_RUNTIME: "containerd2" }).stdout.trim()).toBe(
      "containerd2",
    );
    // The CLI refuses unknown KIC_ variables, so the switch must not be one: KIC_RUNTIME changes nothing.
    expect(withLib(`echo "$KIC_RUNTIME"`, { KIC_RUNTIME: "containerd2" }).stdout.trim()).toBe(
      "containerd",
    );
  });

  it("refuses an unknown runtime, naming the variable and what is allowed (exit 2)", () => {
    const r = withLib(`echo unreachable`, { KICTEST_RUNTIME: "cri-o" });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe(
      "[cluster] ERROR: KICTEST_RUNTIME=cri-o: unknown runtime; use containerd (1.6, default) or containerd2 (v2.4.2)",
    );
  });

  it("on-runtime.sh refuses an unknown runtime or a missing command before it takes the lock", () => {
    const run = (...args: string[]) =>
      spawnSync("bash", [join(clusterDir, "on-runtime.sh"), ...args], {
        encoding: "utf8",
        // A machine dir of its own: were the lock taken, it would be this one, not the machine's.
        env: { ...process.env, KIC_CACHE: cache, KICTEST_MACHINE_DIR: join(cache, "machine") },
        timeout: 30_000,
      });
    for (const args of [["cri-o", "true"], ["containerd2"], []]) {
      const r = run(...args);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr.trim()).toBe(
        "[cluster] ERROR: usage: on-runtime.sh containerd|containerd2 command [args...]",
      );
    }
  });

  it("containerd 2 is not rebuilt when its stamp names the pinned version", () => {
    mkdirSync(join(cache, "bin"), { recursive: true });
    writeFileSync(join(cache, "bin", ".containerd2.stamp"), "v2.4.2\n");
    const kept = buildBinaries("containerd2", deadProxy());
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).not.toContain("building containerd2");
    const other = buildBinaries("containerd2", {
      ...deadProxy(),
      KIC_CONTAINERD2_VERSION: "v2.4.1",
    });
    expect(other.stderr).toContain("building containerd2 v2.4.1");
    expect(other.code).toBe(1);
  });
});

describe("local-cluster-values.yaml", () => {
  it("assumes no user's cache dir (the scripts pass runtime.socket)", () => {
    const text = readFileSync(join(repoRoot, "test", "local-cluster-values.yaml"), "utf8");
    expect(text).not.toMatch(/\/root\/|\.cache|^\s*socket:/m);
    for (const file of [
      "test/demo.sh",
      "test/e2e/helm-cronjob.test.ts",
      "test/integration/chart/release.ts",
    ])
      expect(readFileSync(join(repoRoot, file), "utf8")).toMatch(/runtime[.:{ ]+socket/);
  });
});

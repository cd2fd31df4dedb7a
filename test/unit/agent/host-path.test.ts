// Node paths seen through the node's root (nsenter mode: /proc/<pid>/root): the kernel would resolve
// an absolute link such as /var/run -> /run in the agent's own root, so the agent resolves the node's
// links within the node's root itself. A temp dir stands in for the node's root here.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveInRoot } from "../../../src/agent/host-exec.js";

let root = "";
let server: Server;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "kic-node-root-"));
  mkdirSync(join(root, "run"));
  mkdirSync(join(root, "var/lib"), { recursive: true });
  mkdirSync(join(root, "data/docker/image"), { recursive: true });
  // As on Debian, Ubuntu, Fedora: /var/run is an absolute link to /run.
  symlinkSync("/run", join(root, "var/run"));
  // A CI host's data root moved to a bigger disk.
  symlinkSync("/data/docker", join(root, "var/lib/docker"));
  symlinkSync("../../run/docker.sock", join(root, "data/docker/sock-link"));
  symlinkSync("loop-b", join(root, "run/loop-a"));
  symlinkSync("loop-a", join(root, "run/loop-b"));
  writeFileSync(join(root, "data/docker/image/x"), "");
  server = createServer();
  await new Promise<void>((resolve) => server.listen(join(root, "run/docker.sock"), resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe("resolveInRoot", () => {
  it("follows an absolute link within the node's root, not the agent's", async () => {
    expect(await resolveInRoot(root, "/var/run/docker.sock")).toBe(`${root}/run/docker.sock`);
    expect(await resolveInRoot(root, "/var/lib/docker/image/x")).toBe(
      `${root}/data/docker/image/x`,
    );
  });

  it("follows relative links and .. within the root, and never above it", async () => {
    expect(await resolveInRoot(root, "/data/docker/sock-link")).toBe(`${root}/run/docker.sock`);
    expect(await resolveInRoot(root, "/../../run/./docker.sock")).toBe(`${root}/run/docker.sock`);
  });

  it("leaves the last component alone when asked (to see a link itself)", async () => {
    expect(await resolveInRoot(root, "/var/lib/docker", { followLast: false })).toBe(
      `${root}/var/lib/docker`,
    );
    expect(await resolveInRoot(root, "/var/run/docker.sock", { followLast: false })).toBe(
      `${root}/run/docker.sock`,
    );
  });

  it("returns a path that is not there as given, under the root, and stops at a loop", async () => {
    expect(await resolveInRoot(root, "/var/run/crio/crio.sock")).toBe(`${root}/run/crio/crio.sock`);
    expect(await resolveInRoot(root, "/run/loop-a/x")).toMatch(
      new RegExp(`^${root}/run/loop-[ab]/`),
    );
  });

  it("is the path itself without a root (direct and socket modes)", async () => {
    expect(await resolveInRoot("", "/var/run/docker.sock")).toBe("/var/run/docker.sock");
  });
});

// Where the agent looks for crictl and ctr: PATH first, then where RKE2 and k3s keep them.
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RuntimeClientName } from "../../../src/run-model/agent-result.js";
import {
  connectRuntime,
  findSocket,
  NoCriError,
  SOCKET_CANDIDATES,
  type RuntimeAdapter,
} from "../../../src/agent/runtime.js";
import {
  CommandFailedError,
  CommandNotFoundError,
  createHostExec,
  type HostExec,
} from "../../../src/agent/host-exec.js";

const K3S_SOCKET = "/run/k3s/containerd/containerd.sock";

/** A node whose files are `files`: a client runs when its program is one of them (or on PATH). */
function node(files: string[], onPath: string[] = []) {
  const ran: string[] = [];
  const make = (client: RuntimeClientName, socket: string, program: string): RuntimeAdapter =>
    ({
      client,
      socket,
      version: () => {
        ran.push(program);
        if (program.includes("/") ? files.includes(program) : onPath.includes(program))
          return Promise.resolve({ name: "containerd", version: "v2.0.0-k3s1" });
        return Promise.reject(new CommandNotFoundError(program));
      },
    }) as unknown as RuntimeAdapter;
  const fileExists = (path: string) => Promise.resolve(files.includes(path));
  return { ran, make, fileExists };
}

describe("runtime client locations", () => {
  [
    {
      name: "RKE2: crictl only in /var/lib/rancher/rke2/bin",
      files: ["/var/lib/rancher/rke2/bin/crictl", "/var/lib/rancher/rke2/bin/ctr"],
      onPath: [],
      choice: "auto" as const,
      program: "/var/lib/rancher/rke2/bin/crictl",
      client: "crictl",
    },
    {
      name: "RKE2 with --client ctr",
      files: ["/var/lib/rancher/rke2/bin/crictl", "/var/lib/rancher/rke2/bin/ctr"],
      onPath: [],
      choice: "ctr" as const,
      program: "/var/lib/rancher/rke2/bin/ctr",
      client: "ctr",
    },
    {
      name: "k3s without its /usr/local/bin links: the data dir's crictl",
      files: ["/var/lib/rancher/k3s/data/current/bin/crictl"],
      onPath: [],
      choice: "auto" as const,
      program: "/var/lib/rancher/k3s/data/current/bin/crictl",
      client: "crictl",
    },
    {
      name: "k3s with crictl on PATH: PATH wins",
      files: ["/var/lib/rancher/k3s/data/current/bin/crictl"],
      onPath: ["crictl"],
      choice: "auto" as const,
      program: "crictl",
      client: "crictl",
    },
    {
      name: "only ctr on PATH, RKE2's crictl present: crictl (CRI) is still preferred",
      files: ["/var/lib/rancher/rke2/bin/crictl"],
      onPath: ["ctr"],
      choice: "auto" as const,
      program: "/var/lib/rancher/rke2/bin/crictl",
      client: "crictl",
    },
  ].forEach((t) => {
    it(`uses ${t.program} (${t.name})`, async () => {
      const n = node(t.files, t.onPath);
      const { adapter } = await connectRuntime(t.choice, K3S_SOCKET, n.make, n.fileExists);
      expect(adapter.client).toBe(t.client);
      expect(n.ran.at(-1)).toBe(t.program);
    });
  });

  it("names every place it looked when no client is anywhere", async () => {
    const n = node([]);
    await expect(connectRuntime("crictl", K3S_SOCKET, n.make, n.fileExists)).rejects.toThrow(
      "crictl not found on this container's PATH nor at /var/lib/rancher/rke2/bin/crictl, /var/lib/rancher/k3s/data/current/bin/crictl: install it, choose another --client, or change --host-exec",
    );
    // Located paths are tried only when they exist.
    expect(n.ran).toEqual(["crictl"]);
  });

  it("probes the k3s/RKE2 socket", async () => {
    expect(SOCKET_CANDIDATES.map((c) => c.path)).toContain(K3S_SOCKET);
    const exec: HostExec = {
      ...createHostExec("direct"),
      socketExists: (p) => Promise.resolve(p === K3S_SOCKET),
    };
    await expect(findSocket(exec, undefined)).resolves.toBe(K3S_SOCKET);
  });
});

describe("Docker Engine sockets", () => {
  const DOCKER = "/var/run/docker.sock";
  const CONTAINERD = "/run/containerd/containerd.sock";
  const execWith = (sockets: string[]): HostExec => ({
    ...createHostExec("direct"),
    socketExists: (p) => Promise.resolve(sockets.includes(p)),
  });

  it("probes cri-dockerd's socket first, a node's CRI runtime before Docker's socket, and only Docker's for --client docker", async () => {
    const both = execWith([DOCKER, CONTAINERD]);
    await expect(findSocket(both, undefined, "auto")).resolves.toBe(CONTAINERD);
    await expect(findSocket(both, undefined, "docker")).resolves.toBe(DOCKER);
    await expect(findSocket(execWith([DOCKER]), undefined, "auto")).resolves.toBe(DOCKER);
    await expect(findSocket(execWith([DOCKER]), undefined, "crictl")).rejects.toThrow(
      "looked for /var/run/cri-dockerd.sock, /run/containerd/containerd.sock, /run/k3s/containerd/containerd.sock, /var/run/crio/crio.sock: give --socket PATH",
    );
    // A kubelet on Docker: cri-dockerd's socket before Docker's own containerd.
    const criDockerd = execWith([DOCKER, CONTAINERD, "/var/run/cri-dockerd.sock"]);
    await expect(findSocket(criDockerd, undefined, "auto")).resolves.toBe(
      "/var/run/cri-dockerd.sock",
    );
    await expect(findSocket(execWith([CONTAINERD]), undefined, "docker")).rejects.toThrow(
      "no runtime socket found from the agent; looked for /var/run/docker.sock: give --socket PATH",
    );
    expect(SOCKET_CANDIDATES.find((c) => c.path === "/var/run/cri-dockerd.sock")?.clients).toEqual([
      "crictl",
    ]);
  });

  it("takes docker for a socket that answers as a Docker Engine, and runs no client program", async () => {
    const made: [RuntimeClientName, string][] = [];
    const make = (client: RuntimeClientName, socket: string, program: string): RuntimeAdapter => {
      made.push([client, program]);
      return {
        client,
        socket,
        version: () => Promise.resolve({ name: "docker", version: "20.10.24" }),
      } as unknown as RuntimeAdapter;
    };
    const custom = "/run/user/1000/docker.sock";
    const { adapter } = await connectRuntime("auto", custom, make, undefined, (s) =>
      Promise.resolve(s === custom),
    );
    expect(adapter.client).toBe("docker");
    expect(made).toEqual([["docker", ""]]);
  });

  it("says a containerd without CRI (Docker's own) serves no CRI", async () => {
    const make = (client: RuntimeClientName, socket: string, program: string): RuntimeAdapter =>
      ({
        client,
        socket,
        version: () =>
          Promise.reject(
            new CommandFailedError([program, "version"], {
              code: 1,
              stdout: "",
              stderr:
                'level=fatal msg="validate service connection: validate CRI v1 runtime API for endpoint \\"unix:///run/containerd/containerd.sock\\": rpc error: code = Unimplemented desc = unknown service runtime.v1.RuntimeService"',
            }),
          ),
      }) as unknown as RuntimeAdapter;
    const err = await connectRuntime("auto", CONTAINERD, make).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoCriError);
    expect(String(err)).toMatch(
      /serves no CRI \(unknown service runtime\.v1\.RuntimeService\).*use --client docker/,
    );
  });
});

describe("host exec fileExists", () => {
  it("sees a symlink without following it (RKE2's bin/ links into its data dir)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kic-loc-"));
    symlinkSync("/nowhere/from/here/crictl", join(dir, "crictl"));
    const exec = createHostExec("direct");
    expect(await exec.fileExists(join(dir, "crictl"))).toBe(true);
    expect(await exec.fileExists(join(dir, "ctr"))).toBe(false);
    rmSync(dir, { recursive: true });
  });
});

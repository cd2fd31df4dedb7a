// Proves the local cluster is a real one the rest of the suite can stand on: a Ready kubelet node,
// privileged hostPID pods pinned by nodeName running a locally imported image, pod logs through the
// API server, and RBAC answering for service accounts.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nsenterPrefix } from "../../../src/agent/host-exec.js";
import { cacheDir, ensureCluster, kubectl } from "../../support/cluster.js";

const ns = `kic-cluster-${randomBytes(3).toString("hex")}`;

describe("local cluster", () => {
  beforeAll(async () => {
    ensureCluster();
    await kubectl(["create", "namespace", ns]);
  });
  afterAll(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("registers this host as a Ready node running containerd", async () => {
    const { nodeName } = ensureCluster();
    const node = JSON.parse(await kubectl(["get", "node", nodeName, "-o", "json"])) as {
      status: {
        conditions: { type: string; status: string }[];
        nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string };
      };
    };
    expect(node.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
    expect(node.status.nodeInfo.kubeletVersion).toMatch(/^v1\.\d+\.\d+$/);
  });

  it("runs a privileged hostPID pod pinned by nodeName from a locally imported image, with readable logs", async () => {
    const { nodeName, image, containerdSocket } = ensureCluster();
    const containerdDir = containerdSocket.replace(/\/containerd\.sock$/, "");
    const containerdPid = readFileSync(
      join(cacheDir, "cluster", "pids", "containerd.pid"),
      "utf8",
    ).trim();
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "nsenter-probe", namespace: ns },
      spec: {
        nodeName,
        hostPID: true,
        restartPolicy: "Never",
        containers: [
          {
            name: "probe",
            image,
            imagePullPolicy: "Never",
            // The image runs as uid 1000 by default (like the Dockerfile); entering namespaces needs root.
            securityContext: { privileged: true, runAsUser: 0 },
            // Enter the host's namespaces the way the helper pod does and look at the host's
            // containerd state. (Target: containerd's pid, not 1: see test/cluster/README.md.)
            command: [...nsenterPrefix(Number(containerdPid)), "ls", containerdDir],
          },
        ],
      },
    };
    await kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
    await kubectl([
      "wait",
      "-n",
      ns,
      "pod/nsenter-probe",
      "--for=jsonpath={.status.phase}=Succeeded",
      "--timeout=90s",
    ]);
    const listing = (await kubectl(["logs", "-n", ns, "nsenter-probe"])).split("\n");
    // The socket only exists in the host's mount namespace, not in the image.
    expect(listing).toContain("containerd.sock");
  });

  it("answers RBAC questions for a service account as its bindings say", async () => {
    await kubectl(["create", "serviceaccount", "-n", ns, "reader"]);
    await kubectl(["create", "role", "-n", ns, "pod-reader", "--verb=get,list", "--resource=pods"]);
    await kubectl([
      "create",
      "rolebinding",
      "-n",
      ns,
      "reader",
      "--role=pod-reader",
      `--serviceaccount=${ns}:reader`,
    ]);
    const canI = async (verb: string, resource: string, namespace = ns) => {
      try {
        return (
          await kubectl([
            "auth",
            "can-i",
            verb,
            resource,
            "-n",
            namespace,
            `--as=system:serviceaccount:${ns}:reader`,
          ])
        ).trim();
      } catch (err) {
        // `kubectl auth can-i` exits 1 when the answer is "no"; its stdout still says so.
        return ((err as { stdout?: string }).stdout ?? "").trim();
      }
    };
    expect(await canI("list", "pods")).toBe("yes");
    expect(await canI("delete", "pods")).toBe("no");
    expect(await canI("list", "secrets")).toBe("no");
    expect(await canI("list", "pods", "default")).toBe("no");
  });

  it("issues working service-account tokens", async () => {
    await kubectl(["create", "serviceaccount", "-n", ns, "token-user"]);
    const token = (
      await kubectl(["create", "token", "-n", ns, "token-user", "--duration=10m"])
    ).trim();
    const { server, kubeconfig } = ensureCluster();
    const whoami = JSON.parse(
      await kubectl(
        [
          "auth",
          "whoami",
          "-o",
          "json",
          "--server",
          server,
          "--token",
          token,
          `--certificate-authority=${kubeconfig.replace(/admin\.kubeconfig$/, "pki/ca.crt")}`,
        ],
        { kubeconfig: "/dev/null" },
      ),
    ) as { status: { userInfo: { username: string } } };
    expect(whoami.status.userInfo.username).toBe(`system:serviceaccount:${ns}:token-user`);
  });
});

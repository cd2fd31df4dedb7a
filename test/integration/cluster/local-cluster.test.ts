// Proves the local cluster is a real one the rest of the suite can stand on: a Ready kubelet node,
// privileged hostPID pods pinned by nodeName running a locally imported image, pod logs through the
// API server, and RBAC answering for service accounts.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCluster, kubectl } from "../../support/cluster.js";

const ns = `kic-cluster-${randomBytes(3).toString("hex")}`;

describe("local cluster", () => {
  beforeAll(() => {
    ensureCluster();
    kubectl(["create", "namespace", ns]);
  });
  afterAll(() => {
    kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("registers this host as a Ready node running containerd", () => {
    const { nodeName } = ensureCluster();
    const node = JSON.parse(kubectl(["get", "node", nodeName, "-o", "json"])) as {
      status: { conditions: { type: string; status: string }[]; nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string } };
    };
    expect(node.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
    expect(node.status.nodeInfo.kubeletVersion).toMatch(/^v1\.\d+\.\d+$/);
  });

  it("runs a privileged hostPID pod pinned by nodeName from a locally imported image, with readable logs", () => {
    const { nodeName, image } = ensureCluster();
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
            securityContext: { privileged: true },
            // Enter the host's namespaces the way the helper pod does and read the host's hostname.
            command: ["nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "cat", "/proc/1/comm"],
          },
        ],
      },
    };
    kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
    kubectl(["wait", "-n", ns, "pod/nsenter-probe", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s"]);
    const hostInit = kubectl(["logs", "-n", ns, "nsenter-probe"]).trim();
    expect(hostInit.length).toBeGreaterThan(0);
    // The container's own pid 1 would be `nsenter`; through hostPID + nsenter we see the host's init.
    expect(hostInit).not.toBe("nsenter");
  });

  it("answers RBAC questions for a service account as its bindings say", () => {
    kubectl(["create", "serviceaccount", "-n", ns, "reader"]);
    kubectl(["create", "role", "-n", ns, "pod-reader", "--verb=get,list", "--resource=pods"]);
    kubectl(["create", "rolebinding", "-n", ns, "reader", "--role=pod-reader", `--serviceaccount=${ns}:reader`]);
    const canI = (verb: string, resource: string, namespace = ns) => {
      try {
        return kubectl(["auth", "can-i", verb, resource, "-n", namespace, `--as=system:serviceaccount:${ns}:reader`]).trim();
      } catch (err) {
        // `kubectl auth can-i` exits 1 when the answer is "no"; its stdout still says so.
        return ((err as { stdout?: string }).stdout ?? "").trim();
      }
    };
    expect(canI("list", "pods")).toBe("yes");
    expect(canI("delete", "pods")).toBe("no");
    expect(canI("list", "secrets")).toBe("no");
    expect(canI("list", "pods", "default")).toBe("no");
  });

  it("issues working service-account tokens", () => {
    kubectl(["create", "serviceaccount", "-n", ns, "token-user"]);
    const token = kubectl(["create", "token", "-n", ns, "token-user", "--duration=10m"]).trim();
    const { server, kubeconfig } = ensureCluster();
    const whoami = JSON.parse(
      kubectl(
        ["auth", "whoami", "-o", "json", "--server", server, "--token", token,
          `--certificate-authority=${kubeconfig.replace(/admin\.kubeconfig$/, "pki/ca.crt")}`],
        { kubeconfig: "/dev/null" },
      ),
    ) as { status: { userInfo: { username: string } } };
    expect(whoami.status.userInfo.username).toBe(`system:serviceaccount:${ns}:token-user`);
  });
});

import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { describe, expect, it } from "vitest";
import { pullSecretVolume } from "../support/pull-secret-volume.js";
import { socketModeSecurityContext } from "../support/socket-mode-security.js";
import { loadRunConfig } from "../../../src/config/run-options.js";
import {
  ANNOTATIONS_MAX_BYTES,
  buildHelperPod,
  agentDeadline,
  helperArgs,
  protectListProblem,
} from "../../../src/controller/helper-pod.js";

const ID = `sha256:${"ab".repeat(32)}`;

const config = loadRunConfig(
  {
    include: ["docker.io/acme/*", "ghcr.io/acme/**"],
    exclude: ["*/acme/base:*"],
    "min-age": "7d",
    client: "crictl",
    "helper-image": "ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0",
    "node-timeout": "5m",
    "priority-class": "system-node-critical",
    "helper-image-pull-secret": ["regcred"],
  },
  {},
);

/** When the helper pod is created (the controller's clock): 2025-01-01 03:00:00 UTC. */
const CREATED = Date.UTC(2025, 0, 1, 3, 0, 0);

const build = (over: Partial<Parameters<typeof buildHelperPod>[0]> = {}) =>
  buildHelperPod({
    createdAt: CREATED,
    config,
    namespace: "kic",
    runId: "20250101t030000-1a2b",
    node: "node-a",
    protect: ["docker.io/library/nginx:1.25", ID],
    owner: { name: "kic-29000000-xyz", uid: "1111-2222" },
    ...over,
  });

describe("helper pod", () => {
  const pod = build();
  const spec = pod.spec;
  const container = spec?.containers[0];

  it("is pinned to its node and never restarts", () => {
    expect(spec?.nodeName).toBe("node-a");
    expect(spec?.restartPolicy).toBe("Never");
    expect(spec?.containers).toHaveLength(1);
    expect(spec?.initContainers).toBeUndefined();
  });

  it("shares the host PID namespace and runs privileged as root, and only that", () => {
    expect(spec?.hostPID).toBe(true);
    expect(container?.securityContext).toEqual({
      privileged: true,
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
    });
    // nsenter enters the host's network namespace itself; the pod needs neither host network nor
    // host IPC nor any host path: its one volume is the downward API file of its own annotation.
    expect(spec?.hostNetwork).toBeUndefined();
    expect(spec?.hostIPC).toBeUndefined();
    expect(spec?.volumes?.map((v) => v.name)).toEqual(["protect"]);
    expect(spec?.volumes?.[0]?.hostPath).toBeUndefined();
    expect(container?.volumeMounts).toEqual([
      { name: "protect", mountPath: "/etc/kube-image-cleanup/protect", readOnly: true },
    ]);
  });

  it("carries no service account token and no service links", () => {
    expect(spec?.automountServiceAccountToken).toBe(false);
    expect(spec?.enableServiceLinks).toBe(false);
    expect(spec?.serviceAccountName).toBeUndefined();
  });

  it("ends on its own at the node timeout", () => {
    expect(spec?.activeDeadlineSeconds).toBe(300);
  });

  it("tolerates every taint by default", () => {
    expect(spec?.tolerations).toEqual([{ operator: "Exists" }]);
  });

  it("uses the configured image, pull secrets, priority class and small resources", () => {
    expect(container?.image).toBe("ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0");
    expect(container?.imagePullPolicy).toBe("IfNotPresent");
    expect(spec?.imagePullSecrets).toEqual([{ name: "regcred" }]);
    expect(spec?.priorityClassName).toBe("system-node-critical");
    expect(container?.resources).toEqual({
      requests: { cpu: "10m", memory: "48Mi" },
      limits: { cpu: "500m", memory: "192Mi" },
    });
  });

  it("runs the agent through the image's entrypoint with argv elements, never a shell", () => {
    expect(container?.command).toBeUndefined();
    expect(container?.args).toEqual([
      "agent",
      "--include=docker.io/acme/*",
      "--include=ghcr.io/acme/**",
      "--exclude=*/acme/base:*",
      "--min-age=7d",
      "--client=crictl",
      "--host-exec=nsenter",
      "--log-format=json",
      "--node-name=node-a",
      "--deadline=2025-01-01T03:04:00.000Z",
      "--protect-file=/etc/kube-image-cleanup/protect/images.json",
    ]);
  });

  it("hands the images to protect over as a file from its own annotation, not as argv (128 KiB per argument)", () => {
    expect(pod.metadata?.annotations?.["kube-image-cleanup.io/protect"]).toBe(
      JSON.stringify(["docker.io/library/nginx:1.25", ID]),
    );
    expect(spec?.volumes).toEqual([
      {
        name: "protect",
        downwardAPI: {
          items: [
            {
              path: "images.json",
              fieldRef: { fieldPath: "metadata.annotations['kube-image-cleanup.io/protect']" },
            },
          ],
        },
      },
    ]);
    const many = Array.from({ length: 3000 }, (_, i) => `registry.example.com/team/app-${i}:v1`);
    const args = buildHelperPod({
      createdAt: CREATED,
      config,
      namespace: "kic",
      runId: "r",
      node: "node-a",
      protect: many,
      owner: undefined,
    }).spec?.containers[0]?.args;
    expect(args?.join(" ").length).toBeLessThan(1024);
  });

  it("fails the node clearly when the protect list exceeds what pod annotations hold, never cutting it", () => {
    const fits = Array.from({ length: 2000 }, (_, i) => `registry.example.com/team/app-${i}:v1`);
    expect(protectListProblem(fits, "node-a")).toBeUndefined();
    const tooMany = Array.from({ length: 8000 }, (_, i) => `registry.example.com/team/app-${i}:v1`);
    expect(JSON.stringify(tooMany).length).toBeGreaterThan(ANNOTATIONS_MAX_BYTES);
    expect(protectListProblem(tooMany, "node-a")).toMatch(
      /^the pods on the node and the cluster's workload templates reference 8000 distinct images \(\d+ KiB as a list\), more than a pod's annotations can hold \(256 KiB\).*node is not cleaned/,
    );
  });

  it("passes --dry-run, --socket and --nsenter-target through", () => {
    const dry = loadRunConfig(
      {
        include: ["x/*"],
        "dry-run": true,
        socket: "unix:///run/k3s/containerd/containerd.sock",
        "nsenter-target": "2051",
      },
      {},
    );
    const args = helperArgs({ config: dry, node: "n", protect: [], createdAt: CREATED });
    expect(args).toContain("--dry-run");
    expect(args).toContain("--socket=/run/k3s/containerd/containerd.sock");
    expect(args).toContain("--nsenter-target=2051");
  });

  it("keeps a shell-looking pattern as one argument", () => {
    // The loader refuses such a glob (no image name has these characters); the helper's argv
    // must still never split or interpret one, whatever reaches it.
    const odd = { ...config, agent: { ...config.agent, include: ["docker.io/acme/*; rm -rf /"] } };
    expect(helperArgs({ config: odd, node: "n", protect: [], createdAt: CREATED })[1]).toBe(
      "--include=docker.io/acme/*; rm -rf /",
    );
  });

  it("is labelled for its instance, run and node, so runs find and sweep their pods", () => {
    expect(pod.metadata?.labels).toEqual({
      "app.kubernetes.io/name": "kube-image-cleanup",
      "app.kubernetes.io/instance": "kube-image-cleanup",
      "app.kubernetes.io/component": "agent",
      "app.kubernetes.io/managed-by": "kube-image-cleanup",
      "kube-image-cleanup.io/run-id": "20250101t030000-1a2b",
      "kube-image-cleanup.io/node": "node-a",
    });
    expect(pod.metadata?.annotations?.["kube-image-cleanup.io/node"]).toBe("node-a");
    expect(pod.metadata?.namespace).toBe("kic");
    expect(pod.metadata?.name).toBe("kic-20250101t030000-1a2b-node-a");
  });

  it("is owned by the controller's pod, without blockOwnerDeletion (needs extra RBAC)", () => {
    expect(pod.metadata?.ownerReferences).toEqual([
      { apiVersion: "v1", kind: "Pod", name: "kic-29000000-xyz", uid: "1111-2222" },
    ]);
    expect(build({ owner: undefined }).metadata?.ownerReferences).toBeUndefined();
  });

  it("omits resources and pull secrets that are not set", () => {
    const bare = loadRunConfig(
      {
        include: ["x/*"],
        "helper-cpu-request": "",
        "helper-memory-request": "",
        "helper-cpu-limit": "",
        "helper-memory-limit": "",
      },
      {},
    );
    const p = buildHelperPod({
      createdAt: CREATED,
      config: bare,
      namespace: "n",
      runId: "r",
      node: "n",
      protect: [],
      owner: undefined,
    });
    expect(p.spec?.containers[0]?.resources).toEqual({});
    expect(p.spec?.imagePullSecrets).toBeUndefined();
    expect(p.spec?.priorityClassName).toBeUndefined();
  });

  it("matches the reviewed manifest", () => {
    expect(pod).toMatchSnapshot();
  });
});

describe("helper pod in socket mode (--helper-mode socket)", () => {
  const socketConfig = (args: Record<string, unknown> = {}) =>
    loadRunConfig({ ...args, include: ["docker.io/acme/*"], "helper-mode": "socket" }, {});
  const buildIn = (c: ReturnType<typeof socketConfig>) =>
    buildHelperPod({
      createdAt: CREATED,
      config: c,
      namespace: "kic",
      runId: "r1",
      node: "node-a",
      protect: [],
      owner: undefined,
    });
  const pod = buildIn(socketConfig());
  const spec = pod.spec;
  const container = spec?.containers[0];

  it("has none of the privileged mode's fields: no host namespace, not privileged, not root", () => {
    expect(spec?.hostPID).toBeUndefined();
    expect(spec?.hostNetwork).toBeUndefined();
    expect(spec?.hostIPC).toBeUndefined();
    expect(spec?.shareProcessNamespace).toBeUndefined();
    expect(spec?.securityContext).toBeUndefined();
    expect(container?.securityContext?.privileged).toBe(false);
    expect(container?.securityContext?.runAsUser).not.toBe(0);
    expect(container?.args?.some((a) => a.startsWith("--nsenter-target"))).toBe(false);
    expect(container?.args).not.toContain("--host-exec=nsenter");
  });

  it("runs least privilege: all capabilities dropped, no escalation, read-only root, RuntimeDefault seccomp, uid 1000 in the socket's group", () => {
    expect(container?.securityContext).toEqual(socketModeSecurityContext(1000, 0));
  });

  it("mounts only the node's runtime socket, the file itself with type Socket, beside the protect file", () => {
    expect(spec?.volumes?.map((v) => v.name)).toEqual(["protect", "runtime-socket"]);
    expect(spec?.volumes?.[1]).toEqual({
      name: "runtime-socket",
      hostPath: { path: "/run/containerd/containerd.sock", type: "Socket" },
    });
    expect(container?.volumeMounts).toEqual([
      { name: "protect", mountPath: "/etc/kube-image-cleanup/protect", readOnly: true },
      { name: "runtime-socket", mountPath: "/run/kube-image-cleanup/runtime.sock" },
    ]);
  });

  it("tells the agent to use the image's clients on the mounted socket (--host-exec socket)", () => {
    expect(container?.args).toEqual([
      "agent",
      "--include=docker.io/acme/*",
      "--client=auto",
      "--socket=/run/kube-image-cleanup/runtime.sock",
      "--host-exec=socket",
      "--log-format=json",
      "--node-name=node-a",
      "--deadline=2025-01-01T03:09:00.000Z",
      "--protect-file=/etc/kube-image-cleanup/protect/images.json",
    ]);
  });

  it("mounts --socket from the node, takes the uid and gid given, and leaves --nsenter-target out", () => {
    const c = socketConfig({
      socket: "unix:///run/k3s/containerd/containerd.sock",
      "nsenter-target": "containerd",
      "helper-socket-uid": "65532",
      "helper-socket-gid": "1800",
    });
    const p = buildIn(c);
    expect(p.spec?.volumes?.[1]?.hostPath).toEqual({
      path: "/run/k3s/containerd/containerd.sock",
      type: "Socket",
    });
    expect(p.spec?.containers[0]?.securityContext).toMatchObject({
      runAsUser: 65532,
      runAsGroup: 1800,
      runAsNonRoot: true,
    });
    const args = p.spec?.containers[0]?.args ?? [];
    expect(args).toContain("--socket=/run/kube-image-cleanup/runtime.sock");
    expect(args.some((a) => a.startsWith("--nsenter-target"))).toBe(false);
    // uid 0 (a socket only its owner may use) is root, and says so: runAsNonRoot false.
    const root = buildIn(socketConfig({ "helper-socket-uid": "0" }));
    expect(root.spec?.containers[0]?.securityContext).toMatchObject({
      runAsUser: 0,
      runAsNonRoot: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("leaves the privileged mode exactly as it was by default", () => {
    const d = loadRunConfig({ include: ["x/*"] }, {});
    expect(d.helper.mode).toBe("privileged");
    const p = buildIn(d);
    expect(p.spec?.hostPID).toBe(true);
    expect(p.spec?.volumes?.map((v) => v.name)).toEqual(["protect"]);
    expect(p.spec?.containers[0]?.args).toContain("--host-exec=nsenter");
  });

  it("matches the reviewed manifest", () => {
    expect(pod).toMatchSnapshot();
  });
});

describe("helper pod with --only-if-pullable", () => {
  const pullable = (mode: "privileged" | "socket") =>
    buildHelperPod({
      createdAt: CREATED,
      config: loadRunConfig(
        {
          include: ["registry.example.com/team/*"],
          "only-if-pullable": true,
          "registry-timeout": "20s",
          "registry-pull-secret": ["registry-pull", "hub-pull"],
          "helper-mode": mode,
        },
        {},
      ),
      namespace: "kic",
      runId: "20250101t030000-1a2b",
      node: "node-a",
      protect: [],
      owner: undefined,
    });

  it.each(["privileged", "socket"] as const)(
    "%s: mounts each registry pull Secret read-only with only its .dockerconfigjson, passes the files, runs on the node's network",
    (mode) => {
      const spec = pullable(mode).spec;
      const agent = spec?.containers[0];
      expect(spec?.hostNetwork).toBe(true);
      expect(spec?.volumes?.filter((v) => v.secret !== undefined)).toEqual([
        pullSecretVolume(0, "registry-pull"),
        pullSecretVolume(1, "hub-pull"),
      ]);
      expect(agent?.volumeMounts?.filter((m) => m.name.startsWith("pull-secret-"))).toEqual([
        {
          name: "pull-secret-0",
          mountPath: "/etc/kube-image-cleanup/pull-secrets/registry-pull",
          readOnly: true,
        },
        {
          name: "pull-secret-1",
          mountPath: "/etc/kube-image-cleanup/pull-secrets/hub-pull",
          readOnly: true,
        },
      ]);
      expect(
        agent?.args?.filter((a) =>
          /^--(only-if-pullable|registry-timeout|pull-secret-file)=/.test(a),
        ),
      ).toEqual([
        "--only-if-pullable=true",
        "--registry-timeout=20s",
        "--pull-secret-file=/etc/kube-image-cleanup/pull-secrets/registry-pull/.dockerconfigjson",
        "--pull-secret-file=/etc/kube-image-cleanup/pull-secrets/hub-pull/.dockerconfigjson",
      ]);
      // Nothing of a Secret's content is in the pod: only names and paths.
      expect(JSON.stringify(spec?.containers)).not.toMatch(/auth|password/i);
    },
  );

  it("without --only-if-pullable mounts no Secret and stays off the node's network, whatever is named", () => {
    const spec = buildHelperPod({
      createdAt: CREATED,
      config: loadRunConfig(
        { include: ["registry.example.com/team/*"], "registry-pull-secret": ["registry-pull"] },
        {},
      ),
      namespace: "kic",
      runId: "20250101t030000-1a2b",
      node: "node-a",
      protect: [],
      owner: undefined,
    }).spec;
    expect(spec?.hostNetwork).toBeUndefined();
    expect(spec?.volumes?.some((v) => v.secret !== undefined)).toBe(false);
    expect(spec?.containers[0]?.args?.some((a) => a.includes("pull-secret"))).toBe(false);
  });
});

describe("the agent's deadline", () => {
  it("is a time: the pod's creation plus the node timeout less the reserve, whenever the agent starts", () => {
    // 1 m node timeout: a 20% reserve (12 s); 10 s: the 5 s minimum; 10 m: the 60 s maximum.
    expect(agentDeadline(CREATED, 60)).toBe("2025-01-01T03:00:48.000Z");
    expect(agentDeadline(CREATED, 600)).toBe("2025-01-01T03:09:00.000Z");
    expect(agentDeadline(CREATED, 10)).toBe("2025-01-01T03:00:05.000Z");
    expect(agentDeadline(CREATED, 3600)).toBe("2025-01-01T03:59:00.000Z");
    const args = build({ createdAt: CREATED + 90_000 }).spec?.containers[0]?.args ?? [];
    expect(args).toContain("--deadline=2025-01-01T03:05:30.000Z");
  });

  it("is read back by the agent as that time, and a duration still counts from the agent's start", () => {
    const at = loadAgentConfig({ include: ["x/*"], deadline: "2025-01-01T03:08:00.000Z" }, {});
    expect(at.deadlineAtMs).toBe(CREATED + 8 * 60_000);
    expect(at.deadlineSeconds).toBeUndefined();
    const after = loadAgentConfig({ include: ["x/*"], deadline: "90s" }, {});
    expect(after.deadlineSeconds).toBe(90);
    expect(after.deadlineAtMs).toBeUndefined();
    expect(() =>
      loadAgentConfig({ include: ["x/*"], deadline: "2025-01-01T03:08:00" }, {}),
    ).toThrow(/--deadline.*RFC 3339 with its offset/);
  });
});

// The chart's ValidatingAdmissionPolicy on the real API server: `helm install` creates it (the
// server serves admissionregistration.k8s.io/v1), then, authenticated as the controller's service
// account with a TokenRequest token, hand-made privileged pods are refused with the policy's
// message, every helper pod the controller builds from the release's own CronJob arguments is
// admitted, and a real run of the CronJob still deletes images on the node.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
 * client-node's models are classes only for their serializer metadata; it takes plain objects, and
 * literal manifests read like the YAML a token holder would send (as in src/controller/helper-pod.ts). */
import { randomBytes } from "node:crypto";
import { ApiException, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import yargs from "yargs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../../src/commands/run.js";
import { loadRunConfig, type RunConfig } from "../../../src/config/run-options.js";
import { buildHelperPod } from "../../../src/controller/helper-pod.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import {
  adminKubeConfig,
  eventually,
  nodeImageNames,
  removeNodeImages,
  sampleImages,
  serviceAccountKubeConfig,
} from "../../support/controller-on-cluster.js";
import { helm, helmOk, installInNewNamespace, kubectlResult, uniqueName } from "./release.js";

const tok = randomBytes(3).toString("hex");
const prefix = `demo.local/kic-vap-${tok}`;
/** A PriorityClass the release does not name (created for the test, removed after). */
const priorityClass = `kic-vap-${tok}`;

/** The run config the release's CronJob gives the controller, parsed by the CLI's own `run` command. */
async function releaseConfig(namespace: string, name: string): Promise<Readonly<RunConfig>> {
  const cronJob = JSON.parse(
    await kubectl(["get", "cronjob", "-n", namespace, name, "-o", "json"]),
  ) as {
    spec: { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } } };
  };
  const args = cronJob.spec.jobTemplate.spec.template.spec.containers[0]?.args ?? [];
  let parsed: Record<string, unknown> | undefined;
  await yargs(args)
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      // Typed as always set; undefined for validation failures (unknown flag, bad choice).
      const thrown = err as Error | undefined;
      throw thrown ?? new Error(msg);
    })
    .command({
      ...runCommand,
      handler: (argv) => {
        parsed = argv;
      },
    })
    .parseAsync();
  if (!parsed)
    throw new Error(`the run command did not accept the CronJob's args: ${args.join(" ")}`);
  return loadRunConfig(parsed, { POD_NAMESPACE: namespace });
}

/** A release of the chart in a namespace of its own, and what its admission policy is tested with. */
interface PolicyRelease {
  readonly release: string;
  readonly ns: string;
  readonly fullname: string;
  /** The name of the release's ValidatingAdmissionPolicy and of its binding. */
  readonly policy: string;
  /** How the policy's refusal begins; the message of the rule a pod breaks follows it. */
  readonly denied: string;
  /** The real node (the release's nodes.names). */
  readonly node: string;
  /** The core API as the controller's service account, with a TokenRequest token. */
  readonly controller: CoreV1Api;
  /** The run config the release's CronJob gives the controller. */
  readonly config: Readonly<RunConfig>;
}

/**
 * The release `release` for the describe block this is called in: its beforeAll installs the chart
 * with `values()` on top of the test values and the real node as nodes.names, takes a token for the
 * controller's service account and the run config of the release's CronJob, and waits until the
 * policy refuses a privileged pod; its afterAll uninstalls the release and deletes the namespace.
 */
function policyRelease(release: string, values: () => Record<string, unknown>): PolicyRelease {
  const ns = uniqueName(`kic-chart-${release}`);
  const fullname = `${release}-kube-image-cleanup`;
  const policy = `${fullname}-${ns}`;
  const denied = `ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: system:serviceaccount:${ns}:${fullname} may create only kube-image-cleanup helper pods (admissionPolicy.create):`;
  let node = "";
  let controller: CoreV1Api | undefined;
  let config: Readonly<RunConfig> | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`release ${release}: its beforeAll has not run`);
    return value;
  };
  const r: PolicyRelease = {
    release,
    ns,
    fullname,
    policy,
    denied,
    get node() {
      return node;
    },
    get controller() {
      return ready(controller);
    },
    get config() {
      return ready(config);
    },
  };

  beforeAll(async () => {
    node = ensureCluster().nodeName;
    await installInNewNamespace(release, ns, { nodes: { names: [node] }, ...values() });
    const asController = (await serviceAccountKubeConfig(ns, fullname)).makeApiClient(CoreV1Api);
    controller = asController;
    config = await releaseConfig(ns, fullname);
    const probe = rootPod(r, "probe", config.helper.image);
    // The API server applies a new policy once its informers saw it and its binding.
    await eventually(
      async () => (await create(asController, probe, true)).includes(denied) || undefined,
      `the admission policy of release ${release} to take effect`,
      30_000,
    );
  }, 180_000);

  afterAll(async () => {
    await helm(["uninstall", release, "--namespace", ns]);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });
  return r;
}

/**
 * A helper pod exactly as the controller builds it for release `r`, with `change` applied: what a
 * token holder would try.
 */
function helperPod(
  r: PolicyRelease,
  name: string,
  protect: string[] = [],
  change: (pod: V1Pod) => void = () => undefined,
): V1Pod {
  const pod = buildHelperPod({
    createdAt: Date.now(),
    config: r.config,
    namespace: r.ns,
    runId: `${r.release}${name}`,
    node: r.node,
    protect,
    owner: undefined,
  });
  // The controller's own name is derived from run and node; a readable one per case here.
  if (pod.metadata) pod.metadata.name = name;
  change(pod);
  return pod;
}

/**
 * Creates the pod in its namespace (or only admits it, with dryRun) and returns "created" or the API
 * server's refusal.
 */
async function create(api: CoreV1Api, pod: V1Pod, dryRun = false): Promise<string> {
  const namespace = pod.metadata?.namespace;
  if (namespace === undefined) throw new Error(`pod ${pod.metadata?.name ?? ""} without namespace`);
  try {
    await api.createNamespacedPod({
      namespace,
      body: pod,
      ...(dryRun ? { dryRun: "All" } : {}),
    });
    return "created";
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = (typeof err.body === "string" ? JSON.parse(err.body) : err.body) as {
      message?: string;
    };
    return `${String(err.code)} ${body.message ?? ""}`;
  }
}

type Refusal = [what: string, change: (pod: V1Pod) => void, message: string];

/**
 * One test per refusal: the controller's service account may not create release `r`'s helper pod
 * (a `kind`) with that change, and the policy's answer names the rule.
 */
function itRefuses(r: PolicyRelease, kind: string, refusals: Refusal[], dryRun: boolean): void {
  for (const [what, change, message] of refusals) {
    it(`refuses a ${kind} with ${what}, saying what is allowed`, async () => {
      const name = `bad-${randomBytes(3).toString("hex")}`;
      const answer = await create(r.controller, helperPod(r, name, [], change), dryRun);
      expect(answer).toContain(`403 pods "${name}" is forbidden: ${r.denied} ${message}`);
    });
  }
}

function spec(pod: V1Pod) {
  if (!pod.spec) throw new Error("helper pod without spec");
  return pod.spec;
}

function agent(pod: V1Pod) {
  const c = spec(pod).containers[0];
  if (!c) throw new Error("helper pod without container");
  return c;
}

function args(pod: V1Pod): string[] {
  const a = agent(pod);
  a.args ??= [];
  return a.args;
}

function securityContext(pod: V1Pod) {
  const a = agent(pod);
  a.securityContext ??= {};
  return a.securityContext;
}

/**
 * The protect list as a downwardAPI file (src/controller/helper-pod.ts: PROTECT_VOLUME and its
 * mount; --protect-file names the file).
 */
function withProtectVolume(pod: V1Pod): V1Pod {
  spec(pod).volumes = [
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
  ];
  agent(pod).volumeMounts = [
    { name: "protect", mountPath: "/etc/kube-image-cleanup/protect", readOnly: true },
  ];
  const a = args(pod).filter((x) => !x.startsWith("--protect"));
  a.push("--protect-file=/etc/kube-image-cleanup/protect/images.json");
  agent(pod).args = a;
  pod.metadata ??= {};
  pod.metadata.annotations = {
    ...pod.metadata.annotations,
    "kube-image-cleanup.io/protect": JSON.stringify(["docker.io/library/nginx:1.25"]),
  };
  return pod;
}

/** A plain privileged pod with the node's root file system: root on the node. */
const rootPod = (r: PolicyRelease, name: string, image: string): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: r.ns },
  spec: {
    nodeName: r.node,
    hostPID: true,
    restartPolicy: "Never",
    automountServiceAccountToken: false,
    containers: [
      {
        name: "agent",
        image,
        imagePullPolicy: "Never",
        command: ["chroot", "/host", "sh"],
        securityContext: { privileged: true },
        volumeMounts: [{ name: "host", mountPath: "/host" }],
      },
    ],
    volumes: [{ name: "host", hostPath: { path: "/" } }],
  },
});

describe("the chart's admission policy on the real API server", () => {
  const vap = policyRelease("vap", () => ({ images: { include: [`${prefix}/*`] } }));

  beforeAll(async () => {
    await kubectl(["create", "priorityclass", priorityClass, "--value=1000"]);
  });

  afterAll(async () => {
    await kubectl(["delete", "priorityclass", priorityClass, "--ignore-not-found"]);
    removeNodeImages([`${prefix}/app:v1`, `${prefix}/app:v2`]);
  });

  it("is installed by helm where the API server serves ValidatingAdmissionPolicy v1", async () => {
    const names = await kubectl([
      "get",
      "validatingadmissionpolicy,validatingadmissionpolicybinding",
      "-l",
      `app.kubernetes.io/instance=${vap.release}`,
      "-o",
      "name",
    ]);
    expect(names).toContain(`validatingadmissionpolicy.admissionregistration.k8s.io/${vap.policy}`);
    expect(names).toContain(
      `validatingadmissionpolicybinding.admissionregistration.k8s.io/${vap.policy}`,
    );
  });

  it("refuses a hand-made privileged pod with the node's root file system from the controller's service account", async () => {
    // The chart's own image, but its own command and a hostPath of /.
    expect(
      await create(vap.controller, rootPod(vap, "root-same-image", vap.config.helper.image)),
    ).toBe(
      `403 pods "root-same-image" is forbidden: ${vap.denied} the image's entrypoint with args "agent" and --flag=value agent flags only (no command, no workingDir)`,
    );
    // Another image.
    expect(
      await create(vap.controller, rootPod(vap, "root-busybox", "docker.io/library/busybox:1.36")),
    ).toBe(
      `403 pods "root-busybox" is forbidden: ${vap.denied} the container must be "agent" with image ${vap.config.helper.image} and imagePullPolicy Never`,
    );
    const left = await kubectlResult(["get", "pods", "-n", vap.ns, "-o", "name"]);
    expect(left.stdout).not.toContain("root-");
  });

  const refusals: Refusal[] = [
    [
      "a hostPath volume",
      (p) => {
        spec(p).volumes = [{ name: "host", hostPath: { path: "/" } }];
        agent(p).volumeMounts = [{ name: "host", mountPath: "/host" }];
      },
      "no volumes, volume mounts or devices",
    ],
    [
      "the protect-list volume mounted over the agent's code",
      (p) => {
        withProtectVolume(p);
        agent(p).volumeMounts = [{ name: "protect", mountPath: "/app/dist", readOnly: true }];
      },
      "no volumes, volume mounts or devices",
    ],
    [
      "the protect-list volume writing another file name",
      (p) => {
        withProtectVolume(p);
        const items = spec(p).volumes?.[0]?.downwardAPI?.items;
        if (items?.[0]) items[0].path = "cli.js";
      },
      "no volumes, volume mounts or devices",
    ],
    [
      "the host network",
      (p) => void (spec(p).hostNetwork = true),
      "hostPID and nothing else of the host",
    ],
    [
      "the host IPC namespace",
      (p) => void (spec(p).hostIPC = true),
      "hostPID and nothing else of the host",
    ],
    [
      "another image",
      (p) => void (agent(p).image = "docker.io/library/busybox:1.36"),
      "the container must be",
    ],
    [
      "a command of its own",
      (p) => void (agent(p).command = ["nsenter", "-t", "1", "-a", "sh"]),
      "the image's entrypoint with args",
    ],
    [
      "an agent flag that reads a host file",
      (p) => void args(p).push("--protect-file=/proc/1/root/etc/shadow"),
      "the agent's --protect-file flag must be --protect-file=/etc/kube-image-cleanup/protect/images.json",
    ],
    // Issue 26 item 3: a stolen token must not run the agent without the pods' protect list.
    [
      "no protect list at all (no flag, annotation, volume or mount)",
      (p) => {
        agent(p).args = args(p).filter((x) => !x.startsWith("--protect-file="));
        spec(p).volumes = [];
        agent(p).volumeMounts = [];
        delete p.metadata?.annotations?.["kube-image-cleanup.io/protect"];
      },
      "the agent's --protect-file flag must be --protect-file=/etc/kube-image-cleanup/protect/images.json",
    ],
    [
      "the protect flag but no protect annotation (an empty file)",
      (p) => {
        delete p.metadata?.annotations?.["kube-image-cleanup.io/protect"];
      },
      "the protect list is required: annotation kube-image-cleanup.io/protect",
    ],
    [
      "the protect flag but no protect volume or mount",
      (p) => {
        spec(p).volumes = [];
        agent(p).volumeMounts = [];
      },
      "the protect list is required: annotation kube-image-cleanup.io/protect",
    ],
    [
      "a priority class the release does not configure",
      (p) => void (spec(p).priorityClassName = priorityClass),
      "no priorityClassName (helper.priorityClassName)",
    ],
    [
      "the termination message file over the agent's code",
      (p) => void (agent(p).terminationMessagePath = "/app/dist/cli.js"),
      "terminationMessagePath /dev/termination-log and terminationMessagePolicy FallbackToLogsOnError",
    ],
    [
      "another runtime socket",
      (p) => void args(p).push("--socket=/run/other.sock"),
      "the agent's --socket flag must be",
    ],
    [
      "the agent's host exec switched to direct",
      (p) => {
        const a = agent(p);
        a.args = args(p).map((x) => (x === "--host-exec=nsenter" ? "--host-exec=direct" : x));
      },
      "the agent's --host-exec flag must be --host-exec=nsenter",
    ],
    [
      "a second container",
      (p) => void spec(p).containers.push({ name: "shell", image: vap.config.helper.image }),
      "exactly one container",
    ],
    [
      "an init container",
      (p) =>
        void (spec(p).initContainers = [
          { name: "init", image: vap.config.helper.image, command: ["sh"] },
        ]),
      "exactly one container",
    ],
    [
      "NODE_OPTIONS that load code",
      (p) =>
        void (agent(p).env ??= []).push({
          name: "NODE_OPTIONS",
          value: "--require=/proc/1/root/tmp/x.js",
        }),
      "the only environment variable is NODE_NAME",
    ],
    [
      "NODE_NAME read from a secret (printed in the log the controller may read)",
      (p) => {
        agent(p).env = [
          { name: "NODE_NAME", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
        ];
      },
      "the only environment variable is NODE_NAME",
    ],
    [
      "the service account token mounted",
      (p) => void (spec(p).automountServiceAccountToken = true),
      // The API server's ServiceAccount admission adds the token volume first.
      "no volumes, volume mounts or devices",
    ],
    [
      "a capability added",
      (p) => void (securityContext(p).capabilities = { add: ["SYS_ADMIN"] }),
      "the container's securityContext must be exactly",
    ],
    [
      "an exec probe",
      (p) => void (agent(p).livenessProbe = { exec: { command: ["sh", "-c", "id"] } }),
      "no lifecycle hooks, probes, stdin or tty",
    ],
    ["no node name", (p) => void (spec(p).nodeName = undefined), "pinned to a node (nodeName)"],
  ];

  itRefuses(vap, "helper pod", refusals, false);

  it("lets the cluster admin create the same pods: the policy binds only the controller's account", async () => {
    const asAdmin = adminKubeConfig().makeApiClient(CoreV1Api);
    const pod = rootPod(vap, "admin-root", vap.config.helper.image);
    expect(await create(asAdmin, pod, true)).toBe("created");
  });

  it("admits every helper pod the controller builds from the release's CronJob arguments", async () => {
    const pods = [
      helperPod(vap, "plain"),
      helperPod(vap, "protect", [
        "docker.io/library/nginx:1.25",
        "registry.example.com/a/b@sha256:" + "0".repeat(64),
      ]),
      // The protect list as a file in a downwardAPI volume, the helper's only allowed volume.
      withProtectVolume(helperPod(vap, "protectfile")),
      // A busy node: the policy's checks over every argument stay within CEL's cost budget.
      helperPod(
        vap,
        "many",
        Array.from(
          { length: 2000 },
          (_, i) => `registry.example.com/team-${String(i)}/app:v${String(i)}`,
        ),
      ),
    ];
    for (const pod of pods) {
      expect(await create(vap.controller, pod, true), pod.metadata?.name).toBe("created");
    }
  });

  it("still lets a real run of the CronJob delete images on the node", async () => {
    const images = sampleImages([`${prefix}/app:v1`, `${prefix}/app:v2`]);
    expect(images).toHaveLength(2);
    const job = `vap-now-${tok}`;
    await kubectl(["create", "job", "-n", vap.ns, `--from=cronjob/${vap.fullname}`, job]);
    let log = "";
    try {
      await kubectl([
        "wait",
        "-n",
        vap.ns,
        `job/${job}`,
        "--for=condition=complete",
        "--timeout=180s",
      ]);
    } finally {
      log = await kubectl(["logs", "-n", vap.ns, `job/${job}`]).catch((e: unknown) => String(e));
    }
    expect(log).toMatch(new RegExp(`^\\[1/1\\] ${vap.node}: deleted 2 images`, "m"));
    expect(log).toMatch(/^summary of run \S+: 1 node: 1 ok, 0 failed; deleted 2 images/m);
    expect(nodeImageNames().filter((n) => n.startsWith(`${prefix}/`))).toEqual([]);
  }, 240_000);

  it("is removed by helm uninstall", async () => {
    await helmOk(["uninstall", vap.release, "--namespace", vap.ns]);
    for (const kind of ["validatingadmissionpolicy", "validatingadmissionpolicybinding"]) {
      expect((await kubectlResult(["get", kind, vap.policy])).stderr).toContain("NotFound");
    }
  });
});

// A release with helper.mode=socket: its policy admits the unprivileged helper pod the controller
// builds, and nothing privileged or of the host but the one socket, whatever a token holder tries.
describe("the chart's admission policy on the real API server, helper.mode=socket", () => {
  const vaps = policyRelease("vaps", () => ({
    helper: { mode: "socket", socket: { gid: ensureCluster().containerdSocketGid } },
  }));

  beforeAll(() => {
    expect(vaps.config.helper.mode).toBe("socket");
  });

  it("admits the unprivileged helper pod the controller builds from the release's CronJob arguments", async () => {
    const pod = helperPod(vaps, "socket-helper");
    expect(pod.spec?.hostPID).toBeUndefined();
    expect(await create(vaps.controller, pod, true)).toBe("created");
  });

  const socketRefusals: Refusal[] = [
    [
      "the privileged mode's shape (hostPID, privileged, root)",
      (p) => {
        if (p.spec) p.spec.hostPID = true;
        // allowPrivilegeEscalation too: privileged with it false is a 422 before admission.
        Object.assign(securityContext(p), {
          privileged: true,
          allowPrivilegeEscalation: true,
          runAsUser: 0,
          runAsNonRoot: false,
        });
      },
      "the container's securityContext must be exactly privileged false",
    ],
    [
      "hostPID alone",
      (p) => {
        if (p.spec) p.spec.hostPID = true;
      },
      "nothing of the host (helper.mode=socket): no hostPID",
    ],
    [
      "the node's root file system instead of the socket",
      (p) => {
        const v = p.spec?.volumes?.find((x) => x.name === "runtime-socket");
        if (v) v.hostPath = { path: "/", type: "Directory" };
      },
      "no volumes, volume mounts or devices but the protect list",
    ],
    [
      "the socket's directory instead of the socket",
      (p) => {
        const v = p.spec?.volumes?.find((x) => x.name === "runtime-socket");
        if (v?.hostPath) v.hostPath.path = ensureCluster().containerdSocket.replace(/\/[^/]+$/, "");
      },
      "no volumes, volume mounts or devices but the protect list",
    ],
    [
      "the socket mounted over the agent's code",
      (p) => {
        const m = p.spec?.containers[0]?.volumeMounts?.find((x) => x.name === "runtime-socket");
        if (m) m.mountPath = "/app/dist/cli.js";
      },
      "no volumes, volume mounts or devices but the protect list",
    ],
    [
      "a capability added",
      (p) => void (securityContext(p).capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] }),
      "the container's securityContext must be exactly",
    ],
    [
      "root",
      (p) => void Object.assign(securityContext(p), { runAsUser: 0, runAsNonRoot: false }),
      "the container's securityContext must be exactly",
    ],
    [
      "another group than the socket's",
      (p) => void (securityContext(p).runAsGroup = 6),
      "the container's securityContext must be exactly",
    ],
    [
      "an extra group for the whole pod",
      (p) => {
        if (p.spec) p.spec.securityContext = { supplementalGroups: [0, 6] };
      },
      "no pod-level supplementalGroups",
    ],
    [
      "privilege escalation allowed",
      (p) => void (securityContext(p).allowPrivilegeEscalation = true),
      "the container's securityContext must be exactly",
    ],
    [
      "seccomp unconfined",
      (p) => void (securityContext(p).seccompProfile = { type: "Unconfined" }),
      "the container's securityContext must be exactly",
    ],
    [
      "the agent switched to nsenter",
      (p) => {
        const c = p.spec?.containers[0];
        if (c?.args)
          c.args = c.args.map((a) => (a === "--host-exec=socket" ? "--host-exec=nsenter" : a));
      },
      "the agent's --host-exec flag must be --host-exec=socket",
    ],
  ];

  itRefuses(vaps, "socket-mode helper pod", socketRefusals, true);
});

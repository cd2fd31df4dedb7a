import type { V1PodSpec } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { only, render, REQUIRED_VALUES, type Rendered } from "./helm.js";

type V1CronJob = Rendered<"CronJob">;

function cronJob(values: Record<string, unknown> = {}, opts: { release?: string } = {}): V1CronJob {
  return only(render({ values: { ...REQUIRED_VALUES, ...values }, ...opts }), "CronJob");
}

function podSpec(job: V1CronJob): V1PodSpec {
  const spec = job.spec?.jobTemplate.spec?.template.spec;
  if (!spec) throw new Error("CronJob has no pod template spec");
  return spec;
}

function controller(job: V1CronJob) {
  const c = podSpec(job).containers[0];
  if (!c) throw new Error("no controller container");
  return c;
}

describe("CronJob with only the required values", () => {
  const job = cronJob();
  const spec = podSpec(job);
  const container = controller(job);

  it("runs on the given schedule, one run at a time, without retries", () => {
    expect(job.metadata?.name).toBe("kic-kube-image-cleanup");
    expect(job.metadata?.namespace).toBe("kic-system");
    expect(job.spec?.schedule).toBe("0 3 * * *");
    expect(job.spec?.timeZone).toBeUndefined();
    expect(job.spec?.suspend).toBe(false);
    expect(job.spec?.concurrencyPolicy).toBe("Forbid");
    expect(job.spec?.startingDeadlineSeconds).toBe(300);
    expect(job.spec?.successfulJobsHistoryLimit).toBe(3);
    expect(job.spec?.failedJobsHistoryLimit).toBe(3);
    expect(job.spec?.jobTemplate.spec?.backoffLimit).toBe(0);
    expect(job.spec?.jobTemplate.spec?.activeDeadlineSeconds).toBe(3600);
    expect(job.spec?.jobTemplate.spec?.ttlSecondsAfterFinished).toBeUndefined();
    expect(spec.restartPolicy).toBe("Never");
  });

  it("runs the controller as non-root with a read-only root fs, no privilege escalation, no capabilities, RuntimeDefault seccomp", () => {
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(spec.hostPID).toBeUndefined();
    expect(spec.hostNetwork).toBeUndefined();
    // The only writable place: a small scratch directory.
    expect(container.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
    expect(spec.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
  });

  it("gives the controller its pod name, uid and namespace from the downward API, and a small heap", () => {
    expect(container.env).toEqual([
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      // Rendered without ValidatingAdmissionPolicy v1: the controller says so in every run's log.
      { name: "ADMISSION_POLICY", value: "not-served" },
      { name: "NODE_OPTIONS", value: "--max-old-space-size=96 --max-semi-space-size=1" },
    ]);
  });

  it("sets no NODE_OPTIONS when controller.nodeOptions is empty", () => {
    const env = controller(cronJob({ controller: { nodeOptions: "" } })).env ?? [];
    expect(env.map((e) => e.name)).not.toContain("NODE_OPTIONS");
  });

  it("runs the chart's image at appVersion with the run command, under the chart's service account", () => {
    expect(container.image).toBe("ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0");
    expect(container.imagePullPolicy).toBe("IfNotPresent");
    expect(container.command).toBeUndefined(); // the image's ENTRYPOINT: node /app/dist/cli.js
    expect(container.args?.[0]).toBe("run");
    expect(container.args).toContain("--include=docker.io/acme/*");
    expect(container.args).toContain("--namespace=kic-system");
    expect(container.args).toContain(
      "--helper-image=ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0",
    );
    expect(container.args).not.toContain("--keep-pods");
    expect(spec.serviceAccountName).toBe("kic-kube-image-cleanup");
    expect(spec.terminationGracePeriodSeconds).toBe(60);
    expect(container.resources).toEqual({
      requests: { cpu: "50m", memory: "96Mi" },
      limits: { memory: "256Mi" },
    });
  });

  it("labels the pod with name, instance and component only, and the CronJob with the standard labels", () => {
    expect(job.spec?.jobTemplate.spec?.template.metadata?.labels).toEqual({
      "app.kubernetes.io/name": "kube-image-cleanup",
      "app.kubernetes.io/instance": "kic",
      "app.kubernetes.io/component": "controller",
    });
    expect(job.metadata?.labels).toEqual({
      "helm.sh/chart": "kube-image-cleanup-0.1.0",
      "app.kubernetes.io/name": "kube-image-cleanup",
      "app.kubernetes.io/instance": "kic",
      "app.kubernetes.io/version": "0.1.0",
      "app.kubernetes.io/managed-by": "Helm",
      "app.kubernetes.io/component": "controller",
    });
  });
});

describe("CronJob values", () => {
  it("passes every include and exclude glob as its own argument, unsplit and unquoted", () => {
    const args = controller(
      cronJob({
        images: {
          include: ["docker.io/acme/*", "**/pause:*", "a b"],
          exclude: ["docker.io/acme/base:*"],
          minAge: "7d",
        },
      }),
    ).args;
    expect(args).toEqual(
      expect.arrayContaining([
        "--include=docker.io/acme/*",
        "--include=**/pause:*",
        "--include=a b",
        "--exclude=docker.io/acme/base:*",
        "--min-age=7d",
      ]),
    );
  });

  it("turns node selection values into flags", () => {
    const args = controller(
      cronJob({
        nodes: {
          selector: "node-role.kubernetes.io/worker,zone in (a,b)",
          names: ["n1", "n2"],
          exclude: ["n3"],
          skipNotReady: false,
          skipCordoned: true,
        },
        concurrency: 4,
      }),
    ).args;
    expect(args).toEqual(
      expect.arrayContaining([
        "--node-selector=node-role.kubernetes.io/worker,zone in (a,b)",
        "--nodes=n1",
        "--nodes=n2",
        "--exclude-nodes=n3",
        "--skip-not-ready=false",
        "--skip-cordoned=true",
        "--concurrency=4",
      ]),
    );
  });

  it("passes runtime, dry-run, formats and the node timeout", () => {
    const args = controller(
      cronJob({
        runtime: { client: "ctr", socket: "/run/k3s/containerd/containerd.sock" },
        dryRun: true,
        logFormat: "json",
        output: "json",
        timeouts: { node: "90s" },
      }),
    ).args;
    expect(args).toEqual(
      expect.arrayContaining([
        "--client=ctr",
        "--socket=/run/k3s/containerd/containerd.sock",
        "--dry-run=true",
        "--log-format=json",
        "--output=json",
        "--node-timeout=90s",
      ]),
    );
  });

  it("keeps helper pods (--keep-pods) when rbac.allowPodDeletion is false", () => {
    expect(controller(cronJob({ rbac: { allowPodDeletion: false } })).args).toContain(
      "--keep-pods",
    );
  });

  it("uses repository@digest for the controller and the helper pods when a digest is given", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const job = cronJob({
      image: { repository: "registry.example.com/kic", tag: "9.9.9", digest, pullPolicy: "Always" },
      imagePullSecrets: [{ name: "regcred" }],
    });
    const c = controller(job);
    expect(c.image).toBe(`registry.example.com/kic@${digest}`);
    expect(c.imagePullPolicy).toBe("Always");
    expect(c.args).toContain(`--helper-image=registry.example.com/kic@${digest}`);
    expect(c.args).toContain("--helper-image-pull-policy=Always");
    expect(podSpec(job).imagePullSecrets).toEqual([{ name: "regcred" }]);
  });

  it("uses the given tag when there is no digest", () => {
    expect(controller(cronJob({ image: { tag: "1.2.3" } })).image).toBe(
      "ghcr.io/kube-image-cleanup/kube-image-cleanup:1.2.3",
    );
  });

  it("runs on the host network with extra env after the downward-API variables (local cluster without kube-proxy)", () => {
    const job = cronJob({
      controller: {
        hostNetwork: true,
        env: [
          { name: "KUBERNETES_SERVICE_HOST", value: "127.0.0.1" },
          { name: "KUBERNETES_SERVICE_PORT", value: "16443" },
        ],
      },
    });
    expect(podSpec(job).hostNetwork).toBe(true);
    expect(podSpec(job).dnsPolicy).toBe("ClusterFirstWithHostNet");
    expect(controller(job).env?.map((e) => e.name)).toEqual([
      "POD_NAME",
      "POD_UID",
      "POD_NAMESPACE",
      "ADMISSION_POLICY",
      "NODE_OPTIONS",
      "KUBERNETES_SERVICE_HOST",
      "KUBERNETES_SERVICE_PORT",
    ]);
    expect(controller(job).env?.[6]).toEqual({ name: "KUBERNETES_SERVICE_PORT", value: "16443" });
  });

  it("sets every CronJob knob, and leaves out the deadlines set to null", () => {
    const job = cronJob({
      timeZone: "Europe/Berlin",
      suspend: true,
      cronJob: {
        concurrencyPolicy: "Replace",
        startingDeadlineSeconds: null,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 5,
        ttlSecondsAfterFinished: 86400,
        backoffLimit: 2,
        labels: { team: "platform" },
        annotations: { "example.com/owner": "platform" },
      },
      timeouts: { runSeconds: null },
    });
    expect(job.spec?.timeZone).toBe("Europe/Berlin");
    expect(job.spec?.suspend).toBe(true);
    expect(job.spec?.concurrencyPolicy).toBe("Replace");
    expect(job.spec).not.toHaveProperty("startingDeadlineSeconds");
    expect(job.spec?.successfulJobsHistoryLimit).toBe(1);
    expect(job.spec?.failedJobsHistoryLimit).toBe(5);
    expect(job.spec?.jobTemplate.spec?.ttlSecondsAfterFinished).toBe(86400);
    expect(job.spec?.jobTemplate.spec?.backoffLimit).toBe(2);
    expect(job.spec?.jobTemplate.spec).not.toHaveProperty("activeDeadlineSeconds");
    expect(job.metadata?.labels?.team).toBe("platform");
    expect(job.spec?.jobTemplate.metadata?.labels?.team).toBe("platform");
    expect(job.metadata?.annotations).toEqual({ "example.com/owner": "platform" });
  });

  it("places the controller pod with its own selector, tolerations, affinity, priority class and pod metadata", () => {
    const affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } };
    const job = cronJob({
      priorityClassName: "system-cluster-critical",
      controller: {
        nodeSelector: { "kubernetes.io/os": "linux" },
        tolerations: [{ key: "k", operator: "Exists" }],
        affinity,
        podLabels: { team: "platform" },
        podAnnotations: { "example.com/audit": "true" },
      },
    });
    const spec = podSpec(job);
    expect(spec.priorityClassName).toBe("system-cluster-critical");
    expect(spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(spec.tolerations).toEqual([{ key: "k", operator: "Exists" }]);
    expect(spec.affinity).toEqual(affinity);
    expect(job.spec?.jobTemplate.spec?.template.metadata?.labels?.team).toBe("platform");
    expect(job.spec?.jobTemplate.spec?.template.metadata?.annotations).toEqual({
      "example.com/audit": "true",
    });
  });

  it("passes helper pod resources, tolerations and priority class to the controller", () => {
    const args = controller(
      cronJob({
        helper: {
          resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
          tolerations: [
            { key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" },
          ],
          priorityClassName: "system-node-critical",
        },
      }),
    ).args;
    expect(args).toEqual(
      expect.arrayContaining([
        "--helper-cpu-request=20m",
        "--helper-memory-request=64Mi",
        "--helper-memory-limit=256Mi",
        '--helper-tolerations=[{"effect":"NoSchedule","key":"dedicated","operator":"Equal","value":"gpu"}]',
        "--priority-class=system-node-critical",
      ]),
    );
    // Helm merges maps: a default the values do not override (the cpu limit) stays.
    expect(args).toContain("--helper-cpu-limit=500m");
  });

  it("keeps names within 52 characters so the CronJob's Job names stay within 63", () => {
    // 53 characters is the longest release name helm accepts.
    expect(cronJob({}, { release: "r".repeat(53) }).metadata?.name).toBe("r".repeat(52));
    // Truncation that ends on the separator drops it.
    expect(cronJob({}, { release: "r".repeat(51) }).metadata?.name).toBe("r".repeat(51));
    expect(cronJob({ fullnameOverride: "cleaner" }).metadata?.name).toBe("cleaner");
    // A release name that already contains the chart name is used as is.
    expect(cronJob({}, { release: "kube-image-cleanup" }).metadata?.name).toBe(
      "kube-image-cleanup",
    );
  });
});

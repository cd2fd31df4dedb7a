// The ValidatingAdmissionPolicy that limits the controller's service account to helper pods: when the
// chart renders it, whom it applies to, and which chart values it pins. What it admits and refuses
// is proven on the real API server (test/integration/chart/admission-policy.test.ts); here, that
// the rendered policy carries this release's values, as inert CEL string literals.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentArgv } from "../../../src/config/agent-argv.js";
import { chartDir, kinds, only, render, REQUIRED_VALUES, VAP_API, type Rendered } from "./helm.js";

type Policy = Rendered<"ValidatingAdmissionPolicy">;

function policy(values: Record<string, unknown> = {}, files: string[] = []): Policy {
  return only(
    render({ values: { ...REQUIRED_VALUES, ...values }, files, extraArgs: VAP_API }),
    "ValidatingAdmissionPolicy",
  );
}

/** Every validation expression, joined: what the policy checks, as text. */
function expressions(p: Policy): string {
  return (p.spec?.validations ?? []).map((v) => v.expression).join("\n");
}

describe("admission policy for the controller's service account", () => {
  it("is rendered with its binding where the API server serves ValidatingAdmissionPolicy v1", () => {
    const objects = render({ values: REQUIRED_VALUES, extraArgs: VAP_API });
    const p = only(objects, "ValidatingAdmissionPolicy");
    const b = only(objects, "ValidatingAdmissionPolicyBinding");
    // Cluster-scoped: the namespace is part of the name, as for the ClusterRole.
    expect(p.metadata?.name).toBe("kic-kube-image-cleanup-kic-system");
    expect(b.metadata?.name).toBe("kic-kube-image-cleanup-kic-system");
    expect(b.spec?.policyName).toBe("kic-kube-image-cleanup-kic-system");
    expect(b.spec?.validationActions).toEqual(["Deny"]);
    expect(b.spec?.matchResources).toBeUndefined();
    expect(p.spec?.failurePolicy).toBe("Fail");
    expect(p.spec?.matchConstraints?.resourceRules).toEqual([
      {
        apiGroups: [""],
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        resources: ["pods"],
      },
    ]);
  });

  it("is not rendered where the API server does not serve it, nor with admissionPolicy.create=false", () => {
    expect(kinds(render({ values: REQUIRED_VALUES }))).not.toContain("ValidatingAdmissionPolicy");
    const off = render({
      values: { ...REQUIRED_VALUES, admissionPolicy: { create: false } },
      extraArgs: VAP_API,
    });
    expect(kinds(off)).not.toContain("ValidatingAdmissionPolicy");
    expect(kinds(off)).not.toContain("ValidatingAdmissionPolicyBinding");
  });

  it("applies only to requests from the controller's service account", () => {
    expect(policy().spec?.matchConditions).toEqual([
      {
        name: "controller-service-account",
        expression:
          'request.userInfo.username == "system:serviceaccount:kic-system:kic-kube-image-cleanup"',
      },
    ]);
    // An existing account named by serviceAccount.name, with the chart's RBAC off, is limited too.
    expect(
      policy({ rbac: { create: false }, serviceAccount: { create: false, name: "cleaner" } }).spec
        ?.matchConditions?.[0]?.expression,
    ).toBe('request.userInfo.username == "system:serviceaccount:kic-system:cleaner"');
  });

  it("pins the chart's image and pull policy and the default runtime flags", () => {
    const text = expressions(policy());
    expect(text).toContain(
      'variables.agent.image == "ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0"',
    );
    expect(text).toContain('variables.agent.imagePullPolicy == "IfNotPresent"');
    expect(text).toContain(
      'variables.args.filter(a, a.startsWith("--client=")) == ["--client=auto"]',
    );
    expect(text).toContain('variables.args.filter(a, a.startsWith("--socket=")) == []');
    expect(text).toContain('variables.args.filter(a, a.startsWith("--nsenter-target=")) == []');
    expect(text).toContain(
      'variables.args.filter(a, a.startsWith("--host-exec=")) == ["--host-exec=nsenter"]',
    );
    expect(text).toContain(
      'variables.args.filter(a, a.startsWith("--log-format=")) == ["--log-format=json"]',
    );
  });

  it("pins the runtime values and the image digest a release sets, as the controller passes them", () => {
    const runtime = expressions(policy({}, [join(chartDir, "ci", "05-runtime.yaml")]));
    expect(runtime).toContain('== ["--client=ctr"]');
    expect(runtime).toContain('== ["--socket=/run/k3s/containerd/containerd.sock"]');
    expect(runtime).toContain('== ["--nsenter-target=containerd"]');
    // The controller strips unix:// from the socket (src/config/run-options.ts).
    const crio = expressions(
      policy({ runtime: { socket: "unix:///run/crio/crio.sock", nsenterTarget: 1 } }),
    );
    expect(crio).toContain('== ["--socket=/run/crio/crio.sock"]');
    expect(crio).toContain('== ["--nsenter-target=1"]');
    const digest = expressions(policy({}, [join(chartDir, "ci", "06-image-digest.yaml")]));
    expect(digest).toContain(
      'variables.agent.image == "registry.example.com/tools/kube-image-cleanup@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" && variables.agent.imagePullPolicy == "Always"',
    );
  });

  it("allows no volume but the protect list's downwardAPI file, mounted read-only where the agent reads it", () => {
    const text = expressions(policy());
    expect(text).toContain('v.name == "protect" && has(v.downwardAPI)');
    expect(text).toContain(
      `i.fieldRef.fieldPath == "metadata.annotations['kube-image-cleanup.io/protect']"`,
    );
    expect(text).toContain('m.mountPath == "/etc/kube-image-cleanup/protect"');
    expect(text).toContain('["--protect-file=/etc/kube-image-cleanup/protect/images.json"]');
  });

  it("with images.onlyIfPullable pins the registry flags, exactly the named Secrets' volumes and mounts, and the host's network", () => {
    const values = {
      images: { ...REQUIRED_VALUES.images, onlyIfPullable: true, registryTimeout: "20s" },
      registryPullSecrets: ["registry-pull", "hub-pull"],
    };
    for (const mode of ["privileged", "socket"]) {
      const p = policy({ ...values, helper: { mode } });
      const text = expressions(p);
      expect(text).toContain(
        'variables.args.filter(a, a.startsWith("--only-if-pullable=")) == ["--only-if-pullable=true"]',
      );
      expect(text).toContain(
        'variables.args.filter(a, a.startsWith("--registry-timeout=")) == ["--registry-timeout=20s"]',
      );
      expect(text).toContain(
        'variables.args.filter(a, a.startsWith("--pull-secret-file=")) == ["--pull-secret-file=/etc/kube-image-cleanup/pull-secrets/registry-pull/.dockerconfigjson","--pull-secret-file=/etc/kube-image-cleanup/pull-secrets/hub-pull/.dockerconfigjson"]',
      );
      expect(text).toContain(
        `(v.name == "pull-secret-1" && has(v.secret) && v.secret.secretName == "hub-pull" && has(v.secret.items) && size(v.secret.items) == 1`,
      );
      expect(text).toContain(
        '(m.name == "pull-secret-0" && m.mountPath == "/etc/kube-image-cleanup/pull-secrets/registry-pull" && has(m.readOnly) && m.readOnly == true)',
      );
      expect(text).toContain("has(object.spec.hostNetwork) && object.spec.hostNetwork == true");
      expect(text).toContain(`size(variables.volumes) <= ${mode === "socket" ? "4" : "3"}`);
    }
    // Without it: none of that, and no host network.
    const plain = expressions(policy({ registryPullSecrets: ["registry-pull"] }));
    expect(plain).not.toContain("pull-secret-0");
    expect(plain).toContain('variables.args.filter(a, a.startsWith("--pull-secret-file=")) == []');
    expect(plain).toContain("(!has(object.spec.hostNetwork) || object.spec.hostNetwork == false)");
  });

  it("in socket mode pins the unprivileged shape: the socket's hostPath and mount, the agent's socket flags, the exact security context, no host namespace", () => {
    const text = expressions(policy({}, [join(chartDir, "ci", "11-socket-mode.yaml")]));
    expect(text).toContain(
      'variables.args.filter(a, a.startsWith("--host-exec=")) == ["--host-exec=socket"]',
    );
    expect(text).toContain(
      'variables.args.filter(a, a.startsWith("--socket=")) == ["--socket=/run/kube-image-cleanup/runtime.sock"]',
    );
    expect(text).toContain('variables.args.filter(a, a.startsWith("--nsenter-target=")) == []');
    // The node's socket (unix:// stripped, as the controller does), the file itself, type Socket.
    expect(text).toContain(
      `v.hostPath.path == "/run/k3s/containerd/containerd.sock" && has(v.hostPath.type) && v.hostPath.type == 'Socket'`,
    );
    expect(text).toContain(
      'm.name == "runtime-socket" && m.mountPath == "/run/kube-image-cleanup/runtime.sock"',
    );
    for (const part of [
      "variables.agent.securityContext.privileged == false",
      "variables.agent.securityContext.allowPrivilegeEscalation == false",
      "variables.agent.securityContext.readOnlyRootFilesystem == true",
      "variables.agent.securityContext.runAsUser == 65532",
      "variables.agent.securityContext.runAsGroup == 1800",
      "variables.agent.securityContext.runAsNonRoot == true",
      "!has(variables.agent.securityContext.capabilities.add)",
      "variables.agent.securityContext.capabilities.drop == ['ALL']",
      "variables.agent.securityContext.seccompProfile.type == 'RuntimeDefault'",
      "(!has(object.spec.hostPID) || object.spec.hostPID == false)",
      "!has(object.spec.securityContext.supplementalGroups)",
    ]) {
      expect(text, part).toContain(part);
    }
    // Nothing of the privileged shape is admitted by a socket-mode release.
    expect(text).not.toContain("privileged == true");
    expect(text).not.toContain("object.spec.hostPID == true");
    expect(text).not.toContain("--host-exec=nsenter");
    // uid 0 (a socket only root may use) is root and says so.
    const root = expressions(policy({ helper: { mode: "socket", socket: { uid: 0, gid: 0 } } }));
    expect(root).toContain("variables.agent.securityContext.runAsUser == 0");
    expect(root).toContain("variables.agent.securityContext.runAsNonRoot == false");
    expect(root).toContain('v.hostPath.path == "/run/containerd/containerd.sock"');
  });

  it("in privileged mode admits no host path and no unprivileged variant", () => {
    const text = expressions(policy());
    expect(text).toContain("variables.agent.securityContext.privileged == true");
    expect(text).toContain("has(object.spec.hostPID) && object.spec.hostPID == true");
    expect(text).not.toContain("hostPath");
    expect(text).not.toContain("runtime-socket");
  });

  it("gives every check a message that names the account and the chart value", () => {
    const validations = [
      ...(policy().spec?.validations ?? []),
      ...(policy({ helper: { mode: "socket" } }).spec?.validations ?? []),
    ];
    expect(validations.length).toBeGreaterThanOrEqual(20);
    for (const v of validations) {
      expect(v.reason).toBe("Forbidden");
      expect(v.message).toMatch(
        /^system:serviceaccount:kic-system:kic-kube-image-cleanup may create only kube-image-cleanup helper pods \(admissionPolicy\.create\): \S/,
      );
    }
  });

  it("allows every flag the controller's agent argv builder can emit, in both helper modes", () => {
    // A flag added to the agent (as --deadline was) but not to the policy makes the API server refuse
    // every helper pod the controller creates: the run fails on every node.
    const argv = agentArgv({
      include: ["a/*"],
      exclude: ["b/*"],
      protectFile: "/etc/kube-image-cleanup/protect/images.json",
      minAge: "7d",
      unusedFor: "14d",
      keepNewest: "2",
      maxImagesPerNode: "50",
      maxBytesPerNode: "10Gi",
      client: "crictl",
      socket: "/run/containerd/containerd.sock",
      hostExec: "nsenter",
      dryRun: true,
      logFormat: "json",
      nodeName: "node-a",
      deadline: "96s",
      onlyIfPullable: true,
      registryTimeout: "10s",
      pullSecretFiles: ["/etc/kube-image-cleanup/pull-secrets/p/.dockerconfigjson"],
    });
    for (const values of [{}, { helper: { mode: "socket" } }]) {
      const allowed = /a\.matches\('\^--\(([a-z|-]+)\)='\)/
        .exec(expressions(policy(values)))?.[1]
        ?.split("|");
      expect(allowed).toBeDefined();
      for (const flag of argv) {
        const name = /^--([a-z-]+)(=|$)/.exec(flag)?.[1];
        expect(name === "dry-run" || allowed?.includes(name ?? ""), flag).toBe(true);
      }
    }
  });
});

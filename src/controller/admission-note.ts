// What the Job log says when no admission policy limits the pods the controller's service account
// may create: RBAC alone lets whoever holds its token run any privileged pod in the namespace,
// which is root on every node. The chart tells the controller (env ADMISSION_POLICY) whether it
// installed the policy; a run says so in plain words, every time, where it did not.
import type { RunConfig } from "../config/run-options.js";

/** The note for the run's log, or undefined where the policy is installed (or not known: no chart). */
export function admissionPolicyNote(
  state: RunConfig["admissionPolicy"],
  namespace: string,
): string | undefined {
  if (state === undefined || state === "installed") return undefined;
  const why =
    state === "not-served"
      ? "the API server does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (Kubernetes before 1.30), so the chart installed none"
      : "admissionPolicy.create=false";
  const next =
    state === "not-served"
      ? "upgrade the API server and the release, or set admissionPolicy.required=true to make installs fail without it"
      : "set admissionPolicy.create=true";
  return (
    `WARNING: no admission policy limits the pods this service account may create (${why}): ` +
    `whoever holds its token can create any privileged pod in namespace ${namespace}, which is ` +
    `root on every node, and helper pods without the protect list. To close this, ${next}`
  );
}

// Deleting helper pods, or keeping them: --keep-pods keeps finished ones for debugging, and when RBAC
// does not allow `delete pods` (rbac.allowPodDeletion=false) the run goes on and ends with the exact
// kubectl command that deletes what it left.
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import { describeCall, serverMessage, statusOf } from "../kube/errors.js";
import { discardAnswer } from "../kube/slim-list.js";
import type { LeftPods } from "../run-model/run-summary.js";
import { instanceLabels, selectorOf } from "../run-model/labels.js";

export class PodCleanup {
  private deniedBy: string | undefined;
  private readonly left = new Set<string>();

  constructor(
    private readonly kube: Pick<Kube, "core">,
    private readonly namespace: string,
    private readonly instance: string,
    private readonly keepPods: boolean,
    private readonly log: Logger,
    private readonly note: (message: string) => void,
  ) {}

  /** False once RBAC refused a delete: later pods are not even tried. */
  get deletionAllowed(): boolean {
    return this.deniedBy === undefined;
  }

  /**
   * Deletes a helper pod, or records it as left. `abandoned` pods (the run was interrupted while
   * they ran) are deleted even with --keep-pods, so no agent keeps working unobserved. True when
   * the API server accepted the delete (the pod goes once the kubelet has stopped it).
   */
  async remove(name: string, abandoned = false): Promise<boolean> {
    if ((this.keepPods && !abandoned) || !this.deletionAllowed) {
      this.left.add(name);
      return false;
    }
    try {
      // The deleted pod in the answer is never read: not even parsed.
      await this.kube.core.deleteNamespacedPod(
        { name, namespace: this.namespace },
        { middleware: [discardAnswer], middlewareMergeStrategy: "append" },
      );
      this.left.delete(name);
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return false; // already gone (the Job's garbage collection, or a person)
      this.left.add(name);
      if (status === 403) {
        if (this.deniedBy === undefined) {
          this.deniedBy = serverMessage(err);
          this.note(
            `${describeCall({ verb: "delete", resource: "pods", namespace: this.namespace })} is forbidden ` +
              "(rbac.allowPodDeletion=false?): helper pods are kept and the log ends with the command that deletes them",
          );
        }
        return false;
      }
      this.log.warn({ pod: name, err: serverMessage(err) }, "could not delete helper pod");
      return false;
    }
  }

  /** A pod that was not deleted (e.g. the sweep could not), counted in the final command. */
  markLeft(name: string): void {
    this.left.add(name);
  }

  /** The kubectl command that deletes every helper pod of this instance, when any were left. */
  leftPods(): LeftPods | undefined {
    if (this.left.size === 0) return undefined;
    const why =
      this.deniedBy !== undefined
        ? "deleting pods is forbidden for the controller's service account"
        : this.keepPods
          ? "--keep-pods"
          : "deleting them failed";
    return {
      why,
      count: this.left.size,
      command: `kubectl delete pods -n ${this.namespace} -l ${selectorOf(instanceLabels(this.instance))}`,
    };
  }
}

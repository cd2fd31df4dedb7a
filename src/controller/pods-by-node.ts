// The pod view's store: each bound pod, packed, under its node; and each pod's node, so a deletion
// (which may come without the node) finds its entry.
import { packPod, unpackPod, type PackedPod, type SlimPod } from "./pod-slim.js";

export class PodsByNode {
  // node -> uid (or namespace/name) -> pod, packed (pod-slim.ts: 684 bytes a bench pod, 973 as
  // objects). Unpacked only for the node asking.
  private readonly byNode = new Map<string, Map<string, PackedPod>>();
  private readonly nodeOf = new Map<string, string>();

  /** How many pods it holds. */
  get size(): number {
    return this.nodeOf.size;
  }

  /** Adds or replaces a bound pod; one without a key or a node is not held. */
  put(pod: SlimPod): void {
    const key = keyOf(pod);
    const node = pod.spec?.nodeName;
    if (key === undefined || node === undefined || node === "") return;
    // A pod's node does not change once bound; were it to, the old entry goes.
    const before = this.nodeOf.get(key);
    if (before !== undefined && before !== node) this.drop(key);
    this.nodeOf.set(key, node);
    let pods = this.byNode.get(node);
    if (pods === undefined) this.byNode.set(node, (pods = new Map<string, PackedPod>()));
    pods.set(key, packPod(pod));
  }

  /** Forgets a pod (deleted). */
  remove(pod: SlimPod): void {
    const key = keyOf(pod);
    if (key !== undefined) this.drop(key);
  }

  /** The pods held for `node`. */
  onNode(node: string): SlimPod[] {
    const pods = this.byNode.get(node);
    return pods === undefined ? [] : [...pods.values()].map(unpackPod);
  }

  private drop(key: string): void {
    const node = this.nodeOf.get(key);
    if (node === undefined) return;
    this.nodeOf.delete(key);
    const pods = this.byNode.get(node);
    pods?.delete(key);
    if (pods?.size === 0) this.byNode.delete(node);
  }
}

/** A pod's key: its uid, else namespace/name. */
function keyOf(pod: SlimPod): string | undefined {
  const m = pod.metadata;
  if (m?.uid !== undefined) return m.uid;
  if (m?.name === undefined) return undefined;
  return `${m.namespace ?? ""}/${m.name}`;
}

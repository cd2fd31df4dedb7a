// containerd's own accounting of the image filesystem, through ctr: the snapshots' used bytes plus
// the content store's blobs, in one namespace, computed by containerd on request (no refresh period
// to wait for). Used by the ctr client, and by the crictl client where ctr is there.
import type { HostExec } from "./host-exec.js";
import { runChecked } from "./host-exec.js";
import { parseCtrContent, parseCtrSnapshotUsage, type ImageFsReading } from "./image-fs.js";

export const CTR_IMAGE_FS_SOURCE = "ctr snapshots usage + ctr content ls";

export function createCtrImageFsReader(
  exec: HostExec,
  socket: string,
  namespace: string,
  program: string,
): () => Promise<ImageFsReading> {
  const ctr = (...args: string[]) =>
    runChecked(exec, [program, "--address", socket, "--namespace", namespace, ...args]);
  return async () => {
    // Both at once: the reading sits between the plan and the removals, and after them.
    const [snapshots, content] = await Promise.all([
      ctr("snapshots", "usage", "-b"),
      ctr("content", "ls"),
    ]);
    const store = parseCtrContent(content);
    return {
      usedBytes: parseCtrSnapshotUsage(snapshots) + store.bytes,
      source: CTR_IMAGE_FS_SOURCE,
      contentDigests: store.digests,
    };
  };
}

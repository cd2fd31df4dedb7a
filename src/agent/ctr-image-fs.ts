// containerd's own accounting of the image filesystem, through ctr: the snapshots' used bytes plus
// the content store's blobs, in one namespace, computed by containerd on request (no refresh period
// to wait for). Used by the ctr client, and by the crictl client where ctr is there.
import { CommandFailedError, runChecked, type HostExec } from "./host-exec.js";
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
  const read = () =>
    // Both at once: the reading sits between the plan and the removals, and after them.
    Promise.all([ctr("snapshots", "usage", "-b"), ctr("content", "ls")]);
  return async () => {
    let snapshots: string;
    let content: string;
    try {
      [snapshots, content] = await read();
    } catch (err) {
      // `snapshots usage` lists, then sizes each: a snapshot removed in between (another client's
      // removal, the kubelet's GC) fails the call. Once more; then the caller decides.
      if (!(err instanceof CommandFailedError)) throw err;
      [snapshots, content] = await read();
    }
    const store = parseCtrContent(content);
    return {
      usedBytes: parseCtrSnapshotUsage(snapshots) + store.bytes,
      source: CTR_IMAGE_FS_SOURCE,
      contentDigests: store.digests,
    };
  };
}

// What containers (and their sandboxes and image volumes) run, read through ctr: the containers'
// CRI metadata or, for containers other clients made, their snapshots' parent chains. Used by the
// ctr adapter and, for containers outside CRI, by the crictl adapter on containerd.
import {
  parseCtrContainerInfo,
  parseCtrContainers,
  parseCtrImageVolumeSnapshots,
  parseCtrSnapshotChains,
  parseCtrSnapshots,
  parseCtrTasks,
  type CtrContainerFacts,
} from "./ctr-parse.js";
import { CommandFailedError, type HostExec } from "./host-exec.js";
import { inParallel } from "./in-parallel.js";
import type { ContainerRecord, ImageVolumeRecord, SandboxRecord } from "./inventory.js";
import type { Usage } from "./runtime.js";
import type { CtrCalls } from "./ctr-command.js";

type CtrListed = ReturnType<typeof parseCtrContainers>;

/**
 * Reads what the containers of a namespace really run: `read(skip, listing)`. `skip` leaves out ids
 * the caller knows already (crictl: its CRI containers and sandboxes); `listing`, from `list()`,
 * lets the caller start the lists before it knows `skip` (crictl lists its own at the same time).
 */
export interface CtrUsageReader {
  (skip?: ReadonlySet<string>, listing?: Promise<CtrListed>): Promise<Usage>;
  list: () => Promise<CtrListed>;
}

/**
 * Lists the containers of a namespace (the one `calls` name) with what each really runs (see `read`
 * below). Reads each container's facts once per reader.
 */
export function createCtrUsageReader(exec: HostExec, calls: CtrCalls): CtrUsageReader {
  const { argv: ctrArgv, run: ctr } = calls;
  // What a container runs does not change while it exists: read once per container and run.
  const facts = new Map<string, CtrContainerFacts>();
  // Image ids by the chain id of their unpacked top layer; refreshed when a parent is not in it.
  let byChain: Map<string, string[]> | undefined;

  const readFacts = async (ids: readonly string[]) => {
    const todo = ids.filter((id) => !facts.has(id));
    const gone = new Set<string>();
    await inParallel(todo, async (id) => {
      const r = await exec.run(ctrArgv("containers", "info", id));
      if (r.code === 0) facts.set(id, parseCtrContainerInfo(r.stdout));
      // Removed since `containers ls`: it runs nothing any more.
      // (ctr: `container "<id>" in namespace "k8s.io": not found`)
      else if (/in namespace .*: not found\s*$/m.test(r.stderr)) gone.add(id);
      else throw new CommandFailedError(ctrArgv("containers", "info", id), r);
    });
    // The parent of the container's snapshot is the chain id of the image it was made from
    // (needed only where the CRI plugin recorded no image id).
    const bySnapshotter = new Map<string, CtrContainerFacts[]>();
    for (const id of todo) {
      const f = facts.get(id);
      if (f?.imageRef !== undefined) continue;
      if (f?.snapshotKey === undefined || f.snapshotter === undefined) continue;
      bySnapshotter.set(f.snapshotter, [...(bySnapshotter.get(f.snapshotter) ?? []), f]);
    }
    for (const [snapshotter, group] of bySnapshotter) {
      const parents = parseCtrSnapshots(await ctr("snapshots", "--snapshotter", snapshotter, "ls"));
      for (const f of group) {
        const parent = f.snapshotKey === undefined ? undefined : parents.get(f.snapshotKey);
        if (parent !== undefined) f.snapshotParent = parent;
      }
    }
    return gone;
  };

  const imagesOfChains = async (chains: readonly string[]) => {
    if (chains.length === 0) return new Map<string, string[]>();
    if (byChain === undefined || chains.some((c) => !byChain?.has(c))) {
      byChain = parseCtrSnapshotChains(await ctr("content", "ls"));
    }
    return byChain;
  };

  // Both lists at once: one round of client processes, not two. The tasks only say which of the
  // containers run; a container listed without its task (started in between) counts as not running,
  // as it would with the lists one after the other.
  const list = async (): Promise<CtrListed> => {
    const [tasksText, containersText] = await Promise.all([
      ctr("tasks", "ls"),
      ctr("containers", "ls"),
    ]);
    return parseCtrContainers(containersText, parseCtrTasks(tasksText));
  };

  const read = async (skip: ReadonlySet<string> = new Set(), listing?: Promise<CtrListed>) => {
    const listed = (await (listing ?? list())).filter((c) => !skip.has(c.id));
    const gone = await readFacts(listed.map((c) => c.id));
    const present = listed.filter((c) => !gone.has(c.id));
    const chains = present
      .map((c) => facts.get(c.id))
      .filter((f) => f !== undefined && f.imageRef === undefined)
      .map((f) => f?.snapshotParent)
      .filter((p): p is string => p !== undefined);
    const chainImages = await imagesOfChains([...new Set(chains)]);
    const containers: ContainerRecord[] = present.map((c) => {
      const f = facts.get(c.id);
      // The name (the IMAGE column) may have moved to another image since: it is kept as a
      // reference, and what the container really runs is added from the CRI metadata (the image
      // id) or, for containers made by other clients, from its snapshot's parent chain.
      const runs =
        f?.imageRef !== undefined
          ? [f.imageRef]
          : f?.snapshotParent !== undefined
            ? (chainImages.get(f.snapshotParent) ?? [])
            : [];
      return { ...c, images: [...new Set([...c.images, ...runs])] };
    });
    const sandboxes: SandboxRecord[] = present
      .filter((c) => facts.get(c.id)?.kind === "sandbox")
      .map((c) => {
        const pod = facts.get(c.id)?.pod;
        const record: SandboxRecord = {
          id: c.id,
          pod: pod === undefined ? `sandbox ${c.id.slice(0, 12)}` : `${pod.namespace}/${pod.name}`,
          image: c.images[0] ?? "",
          // The sandbox's task (the pause process) runs while the pod does.
          ready: c.state === "running",
        };
        if (pod?.uid !== undefined) record.uid = pod.uid;
        return record;
      });
    // Image volumes (containerd 2.1+) live in the snapshotter of the pod's containers; no
    // container, no pod, no image volume.
    const imageVolumes: ImageVolumeRecord[] = [];
    const snapshotters = new Set(
      present.map((c) => facts.get(c.id)?.snapshotter).filter((x): x is string => !!x),
    );
    for (const snapshotter of snapshotters) {
      imageVolumes.push(
        ...parseCtrImageVolumeSnapshots(await ctr("snapshots", "--snapshotter", snapshotter, "ls")),
      );
    }
    return { containers, sandboxes, imageVolumes };
  };
  return Object.assign(read, { list });
}

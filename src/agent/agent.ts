// One agent run on one node: connect, inventory, plan, execute, result. Dependencies come in, so
// tests run it in-process against a real runtime.
import { ConfigError, RuntimeUnavailableError } from "../errors.js";
import type { AgentConfig } from "../config/agent-options.js";
import { readProtectFile } from "../config/protect-list.js";
import { formatDuration } from "../config/duration.js";
import { createCrictlAdapter } from "./crictl.js";
import { createCtrAdapter } from "./ctr.js";
import { createDockerAdapter } from "./docker.js";
import { createEngineClient } from "./docker-engine.js";
import { DEADLINE_RESERVE_MS, executePlan } from "./execute.js";
import { CommandFailedError, lastLines } from "./host-exec.js";
import { imageFsFigure, type ImageFsReading } from "./image-fs.js";
import type { Inventory } from "./inventory.js";
import type { KnownPods, ProtectedRef } from "../config/protect-entries.js";
import { planDeletions, pullabilityCandidates, type PlanOptions } from "./plan.js";
import { findUnpullable } from "./pullable.js";
import { keepClocks, type KeptClocks } from "./keep-clocks.js";
import { manifestChecker } from "../registry/manifest-check.js";
import { readCredentialFiles } from "../registry/credential-files.js";
import type { AgentResult } from "../run-model/agent-result.js";
import {
  type AdapterFactory,
  connectRuntime,
  findSocket,
  NoCriError,
  type RuntimeAdapter,
  type RuntimeVersion,
} from "./runtime.js";
import type { AgentReporter } from "./report.js";
import { actionClock, runtimeRecord, type ActionDeps } from "./action.js";

export type AgentDeps = ActionDeps<AgentReporter>;

export async function runAgent(
  config: Readonly<AgentConfig>,
  deps: AgentDeps,
): Promise<AgentResult> {
  const { now, t0 } = actionClock(deps);
  const protect: (string | ProtectedRef)[] = [...config.protect];
  let knownPods: KnownPods | undefined;
  if (config.protectFile !== undefined) {
    const file = await readProtectFile(config.protectFile);
    protect.push(...file.refs);
    knownPods = file.pods;
  }

  if (deps.deadlineMs !== undefined && deps.deadlineMs - now() < DEADLINE_RESERVE_MS) {
    // The deadline counts from the helper pod's creation: a slow start used it up.
    const late = (now() - deps.deadlineMs) / 1000;
    deps.report.warn(
      `started ${late >= 0 ? `${late.toFixed(1)} s after` : `${(-late).toFixed(1)} s before`} its deadline ` +
        `${new Date(deps.deadlineMs).toISOString()} (--deadline): no removal batch can start; the helper ` +
        "pod started slowly (its image pulled?) or this node's clock is ahead of the controller's",
    );
  }
  const { adapter, version, socket } = await connect(config, deps);
  const runtime = runtimeRecord(deps.exec, adapter.client, socket, version);
  deps.report.connected(config.nodeName, runtime);

  const limited = config.limits.maxImages !== undefined || config.limits.maxBytes !== undefined;
  const inventory = await takeInventory(adapter, {
    withTimes: config.minAgeSeconds !== undefined,
    // Creation times only where a rule ranks images by them: with ctr one call per image.
    withCreated: config.keepNewest !== undefined || limited,
  });
  const t1 = now();
  deps.report.inventory(inventory, t1 - t0);
  if (config.minAgeSeconds !== undefined && !inventory.imageTimesKnown) {
    // Not knowing when an image came is not "old enough": refuse before anything is deleted.
    throw new ConfigError(
      "--min-age",
      formatDuration(config.minAgeSeconds),
      `${adapter.client} on ${socket}${version.name ? ` (${version.name})` : ""} does not tell when an image was pulled` +
        (adapter.client === "crictl"
          ? " and ctr could not read containerd's content store here; on containerd make ctr available or use --client ctr,"
          : adapter.client === "docker"
            ? " (its API has none) and its image store, where each image's record shows when it came, cannot be read from here;" +
              " run the agent as root where the Engine's data root is visible at its own path (DockerRootDir, e.g. mount /var/lib/docker/image read-only)," +
              " use --host-exec nsenter,"
            : ",") +
        " or remove --min-age; nothing was deleted",
    );
  }

  // Clocks are kept before the plan, in dry runs too: observing is what a dry run is for.
  let clocks: KeptClocks | undefined;
  if (config.unusedForSeconds !== undefined) {
    clocks = await keepClocks(adapter, inventory, {
      seconds: config.unusedForSeconds,
      include: config.include,
      exclude: config.exclude,
      protect,
      nowMs: now(),
      warn: (message) => {
        deps.report.warn(message);
      },
    });
  }

  const planOptions: PlanOptions = {
    include: config.include,
    exclude: config.exclude,
    protect,
    ...(config.minAgeSeconds === undefined ? {} : { minAgeSeconds: config.minAgeSeconds }),
    ...(clocks === undefined || config.unusedForSeconds === undefined
      ? {}
      : { unusedFor: { seconds: config.unusedForSeconds, state: clocks.state } }),
    ...(config.keepNewest === undefined ? {} : { keepNewest: config.keepNewest }),
    limits: config.limits,
    nowMs: now(),
  };
  if (config.pullable.onlyIfPullable) {
    // Registries are asked only about what would otherwise be deleted (pullable.ts says why).
    const candidates = pullabilityCandidates(inventory, planOptions);
    const checker = manifestChecker({
      credentials: await readCredentialFiles(config.pullSecretFiles),
      timeoutMs: config.pullable.registryTimeoutSeconds * 1000,
    });
    planOptions.unpullable = await findUnpullable(candidates, checker, {
      ...(deps.deadlineMs === undefined
        ? {}
        : { deadlineMs: deps.deadlineMs - DEADLINE_RESERVE_MS }),
      now,
    });
  }
  const plan = planDeletions(inventory, planOptions);
  const t2 = now();
  deps.report.plan(plan, inventory.images.length, config.dryRun, t2 - t1);

  const deleting = !config.dryRun && plan.delete.length > 0;
  // The image filesystem's figure is read right before and right after the removals, never waited
  // for: a runtime that has not caught up yet makes it `pending` (image-fs.ts), not the node slower.
  // Each reading runs beside a listing the removals need anyway: the one before beside the first
  // usage re-check (the first removal call waits for it), the one after beside the last verify.
  const fsBeforeRead = deleting ? readImageFs(adapter, deps) : Promise.resolve(undefined);
  let fsAfterRead: Promise<ImageFsReading | undefined> | undefined;
  let removedAt: number | undefined;
  const done = await executePlan(plan.delete, inventory, adapter, {
    beforeFirstRemoval: fsBeforeRead,
    afterLastRemoval: () => {
      removedAt = Date.now();
      fsAfterRead = readImageFs(adapter, deps);
    },
    dryRun: config.dryRun,
    log: deps.log,
    now,
    ...(deps.deadlineMs === undefined ? {} : { deadlineMs: deps.deadlineMs }),
    ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    ...(knownPods === undefined ? {} : { knownPods }),
    onBatch: (record) => {
      deps.report.batch(record);
    },
  });
  if (done.stopped !== undefined) {
    const left = done.keptLate.filter((k) => k.reason === "not-attempted").length;
    deps.report.warn(
      done.stopped === "deadline"
        ? `stopped before the deadline (--deadline): ${String(left)} planned images not attempted`
        : done.stopped === "pod-arrived"
          ? `stopped: pod ${(done.arrivedPods ?? []).join(", ")} bound to the node after the protect list was read; ${String(left)} planned images left for the next run`
          : `stopped (SIGTERM): ${String(left)} planned images not attempted`,
    );
  }
  const fsBefore = await fsBeforeRead;
  // Batches left out (stopped, or the last one all in use): read now, after the last removal.
  removedAt ??= Date.now();
  const fsAfter =
    fsBefore === undefined || done.deleted.length === 0
      ? undefined
      : await (fsAfterRead ?? readImageFs(adapter, deps));
  const t3 = now();

  const result: AgentResult = {
    version: 1,
    node: config.nodeName,
    runtime,
    dryRun: config.dryRun,
    counts: {
      images: inventory.images.length,
      matched: plan.matched,
      deleted: done.deleted.length,
      kept: plan.kept.length + done.keptLate.length,
      failed: done.failed.length,
    },
    deleted: withClocks(done.deleted, clocks),
    // Images no pattern matched are counted (counts.images - counts.matched), not listed: on a node
    // with thousands of images they would make the log, and the controller's memory, 20x larger.
    kept: withClocks(
      [...plan.kept.filter((k) => k.reason !== "no-match"), ...done.keptLate],
      clocks,
    ),
    failed: done.failed,
    bytesReclaimed: done.deleted.reduce((sum, d) => sum + d.bytes, 0),
    durationsMs: {
      ...(deps.processStartMs === undefined ? {} : { start: Math.round(t0 - deps.processStartMs) }),
      inventory: t1 - t0,
      plan: t2 - t1,
      execute: t3 - t2,
      total: t3 - t0,
    },
  };
  if (done.alreadyGone.length > 0) result.alreadyGone = done.alreadyGone;
  if (done.stopped !== undefined) result.stopped = done.stopped;
  if (done.arrivedPods !== undefined) result.arrivedPods = done.arrivedPods;
  if (fsBefore !== undefined && fsAfter !== undefined) {
    const figure = imageFsFigure(fsBefore, fsAfter, {
      // The runtime's own clock stamps its readings: compared with the wall clock, not `now`.
      removedAtMs: removedAt,
      deletedIds: done.deleted.map((d) => d.id),
    });
    if (figure !== undefined) result.imageFs = figure;
  }
  if (plan.cutByLimit > 0) result.limit = { ...config.limits, cut: plan.cutByLimit };
  if (config.minAgeSeconds !== undefined) {
    result.minAge = { seconds: config.minAgeSeconds, supported: inventory.imageTimesKnown };
  }
  if (clocks !== undefined) result.unusedFor = clocks.summary;
  deps.report.result(result);
  return result;
}

/** Each image with what its clock says (`list` shows it), when clocks are kept. */
function withClocks<T extends { id: string }>(images: T[], clocks: KeptClocks | undefined): T[] {
  if (clocks === undefined) return images;
  return images.map((image) => {
    const state = clocks.state.get(image.id);
    if (state === undefined) return image;
    return state === "in-use"
      ? { ...image, inUse: true as const }
      : { ...image, unusedSince: new Date(state).toISOString() };
  });
}

/**
 * Finds the socket and connects the client. With auto and no --socket, a containerd that serves no
 * CRI is Docker's own (docker-ce runs one with its CRI plugin off): where Docker's socket is there
 * too, the images to clean are Docker's.
 */
async function connect(
  config: Readonly<AgentConfig>,
  deps: AgentDeps,
): Promise<{ adapter: RuntimeAdapter; version: RuntimeVersion; socket: string }> {
  const exec = deps.exec;
  // The agent connects to the Engine's socket itself: in nsenter mode through the node's root.
  const engine = (socket: string) =>
    createEngineClient(socket, {
      openPath: () => exec.hostPath(socket),
      timeoutMs: () => exec.callTimeoutMs(),
    });
  const make: AdapterFactory = (client, s, program) =>
    client === "crictl"
      ? createCrictlAdapter(exec, s, program)
      : client === "ctr"
        ? createCtrAdapter(exec, s, config.ctrNamespace, program)
        : createDockerAdapter(engine(s), { hostPath: (path) => exec.hostPath(path) });
  const isEngine = (s: string) => engine(s).ping();
  const fileExists = (path: string) => exec.fileExists(path);
  // A target entered by nsenter was chosen for owning this socket: it is the one to use.
  const given = config.socket ?? exec.target?.socket;
  const socket = await findSocket(exec, given, config.client);
  try {
    return { ...(await connectRuntime(config.client, socket, make, fileExists, isEngine)), socket };
  } catch (err) {
    if (!(err instanceof NoCriError) || config.client !== "auto" || given !== undefined) throw err;
    const docker = await findSocket(exec, undefined, "docker").catch(() => undefined);
    if (docker === undefined) throw err;
    deps.report.warn(
      `${err.socket} serves no CRI (Docker's own containerd): using the Docker Engine at ${docker}`,
    );
    return { ...(await connectRuntime("docker", docker, make, fileExists)), socket: docker };
  }
}

async function readImageFs(
  adapter: RuntimeAdapter,
  deps: AgentDeps,
): Promise<ImageFsReading | undefined> {
  try {
    return await adapter.imageFsUsage();
  } catch (err) {
    // Only a figure for the report: without it the result carries the sum of image sizes alone.
    deps.report.warn(`image filesystem usage not read (${adapter.imageFsSource}): ${String(err)}`);
    return undefined;
  }
}

async function takeInventory(
  adapter: RuntimeAdapter,
  options: { withTimes: boolean; withCreated: boolean },
): Promise<Inventory> {
  try {
    return await adapter.inventory(options);
  } catch (err) {
    // Without a full inventory nothing can be judged safe: the run stops before deleting anything.
    if (err instanceof CommandFailedError) {
      throw new RuntimeUnavailableError(
        `${adapter.client} failed to list the runtime at ${adapter.socket} (${err.argv.slice(-3).join(" ")}): ${lastLines(err.result.stderr)}`,
      );
    }
    throw err;
  }
}

// --unused-for on the node: read the clock labels, start the clocks of images seen unused for the
// first time, stop those of images seen in use, and hand the plan each image's clock. Runs in dry
// runs and `list` too, so a cluster can observe for two weeks before anything is deleted.
import { ConfigError } from "../errors.js";
import { formatDuration } from "../config/duration.js";
import type { ProtectedRef } from "../config/protect-entries.js";
import type { ImagePattern } from "../config/patterns.js";
import type { AgentResult } from "../run-model/agent-result.js";
import { inParallel } from "./in-parallel.js";
import type { Inventory } from "./inventory.js";
import { clockSubjects } from "./plan.js";
import type { RuntimeAdapter } from "./runtime.js";
import { formatClockValue, MAX_CLOCK_WRITES, planClockChanges } from "./unused-clock.js";

export interface KeptClocks {
  /** Per image id: since when unused (epoch ms) or "in-use"; absent: no clock. */
  state: Map<string, number | "in-use">;
  summary: NonNullable<AgentResult["unusedFor"]>;
}

export async function keepClocks(
  adapter: RuntimeAdapter,
  inventory: Inventory,
  options: {
    seconds: number;
    include: readonly ImagePattern[];
    exclude: readonly ImagePattern[];
    protect: readonly (string | ProtectedRef)[];
    nowMs: number;
    /** Says which writes failed; the run goes on (a failed start keeps the image, see below). */
    warn: (message: string) => void;
  },
): Promise<KeptClocks> {
  const refuse = (why: string) =>
    new ConfigError(
      "--unused-for",
      formatDuration(options.seconds),
      `${why}: the clock is kept as an image label, so without labels it cannot be kept; ` +
        "use --min-age (time since the image was pulled) instead, or remove --unused-for; nothing was deleted",
    );
  const store = adapter.clocks;
  if (store === undefined) {
    throw refuse(
      `${adapter.client} on ${adapter.socket} keeps no image labels this tool can write`,
    );
  }
  const { matched, inUse } = clockSubjects(inventory, options);
  const readings = await store.read(matched);
  if (readings === undefined) {
    throw refuse(
      `no containerd image labels reachable on ${adapter.socket} (${adapter.client === "crictl" ? "CRI has no label API and ctr is missing here or the runtime is not containerd (CRI-O)" : "ctr could not list the images"})`,
    );
  }
  const changes = planClockChanges(matched, inUse, readings, options.nowMs);
  const state = changes.state;
  let failed = 0;
  let started = 0;
  let stopped = 0;
  await inParallel(changes.stop, async ({ image, refs }) => {
    const error = await store.stop(refs);
    if (error === undefined) {
      stopped++;
      return;
    }
    // The image is in use and kept; its old clock is stopped on a later run.
    failed++;
    options.warn(
      `could not stop the --unused-for clock of ${image.names[0] ?? image.id}: ${error}`,
    );
  });
  await inParallel(changes.start, async ({ image, sinceMs }) => {
    const error = await store.start(image, formatClockValue(sinceMs));
    if (error === undefined) {
      started++;
      return;
    }
    // No clock written is no clock: the image is kept, and a later run tries again.
    failed++;
    state.delete(image.id);
    options.warn(
      `could not start the --unused-for clock of ${image.names[0] ?? image.id}: ${error}`,
    );
  });
  if (changes.deferred > 0) {
    options.warn(
      `--unused-for: ${changes.deferred} clock label writes left for a later run (at most ${MAX_CLOCK_WRITES} per run); images without a clock are kept`,
    );
  }
  return {
    state,
    summary: {
      seconds: options.seconds,
      started,
      stopped,
      deferred: changes.deferred,
      failed,
    },
  };
}

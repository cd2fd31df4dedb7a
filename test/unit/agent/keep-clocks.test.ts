// The agent's refusal of --unused-for where the runtime keeps no labels: before any label is read
// or any image deleted, with exit 2 (ConfigError) naming the value. The clocks themselves run on
// real containerd in test/integration/agent/unused-for.test.ts.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.js";
import { keepClocks } from "../../../src/agent/keep-clocks.js";
import type { RuntimeAdapter } from "../../../src/agent/runtime.js";
import type { ImageClocks } from "../../../src/agent/ctr-clocks.js";

const inventory = { images: [], containers: [], sandboxes: [], imageTimesKnown: false };
const options = {
  seconds: 14 * 86_400,
  include: [],
  exclude: [],
  protect: [],
  nowMs: 0,
  warn: () => undefined,
};

/** Only what keepClocks reads of an adapter: which client, which socket, its label store. */
function adapter(
  client: RuntimeAdapter["client"],
  clocks: ImageClocks | undefined,
): RuntimeAdapter {
  return { client, socket: "/run/x.sock", ...(clocks ? { clocks } : {}) } as RuntimeAdapter;
}

describe("--unused-for without image labels", () => {
  it("refuses on Docker Engine (no label store), naming the value, exit 2", async () => {
    const err = await keepClocks(adapter("docker", undefined), inventory, options).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(
      /--unused-for: given "14d"; docker on \/run\/x\.sock keeps no image labels.*nothing was deleted/,
    );
  });

  it("refuses with crictl where ctr cannot reach containerd's labels (CRI-O, no ctr)", async () => {
    const none: ImageClocks = {
      where: "-",
      read: () => Promise.resolve(undefined),
      start: () => Promise.reject(new Error("must not write")),
      stop: () => Promise.reject(new Error("must not write")),
    };
    await expect(keepClocks(adapter("crictl", none), inventory, options)).rejects.toThrow(
      /CRI has no label API and ctr is missing here or the runtime is not containerd \(CRI-O\)/,
    );
  });
});

// A runtime that refuses to remove an image because a container uses it (CRI-O, the Docker Engine)
// caused a keep, not a failure: the container appeared after the agent's last look.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { executePlan } from "../../../src/agent/execute.js";
import type { ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import type { RuntimeAdapter } from "../../../src/agent/runtime.js";

const ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const image: ImageRecord = {
  id: ID,
  names: ["docker.io/acme/app:1"],
  digests: [],
  sizeBytes: 1000,
  pinned: false,
  refs: [ID],
};
const inventory = {
  images: [image],
  containers: [],
  sandboxes: [],
  imageTimesKnown: false,
} as unknown as Inventory;

function runtimeRefusing(error: string): RuntimeAdapter {
  return {
    measure: () => Promise.resolve(),
    usage: () => Promise.resolve({ containers: [], sandboxes: [], imageVolumes: [] }),
    remove: () => Promise.resolve({ errors: new Map([[ID, error]]), alreadyGone: new Map() }),
    // The image is still there after the call, by id and by name.
    present: () =>
      Promise.resolve(
        new Map([
          [ID, ["docker.io/acme/app:1"]],
          ["docker.io/acme/app:1", ["docker.io/acme/app:1"]],
        ]),
      ),
  } as unknown as RuntimeAdapter;
}

describe("removal refused by the runtime", () => {
  [
    {
      runtime: "CRI-O, image of a container",
      error:
        "crictl rmi ... exited 1: rpc error: code = Unknown desc = image used by 3f2a: image is in use by a container",
      detail:
        "the runtime refused to remove it: image is in use by a container (appeared during the run)",
    },
    {
      runtime: "CRI-O, image volume",
      error: "rpc error: code = Unknown desc = the image is in use by 3f2a9c",
      detail:
        "the runtime refused to remove it: image is in use by 3f2a9c (appeared during the run)",
    },
    {
      runtime: "Docker Engine, running container (the docker client's words)",
      error:
        "conflict: unable to delete a650cca71da6 (cannot be forced) - image is being used by running container b42d36e0c1c1; names removed before that: acme/app:2",
      detail:
        "the runtime refused to remove it: image is being used by running container b42d36e0c1c1 (appeared during the run); names removed before that: acme/app:2",
    },
    {
      runtime: "Docker Engine through cri-dockerd, stopped container",
      error:
        "crictl rmi ... exited 1: rpc error: code = Unknown desc = Error response from daemon: conflict: unable to delete 0b651b5e63c3 (must be forced) - image is being used by stopped container b005a3e3f2f4",
      detail:
        "the runtime refused to remove it: image is being used by stopped container b005a3e3f2f4 (appeared during the run)",
    },
    {
      runtime: "Docker Engine, by name",
      error:
        'conflict: unable to remove repository reference "acme/app:1" (must force) - container b42d36e0c1c1 is using its referenced image a650cca71da6',
      detail:
        "the runtime refused to remove it: container b42d36e0c1c1 is using its referenced image a650cca71da6 (appeared during the run)",
    },
  ].forEach((t) => {
    it(`keeps the image as in-use (${t.runtime})`, async () => {
      const done = await executePlan([image], inventory, runtimeRefusing(t.error), {
        dryRun: false,
        log: pino({ level: "silent" }),
      });
      expect(done.failed).toEqual([]);
      expect(done.deleted).toEqual([]);
      expect(done.keptLate).toEqual([
        { id: ID, names: image.names, reason: "in-use", detail: t.detail },
      ]);
    });
  });

  it("still fails on any other error that left the image", async () => {
    const done = await executePlan([image], inventory, runtimeRefusing("permission denied"), {
      dryRun: false,
      log: pino({ level: "silent" }),
    });
    expect(done.keptLate).toEqual([]);
    expect(done.failed).toHaveLength(1);
    expect(done.failed[0]?.error).toMatch(/^permission denied; references left/);
  });

  it("names what a call cut short removed when a reference it did not reach holds the content", async () => {
    // ctr removes the names first and the CRI plugin's `sha256:<id>` reference last: killed in
    // between, the names are gone from the node while the id reference keeps the content.
    const named: ImageRecord = {
      ...image,
      names: ["docker.io/acme/app:1", "docker.io/acme/app:latest"],
      refs: ["docker.io/acme/app:1", "docker.io/acme/app:latest", `sha256:${ID}`],
    };
    const runtime = {
      ...runtimeRefusing("ctr images rm timed out after 5 s"),
      present: () =>
        Promise.resolve(
          new Map([
            [ID, [`sha256:${ID}`]],
            [`sha256:${ID}`, [`sha256:${ID}`]],
            ["docker.io/acme/app:latest", ["docker.io/acme/app:latest"]],
          ]),
        ),
    };
    const done = await executePlan([named], { ...inventory, images: [named] }, runtime, {
      dryRun: false,
      log: pino({ level: "silent" }),
    });
    expect(done.deleted).toEqual([]);
    expect(done.failed.map((f) => f.error)).toEqual([
      `ctr images rm timed out after 5 s; names removed: docker.io/acme/app:1, but references left, so its content is not freed: sha256:${ID}`,
    ]);
  });
});

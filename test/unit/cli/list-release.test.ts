// argsFromRelease when the CronJobs cannot be read: list with the typed patterns goes on (it
// deletes nothing), anything that needs the release stays an error naming the missing grant.
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { argsFromRelease } from "../../../src/commands/list-release.js";
import type { BatchApi } from "../../../src/kube/api.js";

const forbidden: { batch: BatchApi } = {
  batch: {
    listNamespacedCronJob: () =>
      Promise.reject(
        new ApiException(
          403,
          "Forbidden",
          { message: 'cronjobs.batch is forbidden: User "u"' },
          {},
        ),
      ),
  },
};

function choice(wanted: string | undefined, given: string[]) {
  const notes: string[] = [];
  return {
    notes,
    choice: {
      namespace: "ops",
      wanted,
      given: (key: string) => given.includes(key),
      note: (message: string) => notes.push(message),
    },
  };
}

describe("list from a user who may not read the release's CronJob", () => {
  it("lists with the flags given when --include was typed, and says so", async () => {
    const { notes, choice: c } = choice(undefined, ["include"]);
    const args = { include: ["docker.io/acme/*"] };
    await expect(argsFromRelease(args, forbidden, c)).resolves.toEqual({ args });
    expect(notes).toEqual([
      "the releases in namespace ops cannot be read (no list on cronjobs there): listing with the flags given only",
    ]);
  });

  it("is an error naming the grant when the patterns were to come from the release", async () => {
    const { notes, choice: c } = choice(undefined, []);
    await expect(argsFromRelease({}, forbidden, c)).rejects.toThrow(
      /forbidden: list cronjobs in namespace ops: .*kubectl create role kic-release-reader -n ops/,
    );
    expect(notes).toEqual([]);
  });

  it("is an error when a release was asked for by name", async () => {
    const { choice: c } = choice("nightly", ["include"]);
    await expect(argsFromRelease({ include: ["x/*"] }, forbidden, c)).rejects.toThrow(
      /forbidden: list cronjobs/,
    );
  });
});

import { ApiException, type V1Node, type V1NodeList } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.js";
import { listNodeFacts } from "../../../src/controller/node-list.js";
import type { Kube } from "../../../src/kube/api.js";
import { node } from "./fixtures.js";

type ListArgs = { limit?: number; _continue?: string; labelSelector?: string };

/** A listNode that pages `all` like the API server does (continue = index of the next item). */
function pagedServer(all: V1Node[], expireAt?: string) {
  const calls: ListArgs[] = [];
  let expired = false;
  const core = {
    listNode: (args: ListArgs): Promise<V1NodeList> => {
      calls.push(args);
      if (args._continue !== undefined && args._continue === expireAt && !expired) {
        expired = true;
        return Promise.reject(new ApiException(410, "Gone", '{"reason":"Expired"}', {}));
      }
      const from = Number(args._continue ?? 0);
      const to = Math.min(all.length, from + (args.limit ?? all.length));
      const list = {
        items: all.slice(from, to),
        metadata: to < all.length ? { _continue: String(to) } : {},
      };
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- plain data, as the server sends it
      return Promise.resolve(list as V1NodeList);
    },
  };
  return { kube: { core } as unknown as Pick<Kube, "core">, calls };
}

describe("listNodeFacts", () => {
  it("asks for pages of the given size until no continue token is left", async () => {
    const all = Array.from({ length: 7 }, (_, i) => node(`n${i}`));
    const { kube, calls } = pagedServer(all);
    const listing = await listNodeFacts(kube, "kubernetes.io/os=linux", 3);
    expect(listing.nodes.map((n) => n.name)).toEqual(all.map((n) => n.metadata?.name));
    expect(listing.pages).toBe(3);
    expect(calls).toEqual([
      { limit: 3, labelSelector: "kubernetes.io/os=linux" },
      { limit: 3, labelSelector: "kubernetes.io/os=linux", _continue: "3" },
      { limit: 3, labelSelector: "kubernetes.io/os=linux", _continue: "6" },
    ]);
  });

  it("keeps only the facts selection needs, not the Node objects", async () => {
    const big = node("big", { cordoned: true });
    (big.status as { images?: unknown }).images = [{ names: ["x"], sizeBytes: 1 }];
    const { kube } = pagedServer([big]);
    const [facts] = (await listNodeFacts(kube, "", 10)).nodes;
    expect(facts).toEqual({
      name: "big",
      windows: false,
      deleting: false,
      ready: true,
      notReady: "",
      unschedulable: true,
    });
  });

  it("starts the list again when its continue token expired (410) part-way", async () => {
    const all = Array.from({ length: 5 }, (_, i) => node(`n${i}`));
    const { kube, calls } = pagedServer(all, "2");
    const listing = await listNodeFacts(kube, "", 2);
    expect(listing.nodes.map((n) => n.name)).toEqual(["n0", "n1", "n2", "n3", "n4"]);
    expect(calls.map((c) => c._continue)).toEqual([undefined, "2", undefined, "2", "4"]);
  });

  it("turns a selector the server rejects (400) into a ConfigError naming --node-selector", async () => {
    const kube = {
      core: {
        listNode: () =>
          Promise.reject(
            new ApiException(400, "Bad", '{"message":"unable to parse requirement"}', {}),
          ),
      },
    } as unknown as Pick<Kube, "core">;
    const err = await listNodeFacts(kube, "a b", 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain("--node-selector");
  });
});

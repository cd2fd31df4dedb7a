// --keep-newest and the per-node limits against the real containerd, through both clients: the
// creation time comes from each image's config (crictl inspecti, ctr content get), the oldest go
// first, and a grep-style pattern selects images like grep -E.
import { describe, expect, it } from "vitest";
import { imageRefs, uniqueToken, type BuiltImage } from "../../support/containerd.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true });

const agent = (args: Record<string, unknown>, lines: string[] = []) => rt.agent(args, { lines });

/** Three releases of one repository, built in March, January and February (imported in that order). */
function releases(repo: string): { jan: BuiltImage; feb: BuiltImage; mar: BuiltImage } {
  const mar = rt.scratch.image(`${repo}:3`, { created: "2026-03-01T00:00:00Z", pad: 30_000 });
  const jan = rt.scratch.image(`${repo}:1`, { created: "2026-01-01T00:00:00Z", pad: 10_000 });
  const feb = rt.scratch.image(`${repo}:2`, { created: "2026-02-01T00:00:00Z", pad: 20_000 });
  return { jan, feb, mar };
}

describe.each(["crictl", "ctr"])("retention rules on containerd with %s", (client) => {
  it("--keep-newest 2 keeps the two newest by creation time, not by import order, and deletes the oldest", async () => {
    const repo = `docker.io/kic-agent-it/newest-${client}-${uniqueToken()}`;
    const { jan, feb, mar } = releases(repo);
    const lines: string[] = [];

    const result = await agent({ client, include: [`${repo}:*`], "keep-newest": "2" }, lines);

    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id)).toEqual([jan.id]);
    const kept = new Map(result.kept.map((k) => [k.id, k]));
    expect(kept.get(mar.id)?.reason).toBe("newest");
    expect(kept.get(mar.id)?.detail).toBe(
      `newest 1 of 3 in ${repo} (created 2026-03-01T00:00:00.000Z), --keep-newest 2`,
    );
    expect(kept.get(feb.id)?.detail).toBe(
      `newest 2 of 3 in ${repo} (created 2026-02-01T00:00:00.000Z), --keep-newest 2`,
    );
    expect(imageRefs(rt.socket)).toEqual(expect.arrayContaining([mar.name, feb.name]));
    expect(imageRefs(rt.socket)).not.toContain(jan.name);
    expect(lines.join("\n")).toContain(`newest 2 of 3 in ${repo}`);
  });

  it("--keep-newest keeps an image whose config has no creation time (it may be the newest)", async () => {
    const repo = `docker.io/kic-agent-it/undated-${client}-${uniqueToken()}`;
    const dated = rt.scratch.image(`${repo}:1`, { created: "2026-01-01T00:00:00Z" });
    // oci-image.mjs writes the epoch by default, as reproducible builders do.
    const undated = rt.scratch.image(`${repo}:2`);

    const result = await agent({ client, include: [`${repo}:*`], "keep-newest": "1" });

    expect(result.deleted).toEqual([]);
    const kept = new Map(result.kept.map((k) => [k.id, k]));
    expect(kept.get(dated.id)?.detail).toMatch(/^newest 1 of 1 in /);
    expect(kept.get(undated.id)).toMatchObject({
      reason: "newest",
      detail: "its config records no creation time, so it may be among the --keep-newest 1",
    });
  });

  it("--max-images-per-node 1 deletes only the oldest and keeps the rest with reason limit", async () => {
    const repo = `docker.io/kic-agent-it/limit-${client}-${uniqueToken()}`;
    const { jan, feb, mar } = releases(repo);

    const result = await agent({ client, include: [`${repo}:*`], "max-images-per-node": "1" });

    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id)).toEqual([jan.id]);
    expect(result.kept.map((k) => [k.id, k.reason]).sort()).toEqual(
      [
        [feb.id, "limit"],
        [mar.id, "limit"],
      ].sort(),
    );
    expect(result.kept[0]?.detail).toBe(
      "--max-images-per-node 1 reached on this node (oldest deleted first): left for a later run",
    );
    expect(result.limit).toEqual({ maxImages: 1, cut: 2 });
    expect(imageRefs(rt.socket)).toEqual(expect.arrayContaining([feb.name, mar.name]));
  });

  it("--max-bytes-per-node deletes the oldest images that fit and stops at the first that does not", async () => {
    const repo = `docker.io/kic-agent-it/bytes-${client}-${uniqueToken()}`;
    const { jan, feb, mar } = releases(repo);
    // Room for January and February, not March.
    const room = jan.size + feb.size + Math.floor(mar.size / 2);

    const result = await agent({
      client,
      include: [`${repo}:*`],
      "max-bytes-per-node": String(room),
    });

    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id).sort()).toEqual([jan.id, feb.id].sort());
    expect(result.kept).toMatchObject([{ id: mar.id, reason: "limit" }]);
    expect(result.limit).toEqual({ maxBytes: room, cut: 1 });
  });

  it("a grep-style /re/i include selects by a piece of the name, like grep -Ei", async () => {
    const token = uniqueToken();
    const hit = rt.scratch.image(
      `docker.io/kic-agent-it/grep-${client}-${token}-Frontend:1`.toLowerCase(),
    );
    const miss = rt.scratch.image(`docker.io/kic-agent-it/grep-${client}-${token}-backend:1`);

    const result = await agent({ client, include: [`/grep-${client}-${token}-FRONTEND:/i`] });

    expect(result.deleted.map((d) => d.id)).toEqual([hit.id]);
    expect(imageRefs(rt.socket)).toContain(miss.name);
  });
});

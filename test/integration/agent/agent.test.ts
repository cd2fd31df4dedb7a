// The agent against the real containerd (CRI plugin on), through both clients, on both containerd
// lines users run: Debian's 1.6 and the pinned 2.x (one suite, parametrised: each runtime gets its
// own fresh containerd and the same tests). Every test makes its own images with unique names and
// content and removes what it made.
import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCrictlAdapter } from "../../../src/agent/crictl.js";
import { createCtrAdapter } from "../../../src/agent/ctr.js";
import { executePlan } from "../../../src/agent/execute.js";
import { createHostExec } from "../../../src/agent/host-exec.js";
import { parseAgentResult } from "../../../src/agent/report.js";
import type { AgentResult, RuntimeClientName } from "../../../src/run-model/agent-result.js";
import {
  blobBytes,
  blobsOf,
  CONTAINERD_RUNTIMES,
  crictl,
  imageRefs,
  PAUSE_IMAGE,
  Scratch,
  startContainerd,
  type StandaloneContainerd,
  uniqueToken,
  type BuiltImage,
} from "../../support/containerd.js";
import { agentArgv, cliFromSource } from "../../support/agent-cli.js";
import { startCrio, type StandaloneCrio } from "../../support/crio.js";
import {
  keptReasons,
  runAgentDirect,
  planIncluding,
  scenarioImages,
  scenarioKept,
  scenarioKeeps,
  type ScenarioImages,
} from "../../support/agent-on-runtime.js";

const silent = pino({ level: "silent" });
const timings: string[] = [];

// The containerd of the runtime block running now (each block starts its own, one after the other).
let containerd: StandaloneContainerd;
let socket = "";
afterAll(() => {
  if (timings.length > 0) console.log(`agent timings against containerd:\n${timings.join("\n")}`);
});

/** An image containerd 2 is configured to pin (besides the sandbox image), imported by a test. */
const PINNED_IMAGE = `docker.io/kic-agent-it/pinned-${uniqueToken()}:1`;

async function agent(
  args: Record<string, unknown>,
  label: string,
): Promise<{ result: AgentResult; lines: string[] }> {
  const lines: string[] = [];
  const result = await runAgentDirect(socket, args, { lines });
  const d = result.durationsMs;
  timings.push(
    `  ${label.startsWith("cri-o") ? "" : `${containerd.runtime} `}${label}: ${result.counts.images} images, inventory ${d.inventory} ms, plan ${d.plan} ms, execute ${d.execute} ms, total ${d.total} ms`,
  );
  return { result, lines };
}

/** The sandbox image's id, as crictl reports it. */
const pauseId = () =>
  (
    JSON.parse(crictl(socket, ["inspecti", "-o", "json", PAUSE_IMAGE])) as {
      status: { id: string };
    }
  ).status.id;

describe.each(CONTAINERD_RUNTIMES)("on %s", (runtime) => {
  beforeAll(async () => {
    containerd = await startContainerd({
      runtime,
      ...(runtime === "containerd-2" ? { pinned: [PINNED_IMAGE] } : {}),
    });
    socket = containerd.socket;
    // The agent in direct mode runs the clients on its PATH: the pinned crictl, this runtime's ctr.
    process.env.PATH = containerd.path;
  });
  afterAll(() => {
    containerd.stop();
  });

  describe.each(["crictl", "ctr"] as RuntimeClientName[])("agent with %s", (client) => {
    let scratch: Scratch;
    let prefix = "";
    let images: ScenarioImages;
    let pauseAlias = "";

    beforeAll(() => {
      scratch = new Scratch(socket);
      prefix = `docker.io/kic-agent-it/${client}-${uniqueToken()}`;
      images = scenarioImages(scratch, prefix);
      // A second name for del2: deleting must remove both, and the id reference, to free anything.
      scratch.tag(images.del2.name, `${prefix}/del2-alias:2`);
      // Another name for the sandbox image, inside the include pattern: the agent must still keep it.
      pauseAlias = `${prefix}/pause:kic`;
      scratch.tag(PAUSE_IMAGE, pauseAlias);
      if (client === "crictl") {
        const pod = scratch.sandbox(`pod-${prefix.slice(-8)}`);
        scratch.criContainer(pod, "running", images.running.name, "running");
        scratch.criContainer(pod, "exited", images.exited.name, "exited");
        scratch.criContainer(pod, "created", images.created.name, "created");
      } else {
        const tok = prefix.slice(-8);
        scratch.ctrContainer(`kic-it-running-${tok}`, images.running.name, "running");
        scratch.ctrContainer(`kic-it-exited-${tok}`, images.exited.name, "exited");
        scratch.ctrContainer(`kic-it-created-${tok}`, images.created.name, "created");
      }
    });
    afterAll(() => {
      scratch.cleanup();
    });

    const include = () => [`${prefix}/**`];
    const common = () => ({
      client,
      include: include(),
      exclude: [`${prefix}/excl*:*`],
      protect: [images.protected.name.replace("docker.io/", "")],
    });

    it("deletes nothing in a dry run but reports the same plan", async () => {
      const before = imageRefs(socket);
      const { result, lines } = await agent({ ...common(), "dry-run": true }, `${client} dry run`);
      expect(result.dryRun).toBe(true);
      expect(result.deleted.map((d) => d.id).sort()).toEqual(
        [images.del1.id, images.del2.id].sort(),
      );
      expect(imageRefs(socket)).toEqual(before);
      expect(lines.some((l) => l.startsWith("would delete"))).toBe(true);
    });

    it("deletes matching unused images, every reference, and frees their content", async () => {
      const targets = [images.del1, images.del2];
      const blobs = targets.flatMap((t) => blobsOf(containerd, t.manifest));
      // Unique content: the blobs on disk are exactly what the image builder reported.
      expect(blobs.reduce((s, b) => s + b.bytes, 0)).toBe(images.del1.size + images.del2.size);

      const { result } = await agent(common(), `${client} delete`);

      expect(result.failed).toEqual([]);
      expect(result.deleted.map((d) => d.id).sort()).toEqual(targets.map((t) => t.id).sort());
      expect(result.bytesReclaimed).toBe(images.del1.size + images.del2.size);
      expect(result.runtime).toMatchObject({
        client,
        socket,
        hostExec: "direct",
        name: "containerd",
        // The runtime block's own containerd, as it reports itself: proof of what this ran on.
        version: containerd.version,
      });
      const refs = imageRefs(socket);
      for (const t of targets) {
        expect(refs).not.toContain(t.name);
        expect(refs).not.toContain(t.id);
      }
      expect(refs).not.toContain(`${prefix}/del2-alias:2`);
      for (const b of blobs) expect(blobBytes(containerd, b.digest), b.digest).toBeUndefined();

      expect(keptReasons(result)).toEqual({ ...scenarioKeeps(images), [pauseId()]: "sandbox" });
      expect(result.counts).toMatchObject({ deleted: 2, failed: 0, matched: 8 - 1 });
      for (const keep of scenarioKept(images)) expect(refs).toContain(keep.name);
      expect(refs).toContain(PAUSE_IMAGE);
    });

    it("keeps an image a container starts using between plan and delete", async () => {
      const late = scratch.image(`${prefix}/late:1`, { busybox: true });
      const exec = createHostExec("direct");
      const adapter =
        client === "crictl"
          ? createCrictlAdapter(exec, socket)
          : createCtrAdapter(exec, socket, "k8s.io");
      const inventory = await adapter.inventory({ withTimes: false });
      const plan = planIncluding(inventory, `${prefix}/late:*`);
      expect(plan.delete.map((i) => i.id)).toEqual([late.id]);
      if (client === "crictl")
        scratch.criContainer(
          scratch.sandbox(`late-${prefix.slice(-8)}`),
          "late",
          late.name,
          "created",
        );
      else scratch.ctrContainer(`kic-it-late-${prefix.slice(-8)}`, late.name, "created");

      const done = await executePlan(plan.delete, inventory, adapter, {
        dryRun: false,
        log: silent,
      });

      expect(done.deleted).toEqual([]);
      expect(done.keptLate).toMatchObject([{ id: late.id, reason: "in-use" }]);
      expect(done.keptLate[0]?.detail).toMatch(/appeared during the run/);
      expect(imageRefs(socket)).toContain(late.name);
    });
  });

  describe("sandbox image and pinning", () => {
    const exec = createHostExec("direct");
    const adapterFor = (client: RuntimeClientName) =>
      client === "crictl"
        ? createCrictlAdapter(exec, socket)
        : createCtrAdapter(exec, socket, "k8s.io");

    // containerd 1.6 shows its sandbox_image in `crictl info` (config.sandboxImage). containerd 2
    // (2.0 to 2.4 alike) shows only the CRI runtime plugin's config there: the sandbox image moved to
    // the images plugin (pinned_images.sandbox), which `crictl info` does not show. There the agent
    // knows the pause image by its name, and containerd pins it (next tests).
    it(
      runtime === "containerd-1.6"
        ? "reads the configured sandbox image from crictl info and keeps it as the sandbox image"
        : "finds no sandbox image in crictl info and still keeps the pause image as the sandbox image",
      async () => {
        const inventory = await adapterFor("crictl").inventory({ withTimes: false });
        expect(inventory.configuredSandboxImage).toBe(
          runtime === "containerd-1.6" ? PAUSE_IMAGE : undefined,
        );
        // With no pod running, no sandbox names the pause image: only the runtime's word does.
        expect(inventory.sandboxes).toEqual([]);
        const plan = planIncluding(inventory, PAUSE_IMAGE);
        expect(plan.delete).toEqual([]);
        expect(plan.kept).toMatchObject([
          {
            id: pauseId(),
            reason: "sandbox",
            detail:
              runtime === "containerd-1.6"
                ? `the runtime's configured sandbox image ${PAUSE_IMAGE}`
                : "looks like a pause image and the runtime does not say which one it uses",
          },
        ]);
      },
    );

    it.each(["crictl", "ctr"] as RuntimeClientName[])(
      `sees the sandbox image ${runtime === "containerd-2" ? "pinned" : "not pinned (1.6 pins nothing)"} with %s`,
      async (client) => {
        const inventory = await adapterFor(client).inventory({ withTimes: false });
        const pause = inventory.images.find((i) => i.id === pauseId());
        expect(pause?.names).toContain(PAUSE_IMAGE);
        expect(pause?.pinned).toBe(runtime === "containerd-2");
      },
    );

    // containerd 1.6 has no pinned_images: only containerd 2 can pin an image that is not the sandbox's.
    if (runtime === "containerd-2")
      describe.each(["crictl", "ctr"] as RuntimeClientName[])("agent with %s", (client) => {
        let scratch: Scratch;
        let pinned: BuiltImage;
        let unpinned: BuiltImage;
        beforeAll(async () => {
          scratch = new Scratch(socket);
          pinned = scratch.image(PINNED_IMAGE);
          unpinned = scratch.image(`docker.io/kic-agent-it/unpinned-${uniqueToken()}:1`);
          // containerd labels an imported image it is configured to pin when it sees the import event.
          // Polled without blocking: a blocked worker misses vitest's RPC deadline on a busy machine.
          const pinnedNow = () =>
            (
              JSON.parse(crictl(socket, ["inspecti", "-o", "json", PINNED_IMAGE])) as {
                status: { pinned?: boolean };
              }
            ).status.pinned === true;
          for (const end = Date.now() + 30_000; !pinnedNow() && Date.now() < end;)
            await new Promise((r) => setTimeout(r, 200));
        });
        afterAll(() => {
          scratch.cleanup();
        });

        it("keeps an image containerd pins (reason pinned) and deletes its unpinned twin", async () => {
          const { result } = await agent(
            { client, include: ["docker.io/kic-agent-it/*pinned-*:*"] },
            `${client} pinned`,
          );
          expect(result.failed).toEqual([]);
          expect(result.deleted.map((d) => d.id)).toEqual([unpinned.id]);
          expect(result.kept).toEqual([
            {
              id: pinned.id,
              names: expect.arrayContaining([PINNED_IMAGE]) as unknown,
              reason: "pinned",
              detail: "pinned by the runtime",
            },
          ]);
          expect(imageRefs(socket)).toContain(PINNED_IMAGE);
          expect(imageRefs(socket)).not.toContain(unpinned.name);
        });
      });
  });
});

// CRI-O, through crictl (it has no ctr). What differs from containerd: image ids are bare hex, the
// runtime names itself cri-o, the pause image is in `crictl info`, and CRI-O refuses to remove an
// image a container uses (containerd removes the reference and lets the container run on).
describe("on cri-o", () => {
  let crio: StandaloneCrio;
  let scratch: Scratch;
  let prefix = "";
  let images: ScenarioImages;
  const hex = (id: string) => id.replace(/^sha256:/, "");

  beforeAll(async () => {
    crio = await startCrio();
    socket = crio.socket;
    process.env.PATH = crio.path;
    scratch = new Scratch(socket, crio.store, { ownPidNamespaces: true });
    prefix = `docker.io/kic-agent-it/crio-${uniqueToken()}`;
    images = scenarioImages(scratch, prefix);
    scratch.tag(images.del2.name, `${prefix}/del2-alias:2`);
    const pod = scratch.sandbox(`pod-${prefix.slice(-8)}`);
    scratch.criContainer(pod, "running", images.running.name, "running");
    scratch.criContainer(pod, "exited", images.exited.name, "exited");
    scratch.criContainer(pod, "created", images.created.name, "created");
  });
  afterAll(() => {
    scratch.cleanup();
    crio.stop();
  });

  it("reads the pause image from crictl info", async () => {
    const inventory = await createCrictlAdapter(createHostExec("direct"), socket).inventory({
      withTimes: false,
    });
    expect(inventory.configuredSandboxImage).toBe(PAUSE_IMAGE);
    for (const image of inventory.images) expect(image.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("deletes matching unused images by their bare-hex ids, every name, and keeps the rest with reasons", async () => {
    const { result } = await agent(
      {
        client: "crictl",
        include: [`${prefix}/**`, PAUSE_IMAGE],
        exclude: [`${prefix}/excl*:*`],
        protect: [images.protected.name.replace("docker.io/", "")],
      },
      "cri-o crictl delete",
    );
    expect(result.runtime).toMatchObject({
      client: "crictl",
      socket,
      name: "cri-o",
      version: crio.version,
    });
    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id).sort()).toEqual(
      [hex(images.del1.id), hex(images.del2.id)].sort(),
    );
    const refs = crio.store.refs();
    for (const gone of [images.del1.name, images.del2.name, `${prefix}/del2-alias:2`])
      expect(refs).not.toContain(gone);
    const pause = (
      JSON.parse(crictl(socket, ["inspecti", "-o", "json", PAUSE_IMAGE])) as {
        status: { id: string };
      }
    ).status.id;
    expect(keptReasons(result)).toEqual({
      ...scenarioKeeps(images, (i) => hex(i.id)),
      [pause]: "sandbox",
    });
  });

  it("keeps an image a container uses when CRI-O refuses to remove it (a keep, not a failure)", async () => {
    const late = scratch.image(`${prefix}/late:1`, { busybox: true });
    const exec = createHostExec("direct");
    const real = createCrictlAdapter(exec, socket);
    const inventory = await real.inventory({ withTimes: false });
    const plan = planIncluding(inventory, `${prefix}/late:*`);
    expect(plan.delete.map((i) => i.id)).toEqual([hex(late.id)]);
    scratch.criContainer(scratch.sandbox(`late-${prefix.slice(-8)}`), "late", late.name, "running");
    // The container started after the agent's last look (its re-check saw no container): only
    // CRI-O's refusal stands between the agent and the image now.
    const blind = {
      ...real,
      usage: () => Promise.resolve({ containers: [], sandboxes: [], imageVolumes: [] }),
    };

    const done = await executePlan(plan.delete, inventory, blind, { dryRun: false, log: silent });

    expect(done.failed).toEqual([]);
    expect(done.deleted).toEqual([]);
    expect(done.keptLate).toMatchObject([{ id: hex(late.id), reason: "in-use" }]);
    expect(done.keptLate[0]?.detail).toMatch(
      /^the runtime refused to remove it: image is in use by /,
    );
    expect(crio.store.refs()).toContain(late.name);
  });
});

// The CLI's argument handling does not depend on the runtime: one containerd (1.6) is enough.
describe("agent CLI", () => {
  let scratch: Scratch;
  beforeAll(async () => {
    containerd = await startContainerd();
    socket = containerd.socket;
    process.env.PATH = containerd.path;
    scratch = new Scratch(socket);
  });
  afterAll(() => {
    scratch.cleanup();
    containerd.stop();
  });

  it("never runs a glob full of shell metacharacters, and refuses it as a pattern no image can match (exit 2)", async () => {
    const marker = join(scratch.dir, "pwned");
    const image = scratch.image(`docker.io/kic-agent-it/meta-${uniqueToken()}:1`);
    const glob = `docker.io/kic-agent-it/*$(touch ${marker})\`touch ${marker}\`;touch ${marker} && touch ${marker} | cat > ${marker}`;
    const r = await cliFromSource(
      agentArgv(socket, "direct", "--client", "crictl", "--include", glob),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid --include: given ${JSON.stringify(glob)}`);
    expect(r.stderr).toMatch(/can never match an image/);
    expect(existsSync(marker)).toBe(false);
    expect(imageRefs(socket)).toContain(image.name);
  });

  it("matches by a glob that a shell would mangle (extglob, braces, pipe), exactly as written", async () => {
    const tok = uniqueToken();
    const image = scratch.image(`docker.io/kic-agent-it/meta-${tok}:1`);
    const other = scratch.image(`docker.io/kic-agent-it/meta-${tok}x:1`);
    // Every character here is glob syntax an image pattern may use. Through `sh -c` the parentheses
    // are a syntax error, the | a pipe and the braces split the word in two: the agent would get
    // other arguments, or none. As one argv element it is one glob, matching exactly one image.
    const glob = `docker.io/kic-agent-it/meta-@(${tok}|none-${tok}){,-alias}:1`;
    const r = await cliFromSource(
      agentArgv(socket, "direct", "--client", "crictl", "--include", glob),
    );
    expect(r.code, r.stderr).toBe(0);
    const result = parseAgentResult(r.stdout);
    expect(result?.counts.matched).toBe(1);
    expect(result?.deleted.map((d) => d.id)).toEqual([image.id]);
    expect(imageRefs(socket)).not.toContain(image.name);
    expect(imageRefs(socket)).toContain(other.name);
  });

  it("refuses to run without --include and says so (exit 2)", async () => {
    const r = await cliFromSource(agentArgv(socket, "direct"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: invalid --include: nothing was given; give at least one glob/m,
    );
  });

  it("names a missing socket (exit 2)", async () => {
    const r = await cliFromSource(
      agentArgv("/run/kic-nowhere/containerd.sock", "direct", "--include", "x"),
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "error: runtime socket /run/kic-nowhere/containerd.sock not found from the agent: fix --socket or mount the socket into the pod",
    );
  });

  it("names a missing client binary (exit 2)", async () => {
    // PATH holds node only: neither crictl nor ctr can be found.
    const nodeOnly = join(scratch.dir, "node-only");
    mkdirSync(nodeOnly, { recursive: true });
    rmSync(join(nodeOnly, "node"), { force: true });
    symlinkSync(process.execPath, join(nodeOnly, "node"));
    const r = await cliFromSource(
      agentArgv(socket, "direct", "--client", "crictl", "--include", "x"),
      {
        PATH: nodeOnly,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "error: crictl not found on this container's PATH nor at /var/lib/rancher/rke2/bin/crictl, /var/lib/rancher/k3s/data/current/bin/crictl: install it, choose another --client, or change --host-exec",
    );
    const auto = await cliFromSource(agentArgv(socket, "direct", "--include", "x"), {
      PATH: nodeOnly,
    });
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(
      /no runtime client: crictl not found .*; ctr not found .*; install crictl or ctr/,
    );
  });

  it("exits 0 when nothing matches", async () => {
    const r = await cliFromSource(
      agentArgv(socket, "direct", "--include", `docker.io/kic-agent-it/none-${uniqueToken()}:*`),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^done: 0 deleted/m);
    // Runs on containerd only through --client auto: it picks crictl.
    expect(parseAgentResult(r.stdout)?.runtime.client).toBe("crictl");
    expect(crictl(socket, ["version"])).toContain("containerd");
  });
});

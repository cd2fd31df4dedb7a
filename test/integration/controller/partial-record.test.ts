// Nothing deleted goes unrecorded, on the real cluster: a node timeout shorter than the work, and a
// run interrupted (SIGTERM) while its agent deletes. Either way the run log lists every image that
// is gone from the node's containerd.
import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { instanceLabels, selectorOf } from "../../../src/run-model/labels.js";
import { partialRecord } from "../../../src/controller/agent-log.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import {
  collectingReporter,
  controllerOnCluster,
  eventually,
  nodeImageNames,
  podsWith,
  testRunConfig,
  type SampleImage,
} from "../../support/controller-on-cluster.js";
import { argvOf, holdRemoval, releaseHeld } from "../../support/held-removal.js";

const fixture = controllerOnCluster("partial", {
  accounts: { kic: { allowPodDeletion: true } },
  cli: true,
});
const { tok, ns, repo } = fixture;
// Each test holds the agent inside one removal call (holdRemoval), so neither depends on this
// machine's speed: 3 batches (25 images each) leave room to catch one even when a call is missed.
// The agents use ctr, which has no call timeouts of its own: held and let go, its call goes on.
const COUNT = { deadline: 75, sigterm: 75 } as const;

const sets: Record<keyof typeof COUNT, SampleImage[]> = { deadline: [], sigterm: [] };

function bulk(set: keyof typeof COUNT): SampleImage[] {
  const refs = Array.from({ length: COUNT[set] }, (_, i) => `${repo}/${set}:v${String(i)}`);
  return fixture.images(refs);
}

/** Names of `images` that some line of the run log `says` something of. */
function listed(
  lines: string[],
  images: SampleImage[],
  says: (line: string, name: string) => boolean,
): string[] {
  return images.map((i) => i.name).filter((name) => lines.some((l) => says(l, name)));
}

/** Names of `images` the run log lists as deleted (from the result, or as a partial record). */
const listedDeleted = (lines: string[], images: SampleImage[]) =>
  listed(
    lines,
    images,
    (l, n) => l.includes(`deleted  ${n}  `) || l.includes(`deleted (partial record)  ${n}  `),
  );

/** The names a FAILED line says its removal call took away before it was cut short. */
const namesRemoved = (line: string): string[] =>
  line.includes("FAILED")
    ? (/names removed: (.*?), but references left/.exec(line)?.[1]?.split(", ") ?? [])
    : [];

/**
 * Names of `images` the run log lists with an outcome the agent did not see: a batch cut off
 * mid-call, one whose removal it could not verify (its listing afterwards failed), or a call
 * cut short after it removed an image's names but before its last reference (the content stays).
 */
const listedUnderWay = (lines: string[], images: SampleImage[]) =>
  listed(
    lines,
    images,
    (l, n) =>
      l.includes(`outcome unknown (partial record)  ${n}  `) ||
      (l.includes(`  ${n}  `) && l.includes("FAILED") && l.includes("removal not verified")) ||
      namesRemoved(l).includes(n),
  );

describe("a helper that does not finish its work", () => {
  beforeAll(() => {
    // Imported here: a few hundred milliseconds each, longer than a test may take.
    sets.deadline = bulk("deadline");
    sets.sigterm = bulk("sigterm");
  });

  it("with a node timeout shorter than the work, the run log lists exactly what was deleted", async () => {
    const images = sets.deadline;
    const { lines, nodes, reporter } = collectingReporter();
    const instance = `deadline-${tok}`;
    const config = testRunConfig(ns, instance, {
      include: [`${repo}/deadline:*`],
      nodes: [fixture.nodeName],
      "node-timeout": "20s",
      // ctr: a client held by SIGSTOP goes on when let go (crictl's own 2 s call timeouts would
      // fail the held batch instead).
      client: "ctr",
    });
    const running = fixture.run("kic", config, { report: reporter, runId: `dl-${tok}` });
    // Held inside a removal call until the node's time is up: the controller gives up on the
    // node (and deletes the pod), or the kubelet ends it at its activeDeadlineSeconds.
    const held = await holdRemoval(images);
    await eventually(async () => {
      const p = (await podsWith(ns, selectorOf(instanceLabels(instance))))[0];
      if (p === undefined) return true;
      const phase = (p as { status?: { phase?: string } }).status?.phase;
      return p.metadata.deletionTimestamp !== undefined || phase === "Failed" ? true : undefined;
    }, "the node's time to run out");
    // Whether the held client outlived the agent's kill at its timeout: a diagnostic for the
    // assertion message below (a failure seen once under load, issue 26 item 0).
    const aliveAtRelease = held.filter((pid) => argvOf(pid).length > 1);
    releaseHeld(held);
    await running;

    const node = nodes[0];
    expect(node?.status).toBe("failed");
    // Held past its deadline, the agent's own call timeout may end the held removal (the batch
    // then fails, in part or whole) or the pod may end first (the controller follows the log):
    // either way the run log lists exactly what went.
    const onNode = new Set(nodeImageNames());
    const gone = images.map((i) => i.name).filter((n) => !onNode.has(n));
    const ours = (names: string[]) => names.filter((n) => n.includes(`${repo}/deadline:`));
    const log =
      `held ${String(held.length)} processes, ${String(aliveAtRelease.length)} still alive at release; ` +
      `on the node now: ${ours([...onNode]).length} of ${String(images.length)} names; ` +
      `${node?.reason ?? ""}\n` +
      lines
        .filter((l) => l.includes("deleted") || l.includes("FAILED") || l.includes("failed"))
        .join("\n")
        .slice(-6000);
    // Deleted where the agent saw the outcome; "outcome unknown" for a call it did not see end
    // (the kubelet ended the pod at its activeDeadlineSeconds while the call was held).
    const recorded = listedDeleted(lines, images);
    const underWay = listedUnderWay(lines, images);
    for (const name of gone) expect([...recorded, ...underWay], log).toContain(name);
    for (const name of recorded) expect(onNode.has(name), name).toBe(false);
    expect(node?.reason).toMatch(/partial record|not attempted|deletions failed/);
  });

  it("when the run is stopped (SIGTERM) while its agent deletes, the run log lists what the agent recorded", async () => {
    const images = sets.sigterm;
    const instance = `sigterm-${tok}`;
    const child = spawn(
      process.execPath,
      [
        ...fixture.cliArgs("run", "kic"),
        "--instance",
        instance,
        "--include",
        `${repo}/sigterm:*`,
        "--nodes",
        fixture.nodeName,
        // See the first test: a held ctr goes on when let go.
        "--client",
        "ctr",
        "--helper-image",
        ensureCluster().image,
        "--helper-image-pull-policy",
        "Never",
        "--socket",
        ensureCluster().containerdSocket,
        "--nsenter-target",
        "containerd",
        "--node-timeout",
        "2m",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    // The agent is held at a known point, whatever this machine's speed: inside a removal call,
    // with that batch logged as started. The run is stopped there; the removal goes on only once
    // the run has deleted the helper pod (SIGTERM to the agent), so the batch's outcome is logged
    // after the delete and the log must be followed to the container's end to get it.
    const held = await holdRemoval(images);
    const heldAt = Date.now();
    // The agent's own log, followed by the test (for a failure message: what the agent wrote).
    const helper = (await podsWith(ns, selectorOf(instanceLabels(instance))))[0]?.metadata.name;
    let agentLog = "";
    const tail = spawn("kubectl", [
      "--kubeconfig",
      ensureCluster().kubeconfig,
      "logs",
      "-f",
      "-n",
      ns,
      helper ?? "",
    ]);
    tail.stdout.on("data", (d: Buffer) => (agentLog += d.toString()));
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGTERM");
    // Let go as soon as the delete is seen: the agent's grace period (10 s) runs from it.
    let pod: string | undefined;
    for (const end = Date.now() + 60_000; pod === undefined && Date.now() < end;) {
      const p = (await podsWith(ns, selectorOf(instanceLabels(instance))))[0];
      if (p?.metadata.deletionTimestamp !== undefined) pod = p.metadata.name;
      else await new Promise((r) => setTimeout(r, 100));
    }
    releaseHeld(held);
    expect(pod, "the helper pod's deletion").toBeDefined();
    const timing = () =>
      `held ${String(held.length)} processes for ${String(Date.now() - heldAt)} ms; the agent's log as followed by the test:\n${agentLog
        .split("\n")
        .filter(
          (l) =>
            l.includes("removed images") ||
            l.includes("agent result") ||
            l.includes("removing images"),
        )
        .map((l) => l.slice(0, 200))
        .join("\n")}`;
    expect(await exited, stderr).toBe(1);
    await kubectl(["wait", "-n", ns, `pod/${pod ?? ""}`, "--for=delete", "--timeout=60s"]).catch(
      () => "",
    );

    const lines = stdout.split("\n");
    expect(stdout).toMatch(
      new RegExp(
        `\\[1/1\\] ${fixture.nodeName}: interrupted after .*: the run was stopped while the agent ran; before that its log records \\d+ images deleted`,
      ),
    );
    const recorded = listedDeleted(lines, images);
    const underWay = listedUnderWay(lines, images);
    // Its follow ends with the container; it is cut after 10 s more in any case.
    await new Promise((r) => {
      if (tail.exitCode !== null || tail.signalCode !== null) {
        r(undefined);
        return;
      }
      const cut = setTimeout(() => tail.kill(), 10_000);
      tail.on("close", () => {
        clearTimeout(cut);
        r(undefined);
      });
    });
    const why = `${timing()}\n${stdout.slice(-3000)}`;
    // Everything the agent wrote (its log, followed by the test on its own) is in the run log: the
    // held batch's outcome once the agent saw it. Only when the kubelet killed the agent before the
    // held call ended (its 10 s grace ran out on a loaded machine) is that batch "outcome unknown".
    const own = partialRecord(agentLog);
    const ours = (list: { names: string[] }[] | undefined) =>
      (list ?? [])
        .map((i) => i.names[0] ?? "")
        .filter((n) => images.some((i) => i.name === n))
        .sort();
    expect(recorded.sort(), why).toEqual(ours(own?.deleted));
    for (const name of ours(own?.unknown)) expect(underWay, why).toContain(name);
    if (agentLog.includes(`"msg":"agent result"`)) expect(underWay, why).toEqual([]);
    // And the run log lists every image gone from the node.
    const onNode = new Set(nodeImageNames());
    const gone = images.map((i) => i.name).filter((n) => !onNode.has(n));
    for (const name of gone) expect([...recorded, ...underWay], why).toContain(name);
    for (const name of recorded) expect(onNode.has(name), name).toBe(false);
    // The log alone says under which rules the run decided (issue 26 item 8).
    for (const rule of [
      "  exclude:     none",
      "  keep newest: none",
      "  limits:      none",
      "  registry:    not asked (--only-if-pullable off)",
      "  helper:      privileged (nsenter into the node's runtime client), node timeout 2m",
      "  dry run:     no",
    ])
      expect(lines).toContain(rule);
  });
});

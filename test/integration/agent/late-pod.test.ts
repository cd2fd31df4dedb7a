// A pod sandbox that starts while the agent deletes, of a pod the controller did not list in the
// protect file (bound to the node after the list was read), on a real containerd through each
// client: the agent deletes nothing after it sees the sandbox running. The sandbox is started from
// inside the agent's own first removal call (a host exec that runs `crictl runp` before passing
// the call on), so it is there at the second batch's re-check whatever this machine's speed. The
// kubelet's part (sandbox first, then the images) is the cluster test's
// (test/integration/controller/late-pod.test.ts).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { runAgent } from "../../../src/agent/agent.js";
import { REMOVE_BATCH } from "../../../src/agent/execute.js";
import { createHostExec, type HostExec } from "../../../src/agent/host-exec.js";
import { createPrettyReporter } from "../../../src/agent/report.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { agentOnRuntime, RUNTIMES } from "../../support/agent-on-runtime.js";
import { imageRefs, uniqueToken } from "../../support/containerd.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true });
/** UIDs of the sandboxes this file started: they stay until the file is done. */
const onNode: string[] = [];

/** The direct host exec, except that the first removal call first starts `startSandbox()`. */
function execStartingSandboxInFirstRemoval(startSandbox: () => void): HostExec {
  const exec = createHostExec("direct");
  let fired = false;
  const wrapped = Object.create(exec) as HostExec;
  wrapped.run = (argv, options) => {
    const removal = argv.includes("rmi") || (argv.includes("images") && argv.includes("rm"));
    if (removal && !fired) {
      fired = true;
      startSandbox();
    }
    return exec.run(argv, options);
  };
  return wrapped;
}

describe("a pod sandbox the controller did not know starts while the agent deletes", () => {
  RUNTIMES["containerd-1.6"].clients.forEach((client) => {
    it(`deletes nothing after it sees the sandbox run (${client})`, async () => {
      const tok = uniqueToken();
      const images = Array.from({ length: REMOVE_BATCH + 10 }, (_, i) =>
        rt.scratch.image(`kic-late.local/${tok}/app:${String(i)}`),
      );
      // The pods the controller knew: every pod already on the node (the other client's test left
      // its two), this one included; and the helper pod's own name.
      rt.scratch.sandbox(`known-${tok}`, { kubeletLabels: true });
      onNode.push(`known-${tok}-uid`);
      const protectFile = join(rt.scratch.dir, `protect-${tok}.json`);
      writeFileSync(
        protectFile,
        JSON.stringify({
          images: [],
          pods: { uids: [...onNode], helper: "kic/kic-r1-it-node" },
        }),
      );
      const late = `late-${tok}`;
      const lines: string[] = [];
      const result = await runAgent(
        loadAgentConfig(
          {
            socket: rt.socket,
            "host-exec": "direct",
            "node-name": "it-node",
            client,
            include: [`kic-late.local/${tok}/**`],
            "protect-file": protectFile,
          },
          {},
        ),
        {
          exec: execStartingSandboxInFirstRemoval(() => {
            rt.scratch.sandbox(late, { kubeletLabels: true });
            onNode.push(`${late}-uid`);
          }),
          log: pino({ level: "silent" }),
          report: createPrettyReporter((l) => lines.push(l)),
        },
      );
      const why = lines.join("\n");
      expect(result.stopped, why).toBe("pod-arrived");
      expect(result.arrivedPods).toEqual([`kic-agent-it/${late}`]);
      // The first batch had passed its re-check before the sandbox started: it went.
      expect(result.deleted).toHaveLength(REMOVE_BATCH);
      const left = result.kept.filter((k) => k.reason === "not-attempted");
      expect(left).toHaveLength(images.length - REMOVE_BATCH);
      for (const k of left)
        expect(k.detail).toMatch(
          new RegExp(
            `^pod kic-agent-it/${late} was bound to the node after the protect list was read`,
          ),
        );
      const present = new Set(imageRefs(rt.socket));
      for (const k of left) for (const n of k.names) expect(present.has(n), n).toBe(true);
      expect(lines.join("\n")).toContain(
        `stopped: pod kic-agent-it/${late} bound to the node after the protect list was read; ${String(left.length)} planned images left for the next run`,
      );
    });
  });
});

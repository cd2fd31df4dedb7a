// What the agent takes as "in use", against the real containerd: containers judged by what they
// really run (not by a tag that has moved since), and an inventory that survives pods deleted
// while it is taken.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentResult, RuntimeClientName } from "../../../src/run-model/agent-result.js";
import {
  binDir,
  crictl,
  ctr,
  imageRefs,
  pathWithBins,
  uniqueToken,
} from "../../support/containerd.js";
import { agentOnRuntime, keptReasons } from "../../support/agent-on-runtime.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true });

describe.each(["ctr", "crictl"] as RuntimeClientName[])(
  "a tag moved to another image after a container started (%s)",
  (client) => {
    const scratch = rt.blockScratch();

    // A: what the container runs. The tag app:1 then moves to B, as `ctr images tag --force` or a
    // re-pull of a mutable tag does; A keeps only its id reference. (With another name the CRI
    // plugin would record that name for the container, and the tag would not matter.) The include
    // names A by its id, as an operator cleaning up untagged images does.
    const setUp = (how: "ctr run" | "ctr create" | "cri") => {
      const prefix = `docker.io/kic-agent-it/moved-${uniqueToken()}`;
      const a = scratch().image(`${prefix}/app:1`, { busybox: true });
      const b = scratch().image(`${prefix}/app-b:1`, { busybox: true });
      const tok = prefix.slice(-8);
      if (how === "ctr run") scratch().ctrContainer(`kic-moved-run-${tok}`, a.name, "running");
      else if (how === "ctr create")
        scratch().ctrContainer(`kic-moved-created-${tok}`, a.name, "created");
      else scratch().criContainer(scratch().sandbox(`moved-${tok}`), "moved", a.name, "running");
      scratch().tag(b.name, a.name);
      // The tag now names B; A is still there, under its id only.
      expect(imageRefs(rt.socket)).toContain(a.id);
      return { prefix, a, b };
    };

    // Both clients see every container in CRI's namespace: crictl asks ctr about the ones CRI
    // did not make.
    for (const how of ["ctr run", "ctr create", "cri"] as const) {
      it(`keeps the image a container made by ${how} runs after its tag moved to another image`, async () => {
        const { prefix, a, b } = setUp(how);

        const result = await rt.agent({ client, include: [`${prefix}/**`, a.id] });

        expect(result.failed).toEqual([]);
        expect(result.deleted.map((d) => d.id)).not.toContain(a.id);
        expect(keptReasons(result)[a.id]).toBe("in-use");
        expect(imageRefs(rt.socket)).toContain(a.id);
        // B is what the tag names now; nothing runs it. It is kept too (the container's name
        // still points to it), which errs on the safe side.
        expect(imageRefs(rt.socket)).toContain(b.name);
      });
    }
  },
);

/**
 * The agent with `client`, a wrapper `script` for that client first on its PATH (made in `dir`),
 * deleting under `prefix`.
 */
async function agentThroughWrapper(
  client: RuntimeClientName,
  dir: string,
  script: string,
  prefix: string,
): Promise<AgentResult> {
  mkdirSync(dir);
  writeFileSync(join(dir, client), script);
  chmodSync(join(dir, client), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${pathWithBins}`;
  try {
    return await rt.agent({ client, include: [`${prefix}/**`] });
  } finally {
    process.env.PATH = path;
  }
}

describe("pods deleted while the inventory is taken", () => {
  const scratch = rt.blockScratch();

  it("drops a sandbox removed between crictl pods and crictl inspectp, and still deletes", async () => {
    const prefix = `docker.io/kic-agent-it/churn-${uniqueToken()}`;
    const used = scratch().image(`${prefix}/used:1`, { busybox: true });
    const unused = scratch().image(`${prefix}/unused:1`);
    const tok = prefix.slice(-8);
    const survivor = scratch().sandbox(`survivor-${tok}`);
    scratch().criContainer(survivor, "user", used.name, "created");
    const victim = scratch().sandbox(`victim-${tok}`);

    // A crictl that, the first time inspectp is run, removes the victim pod right before the real
    // crictl runs: the pod was listed by `crictl pods` and is gone when inspected.
    const wrapperDir = join(scratch().dir, "churn-bin");
    const trigger = join(scratch().dir, "churn-armed");
    const real = join(binDir, "crictl");
    const endpoint = `unix://${rt.socket}`;
    writeFileSync(trigger, "");
    const result = await agentThroughWrapper(
      "crictl",
      wrapperDir,
      `#!/bin/sh
for a in "$@"; do
  if [ "$a" = inspectp ] && [ -e '${trigger}' ]; then
    rm -f '${trigger}'
    '${real}' --runtime-endpoint '${endpoint}' stopp '${victim}' >/dev/null 2>&1
    '${real}' --runtime-endpoint '${endpoint}' rmp -f '${victim}' >/dev/null 2>&1
  fi
done
exec '${real}' "$@"
`,
      prefix,
    );

    // The race really happened: the wrapper fired and the victim is gone.
    expect(existsSync(trigger)).toBe(false);
    expect(crictl(rt.socket, ["pods", "-q"])).not.toContain(victim);
    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id)).toEqual([unused.id]);
    expect(keptReasons(result)).toMatchObject({ [used.id]: "in-use" });
    expect(imageRefs(rt.socket)).toContain(used.name);
  });

  it("drops a container removed between ctr containers ls and ctr containers info, and still deletes", async () => {
    const prefix = `docker.io/kic-agent-it/churn-ctr-${uniqueToken()}`;
    const used = scratch().image(`${prefix}/used:1`, { busybox: true });
    const gone = scratch().image(`${prefix}/gone:1`, { busybox: true });
    const tok = prefix.slice(-8);
    scratch().ctrContainer(`kic-churn-used-${tok}`, used.name, "created");
    const victim = scratch().ctrContainer(`kic-churn-victim-${tok}`, gone.name, "created");

    // A ctr that removes the victim container right before `containers info` asks about it.
    const wrapperDir = join(scratch().dir, "churn-ctr-bin");
    const trigger = join(scratch().dir, "churn-ctr-armed");
    writeFileSync(trigger, "");
    const result = await agentThroughWrapper(
      "ctr",
      wrapperDir,
      `#!/bin/sh
# Only the call that asks about the victim, so the removal is done before that call runs.
case " $* " in *" containers info ${victim} "*)
  if [ -e '${trigger}' ]; then
    rm -f '${trigger}'
    /usr/bin/ctr --address '${rt.socket}' --namespace k8s.io containers rm '${victim}' >/dev/null 2>&1
  fi
esac
exec /usr/bin/ctr "$@"
`,
      prefix,
    );

    expect(existsSync(trigger)).toBe(false);
    expect(ctr(rt.socket, ["containers", "ls", "-q"])).not.toContain(victim);
    expect(result.failed).toEqual([]);
    // Its container is gone, so its image is unused now and goes; the other stays in use.
    expect(
      result.deleted.map((d) => d.id),
      JSON.stringify(result.kept),
    ).toEqual([gone.id]);
    expect(keptReasons(result)).toMatchObject({ [used.id]: "in-use" });
  });
});

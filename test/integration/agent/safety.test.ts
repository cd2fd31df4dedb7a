// The agent's safety branches on the real containerd, black-box: the real CLI runs the real crictl,
// but through a wrapper first on its PATH that does something between the agent's calls (a sandbox
// or container appears, the runtime claims a removal it did not do, a listing fails) and then runs
// the real crictl. Its own containerd, so a test that goes wrong cannot remove images another file
// needs (one of these offers the sandbox image for deletion).
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REMOVE_BATCH } from "../../../src/agent/execute.js";
import { parseAgentResult } from "../../../src/agent/report.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import {
  binDir,
  crictl,
  imageRefs,
  PAUSE_IMAGE,
  pathWithBins,
  uniqueToken,
} from "../../support/containerd.js";
import { agentArgv, cliFromSource } from "../../support/agent-cli.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";
import { tempDir } from "../../support/temp-dir.js";

const rt = agentOnRuntime();
const wrapDir = tempDir("kic-crictl-wrap-");

// The wrapper: logs each crictl subcommand to $WRAP_STATE/calls, then acts by $WRAP_MODE and the
// how-many-th call of that subcommand this is, then runs the real crictl.
const wrapper = `#!/usr/bin/env bash
real="${join(binDir, "crictl")}"
state="$WRAP_STATE"
sub=""
for a in "$@"; do
  case "$a" in pods|ps|rmi|info|images|inspectp|inspecti|version|imagefsinfo|runp|create) sub="$a"; break ;; esac
done
echo "$sub $*" >>"$state/calls"
n="$(grep -c "^$sub " "$state/calls")"
ep=(--runtime-endpoint "unix://$WRAP_SOCKET" --image-endpoint "unix://$WRAP_SOCKET")
case "$WRAP_MODE:$sub:$n" in
  phantom-removal:rmi:*)
    # The runtime answers success and removes nothing.
    exit 0 ;;
  recheck-fails:pods:1) ;;
  recheck-fails:pods:*)
    echo "rpc error: code = Unavailable desc = connection reset (injected by the test)" >&2
    exit 1 ;;
  sandbox-appears:info:*)
    # The runtime names another sandbox image, so the pause image is an ordinary candidate.
    "$real" "$@" | sed 's#"sandboxImage": *"[^"]*"#"sandboxImage": "registry.k8s.io/pause:other"#'
    exit "\${PIPESTATUS[0]}" ;;
  sandbox-appears:pods:2)
    # Between the plan and the re-check before the delete, a pod sandbox starts.
    "$real" "\${ep[@]}" runp "$WRAP_STATE/pod.json" >>"$state/made" 2>>"$state/wrapper.log" ;;
  second-batch:rmi:1)
    # Right after the first removal batch: a container is created with an image of a later batch.
    victim=""
    while read -r id name; do
      case "$*" in *"\${id#sha256:}"*) ;; *) victim="$name"; break ;; esac
    done <"$state/ids"
    echo "$victim" >"$state/victim"
    pod="$("$real" "\${ep[@]}" runp "$WRAP_STATE/pod.json")"
    sed "s#VICTIM#$victim#" "$WRAP_STATE/container.json" >"$WRAP_STATE/container-victim.json"
    "$real" "\${ep[@]}" create "$pod" "$WRAP_STATE/container-victim.json" "$WRAP_STATE/pod.json" \
      >>"$state/made" 2>>"$state/wrapper.log" ;;
esac
exec "$real" "$@"
`;

beforeAll(() => {
  writeFileSync(join(wrapDir, "crictl"), wrapper);
  chmodSync(join(wrapDir, "crictl"), 0o755);
});

interface WrappedRun {
  code: number;
  stderr: string;
  result: AgentResult | undefined;
  /** crictl subcommands the agent ran, in order. */
  calls: string[];
  state: string;
}

/** Runs the real agent CLI with the wrapper in `mode` first on PATH. */
async function agentThroughWrapper(
  mode: string,
  include: string[],
  files: Record<string, string> = {},
): Promise<WrappedRun> {
  const state = mkdtempSync(join(rt.scratch.dir, "wrap-"));
  writeFileSync(join(state, "calls"), "");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(state, name), text);
  writeFileSync(
    join(state, "pod.json"),
    JSON.stringify({
      metadata: { name: `late-${uniqueToken()}`, namespace: "kic-safety", uid: uniqueToken() },
      linux: { security_context: { namespace_options: { network: 2 } } },
    }),
  );
  writeFileSync(
    join(state, "container.json"),
    // Created, never started: a created container holds its image as much as a running one, and the
    // test images have no userland to run.
    JSON.stringify({
      metadata: { name: "late" },
      image: { image: "VICTIM" },
      command: ["/late"],
      linux: {},
    }),
  );
  const args = agentArgv(rt.socket, "direct", "--client", "crictl");
  for (const p of include) args.push("--include", p);
  const { code, stdout, stderr } = await cliFromSource(args, {
    PATH: `${wrapDir}:${pathWithBins}`,
    WRAP_MODE: mode,
    WRAP_STATE: state,
    WRAP_SOCKET: rt.socket,
  });
  const calls = readFileSync(join(state, "calls"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[0] ?? "");
  return { code, stderr, result: parseAgentResult(stdout), calls, state };
}

describe("agent safety branches on the real containerd (crictl wrapped)", () => {
  it("reports an image still present after the runtime said it removed it as failed", async () => {
    const image = rt.scratch.image(`docker.io/kic-safety/phantom-${uniqueToken()}:1`);
    const r = await agentThroughWrapper("phantom-removal", [image.name]);
    expect(r.calls).toContain("rmi");
    expect(r.code, r.stderr).toBe(1);
    expect(r.result?.deleted).toEqual([]);
    expect(r.result?.failed).toHaveLength(1);
    expect(r.result?.failed[0]?.id).toBe(image.id);
    // The error names the references that still hold the content (the agent checks what is present).
    expect(r.result?.failed[0]?.error).toMatch(
      /^still present after the runtime reported it removed; references left, so its content is not freed: /,
    );
    expect(r.result?.failed[0]?.error).toContain(image.name);
    expect(r.result?.bytesReclaimed).toBe(0);
    expect(imageRefs(rt.socket)).toContain(image.name);
  });

  it("deletes nothing when the usage re-check before the delete fails", async () => {
    const image = rt.scratch.image(`docker.io/kic-safety/recheck-${uniqueToken()}:1`);
    const r = await agentThroughWrapper("recheck-fails", [image.name]);
    // The inventory listed sandboxes once; the second listing (the re-check) failed.
    expect(r.calls.filter((c) => c === "pods")).toHaveLength(2);
    expect(r.calls).not.toContain("rmi");
    expect(r.code, r.stderr).toBe(1);
    expect(r.result?.deleted).toEqual([]);
    expect(r.result?.failed).toHaveLength(1);
    expect(r.result?.failed[0]?.id).toBe(image.id);
    expect(r.result?.failed[0]?.error).toMatch(
      /^usage re-check failed, not deleted: .*connection reset \(injected by the test\)/,
    );
    expect(imageRefs(rt.socket)).toContain(image.name);
  });

  it("keeps the image of a pod sandbox that appears during the run", async () => {
    // The sandbox image, under a name of this test only; the wrapper hides that the runtime uses it
    // for sandboxes, so only the re-check's listing of sandboxes can protect it.
    const alias = `docker.io/kic-safety/sandbox-${uniqueToken()}:1`;
    rt.scratch.tag(PAUSE_IMAGE, alias);
    const pauseId = (
      JSON.parse(crictl(rt.socket, ["inspecti", "-o", "json", PAUSE_IMAGE])) as {
        status: { id: string };
      }
    ).status.id;
    const r = await agentThroughWrapper("sandbox-appears", [alias]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(r.state, "made"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(r.calls).not.toContain("rmi");
    expect(r.result?.deleted).toEqual([]);
    const kept = r.result?.kept.find((k) => k.id === pauseId);
    expect(kept?.reason).toBe("sandbox");
    expect(kept?.detail).toMatch(/appeared during the run/);
    expect(imageRefs(rt.socket)).toEqual(expect.arrayContaining([PAUSE_IMAGE, alias]));
  });

  it(`re-checks before every removal batch: a container created after the first batch keeps its image (${String(REMOVE_BATCH + 2)} images)`, async () => {
    const tok = uniqueToken();
    const images = Array.from({ length: REMOVE_BATCH + 2 }, (_, i) =>
      rt.scratch.image(`docker.io/kic-safety/batch-${tok}/img${String(i)}:1`, { pad: 1024 }),
    );
    // The wrapper picks, after the first removal call, an image that call did not name.
    const r = await agentThroughWrapper("second-batch", [`docker.io/kic-safety/batch-${tok}/**`], {
      ids: images.map((i) => `${i.id} ${i.name}\n`).join(""),
    });
    const rmiCalls = r.calls.filter((c) => c === "rmi");
    const log = () =>
      ["calls", "victim", "made", "wrapper.log"]
        .map(
          (f) =>
            `${f}: ${existsSync(join(r.state, f)) ? readFileSync(join(r.state, f), "utf8") : "-"}`,
        )
        .join("\n");
    // Two batches, each after its own usage re-check: ... rmi (batch 1), pods, ..., rmi (batch 2).
    expect(rmiCalls, log()).toEqual(["rmi", "rmi"]);
    const first = r.calls.indexOf("rmi");
    expect(r.calls.slice(first + 1, r.calls.lastIndexOf("rmi"))).toContain("pods");
    const victim = readFileSync(join(r.state, "victim"), "utf8").trim();
    // The wrapper really created the container (its id), in between the two removal calls.
    expect(readFileSync(join(r.state, "made"), "utf8").trim(), r.state).toMatch(/^[0-9a-f]{64}$/);
    const victimImage = images.find((i) => i.name === victim);
    expect(victimImage).toBeDefined();
    expect(r.code, r.stderr).toBe(0);
    expect(r.result?.failed).toEqual([]);
    expect(r.result?.deleted.map((d) => d.id).sort()).toEqual(
      images
        .filter((i) => i !== victimImage)
        .map((i) => i.id)
        .sort(),
    );
    const kept = r.result?.kept.find((k) => k.id === victimImage?.id);
    expect(kept?.reason).toBe("in-use");
    expect(kept?.detail).toMatch(/appeared during the run/);
    const refs = imageRefs(rt.socket);
    expect(refs).toContain(victim);
    for (const i of images) if (i !== victimImage) expect(refs).not.toContain(i.name);
  });
});

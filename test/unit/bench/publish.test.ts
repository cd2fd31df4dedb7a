// A published benchmark run says how to repeat it, and only such a run can be published.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeRun } from "../../../bench/lib/output.js";
import { publish } from "../../../bench/lib/publish.js";

const dir = mkdtempSync(join(tmpdir(), "kic-publish-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("benchmark runs", () => {
  it("record the command that repeats them, with every BENCH_ and KIC_ setting given", () => {
    const run = describeRun("sweep-realistic", {
      BENCH_SWEEP_REALISTIC: "1",
      BENCH_SWEEP_NODES: "1000,5000",
      BENCH_SWEEP_NODE_OPTIONS: "--max-old-space-size=96 --expose-gc",
      KIC_CACHE: "/tmp/c",
      HOME: "/root",
      BENCH_CALLS_FILE: "/tmp/internal",
    });
    expect(run.command).toBe(
      "BENCH_SWEEP_NODE_OPTIONS='--max-old-space-size=96 --expose-gc' BENCH_SWEEP_NODES=1000,5000 BENCH_SWEEP_REALISTIC=1 KIC_CACHE=/tmp/c npm run bench -- sweep",
    );
    expect(Object.keys(run.environment)).not.toContain("HOME");
    expect(describeRun("agent-plan", {}).command).toBe("npm run bench -- plan");
    expect(describeRun("agent-containerd", {}).command).toBe("npm run bench -- agent");
    expect(
      describeRun("node-time-containerd2", { BENCH_NODE_TIME_RUNTIME: "containerd2" }).command,
    ).toBe("BENCH_NODE_TIME_RUNTIME=containerd2 npm run bench -- node-time");
  });

  it("are published as <date>-<name>.json/.md, and one that does not say how it ran is refused", () => {
    const from = join(dir, "results");
    const to = join(dir, "published");
    mkdirSync(from, { recursive: true });
    // Written before runs recorded their command (the 2026-11-23 results): not publishable.
    const old = { benchmark: "sweep", finishedAt: "2026-11-23T20:00:00.000Z", machine: {} };
    for (const [name, report] of [
      ["sweep", old],
      ["agent-plan", { ...old, benchmark: "agent-plan", run: describeRun("agent-plan", {}) }],
    ] as const) {
      writeFileSync(join(from, `${name}.json`), JSON.stringify(report));
      writeFileSync(join(from, `${name}.md`), `## ${name}\n`);
    }
    expect(() => publish("sweep", from, to)).toThrow(/does not say how it was run/);
    expect(() => publish("agent", from, to)).toThrow(/no .*agent\.json: run the benchmark first/);
    const [json, md] = publish("agent-plan", from, to);
    expect(json).toBe(join(to, "2026-11-23-agent-plan.json"));
    expect(md).toBe(join(to, "2026-11-23-agent-plan.md"));
    expect(JSON.parse(readFileSync(json, "utf8"))).toMatchObject({
      run: { command: "npm run bench -- plan" },
    });
  });

  it("never replace another run published under the same name: a label names the new one", () => {
    const from = join(dir, "results-2");
    const to = join(dir, "published-2");
    mkdirSync(from, { recursive: true });
    const write = (n: number) => {
      const report = {
        benchmark: "sweep-agent2500ms",
        finishedAt: "2026-12-07T13:03:53.110Z",
        machine: {},
        run: describeRun("sweep-agent2500ms", { BENCH_SWEEP_NODES: String(n) }),
      };
      writeFileSync(join(from, "sweep-agent2500ms.json"), JSON.stringify(report));
      writeFileSync(join(from, "sweep-agent2500ms.md"), `## ${n} nodes\n`);
    };
    write(1000);
    const [first] = publish("sweep-agent2500ms", from, to);
    expect(first).toBe(join(to, "2026-12-07-sweep-agent2500ms.json"));
    // The same run again is harmless; another run under that name is refused.
    expect(publish("sweep-agent2500ms", from, to)[0]).toBe(first);
    write(5000);
    expect(() => publish("sweep-agent2500ms", from, to)).toThrow(/holds another run already/);
    expect(JSON.parse(readFileSync(first, "utf8"))).toMatchObject({
      run: { environment: { BENCH_SWEEP_NODES: "1000" } },
    });
    const [json, md] = publish("sweep-agent2500ms:5000n-c100", from, to);
    expect(json).toBe(join(to, "2026-12-07-sweep-agent2500ms-5000n-c100.json"));
    expect(md).toBe(join(to, "2026-12-07-sweep-agent2500ms-5000n-c100.md"));
    expect(readFileSync(md, "utf8")).toBe("## 5000 nodes\n");
    expect(() => publish("sweep-agent2500ms:../x", from, to)).toThrow(/label/);
  });
});

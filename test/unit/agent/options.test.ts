import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { agentArgv } from "../../../src/config/agent-argv.js";
import { readProtectFile } from "../../../src/config/protect-list.js";
import { ConfigError } from "../../../src/errors.js";
import { tempDir } from "../../support/temp-dir.js";

describe("loadAgentConfig", () => {
  it("refuses to run without --include and says how to give one", () => {
    expect(() => loadAgentConfig({})).toThrow(ConfigError);
    expect(() => loadAgentConfig({})).toThrow(
      /invalid --include: nothing was given; give at least one glob/,
    );
  });

  it("takes a single KIC_INCLUDE-style string as one pattern", () => {
    expect(loadAgentConfig({ include: "acme/*" }, {}).include.map((p) => p.normalised)).toEqual([
      "docker.io/acme/*",
    ]);
  });

  it("defaults to nsenter inside a pod and direct elsewhere", () => {
    expect(
      loadAgentConfig({ include: ["x"] }, { KUBERNETES_SERVICE_HOST: "10.0.0.1" }).hostExec,
    ).toBe("nsenter");
    expect(loadAgentConfig({ include: ["x"] }, {}).hostExec).toBe("direct");
    expect(loadAgentConfig({ include: ["x"], "host-exec": "nsenter" }, {}).hostExec).toBe(
      "nsenter",
    );
  });

  it("takes the node name from --node-name, then NODE_NAME", () => {
    expect(loadAgentConfig({ include: ["x"] }, { NODE_NAME: "n1" }).nodeName).toBe("n1");
    expect(
      loadAgentConfig({ include: ["x"], "node-name": "n2" }, { NODE_NAME: "n1" }).nodeName,
    ).toBe("n2");
  });

  it("reads --min-age and rejects a bare number", () => {
    expect(loadAgentConfig({ include: ["x"], "min-age": "2h" }, {}).minAgeSeconds).toBe(7200);
    expect(() => loadAgentConfig({ include: ["x"], "min-age": "30" }, {})).toThrow(/--min-age/);
  });

  it("accepts unix:// sockets and rejects relative ones", () => {
    expect(loadAgentConfig({ include: ["x"], socket: "unix:///run/x.sock" }, {}).socket).toBe(
      "/run/x.sock",
    );
    expect(() => loadAgentConfig({ include: ["x"], socket: "run/x.sock" }, {})).toThrow(
      /invalid --socket/,
    );
  });

  it("returns a frozen config", () => {
    expect(Object.isFrozen(loadAgentConfig({ include: ["x"] }, {}))).toBe(true);
  });
});

describe("readProtectFile", () => {
  const dir = tempDir("kic-protect-");
  it("reads a JSON list", async () => {
    const file = join(dir, "ok.json");
    writeFileSync(file, JSON.stringify(["nginx:1.25", "quay.io/a/b:1"]));
    await expect(readProtectFile(file)).resolves.toEqual({
      refs: [{ ref: "nginx:1.25" }, { ref: "quay.io/a/b:1" }],
    });
  });
  it("reads the controller's object: the images and the pods it knew on the node", async () => {
    const file = join(dir, "object.json");
    const pods = { uids: ["5e0c-uid", "static-hash"], helper: "kic/kic-r1-node-a" };
    writeFileSync(file, JSON.stringify({ images: ["nginx:1.25"], pods }));
    await expect(readProtectFile(file)).resolves.toEqual({ refs: [{ ref: "nginx:1.25" }], pods });
  });
  [
    { what: "no helper", pods: { uids: [] } },
    { what: "UIDs that are not text", pods: { uids: [1], helper: "a/b" } },
    { what: "no pods at all", pods: undefined },
  ].forEach((t) => {
    it(`refuses the object form with ${t.what} (the check would be off without saying so)`, async () => {
      const file = join(dir, "badpods.json");
      writeFileSync(file, JSON.stringify({ images: ["nginx:1.25"], pods: t.pods }));
      await expect(readProtectFile(file)).rejects.toThrow(/invalid --protect-file: .*"pods"/);
    });
  });
  it("reads the controller's entries with the pod that needs each image, first entry winning", async () => {
    const file = join(dir, "pods.json");
    writeFileSync(
      file,
      JSON.stringify([
        { ref: "acme/backend:1", pod: "demo-shop/backend", phase: "Pending", pods: 2 },
        "nginx:1.25",
        { ref: "acme/web:1", pod: "demo-shop/web" },
        { ref: "acme/backend:1", pod: "other/x", phase: "Running", pods: 1 },
      ]),
    );
    await expect(readProtectFile(file)).resolves.toEqual({
      refs: [
        {
          ref: "acme/backend:1",
          neededBy: { pod: "demo-shop/backend", phase: "Pending", pods: 2 },
        },
        { ref: "nginx:1.25" },
        { ref: "acme/web:1", neededBy: { pod: "demo-shop/web", pods: 1 } },
      ],
    });
  });
  it("refuses an entry object without a reference", async () => {
    const file = join(dir, "noref.json");
    writeFileSync(file, JSON.stringify([{ pod: "a/b" }]));
    await expect(readProtectFile(file)).rejects.toThrow(
      /invalid --protect-file: .*JSON list of image references/,
    );
  });
  it("rejects anything but a list of strings, naming the flag and the shape", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ refs: [] }));
    await expect(readProtectFile(file)).rejects.toThrow(
      /invalid --protect-file: .*JSON list of image references/,
    );
  });
  it("names an unreadable file", async () => {
    await expect(readProtectFile(join(dir, "missing.json"))).rejects.toThrow(
      /invalid --protect-file: given ".*missing.json"/,
    );
  });
  it("reads thousands of references of any total size, once each", async () => {
    const file = join(dir, "many.json");
    const many = Array.from({ length: 5000 }, (_, i) => `registry.example.com/team/app-${i}:v1`);
    writeFileSync(file, JSON.stringify([...many, ...many]));
    await expect(readProtectFile(file)).resolves.toEqual({ refs: many.map((ref) => ({ ref })) });
  });
  it("refuses an entry that is no image reference, by place and length, without printing it", async () => {
    const file = join(dir, "forged.json");
    writeFileSync(file, JSON.stringify(["nginx:1.25", "x\n[1/1] node-a: deleted 9 images"]));
    const message = await readProtectFile(file).then(
      () => "",
      (e: unknown) => (e as Error).message,
    );
    expect(message).toMatch(
      /^invalid --protect-file .*forged.json: given "entry 2 \(32 characters\)"/,
    );
    expect(message).not.toContain("deleted");
  });
  it("refuses a --protect that is no image reference", () => {
    expect(() => loadAgentConfig({ include: ["x"], protect: ["a b"] }, {})).toThrow(
      /invalid --protect: given "entry 1 \(3 characters\)"/,
    );
  });
});

describe("agentArgv", () => {
  it("keeps every value one argv element, shell characters and all", () => {
    expect(
      agentArgv({
        include: ["a/*; rm -rf /"],
        exclude: ["$(x)"],
        dryRun: true,
        hostExec: "nsenter",
      }),
    ).toEqual(["--include=a/*; rm -rf /", "--exclude=$(x)", "--host-exec=nsenter", "--dry-run"]);
  });
});

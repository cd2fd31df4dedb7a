// The release image is built for linux/amd64 and linux/arm64 (.github/workflows/release.yml). Its Go
// clients are cross-compiled by runtime-clients/build.sh, the script the Dockerfile's `clients`
// stage runs for TARGETARCH. This machine has no arm64 emulation, so the arm64 build is proven here
// the way the Dockerfile does it: GOARCH=arm64 CGO_ENABLED=0, then the binaries' own build info and
// ELF headers are read (nothing can run them here). Needs Go (as test/cluster/build-binaries.sh
// does) and the Go module proxy or a warm module cache; no cluster.
import { execFile } from "node:child_process";
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, "..", "..", "..");
const out = mkdtempSync(join(tmpdir(), "kic-cross-build-"));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

/** ELF class, data and machine of a file: `e_machine` 0xB7 is AArch64, 0x3E x86-64. */
function elfHeader(file: string): { elf: boolean; bits: number; machine: number } {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(20);
    readSync(fd, b, 0, 20, 0);
    return {
      elf: b.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])),
      bits: b[4] === 2 ? 64 : 32,
      machine: b.readUInt16LE(18),
    };
  } finally {
    closeSync(fd);
  }
}

/** Go on PATH, else /usr/local/go (as test/cluster/lib.sh finds it). */
const env = { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/local/go/bin` };

describe("runtime clients cross-built for arm64 (runtime-clients/build.sh, as the Dockerfile runs it)", () => {
  it(
    "builds static linux/arm64 crictl and ctr at the pinned versions",
    { timeout: 900_000 },
    async () => {
      const { stdout } = await run("bash", [join(repoRoot, "runtime-clients/build.sh"), out], {
        env: { ...env, GOOS: "linux", GOARCH: "arm64" },
        maxBuffer: 16 << 20,
      });
      const crictl = /^crictl (v\S+) linux\/arm64$/m.exec(stdout)?.[1];
      const ctr = /^ctr (v\S+) linux\/arm64$/m.exec(stdout)?.[1];
      expect(crictl).toMatch(/^v1\.\d+\.\d+$/);
      expect(ctr).toMatch(/^v2\.\d+\.\d+$/);
      for (const [bin, module, version] of [
        ["crictl", "sigs.k8s.io/cri-tools", crictl],
        ["ctr", "github.com/containerd/containerd/v2", ctr],
      ] as const) {
        const file = join(out, bin);
        expect(elfHeader(file)).toEqual({ elf: true, bits: 64, machine: 0xb7 });
        const info = (await run("go", ["version", "-m", file], { env })).stdout;
        expect(info).toMatch(/^\s+build\s+GOARCH=arm64$/m);
        expect(info).toMatch(/^\s+build\s+GOOS=linux$/m);
        expect(info).toMatch(/^\s+build\s+CGO_ENABLED=0$/m);
        expect(info).toMatch(
          new RegExp(`^\\s+mod\\s+${module.replace(/\./g, "\\.")}\\s+${version ?? "?"}\\s`, "m"),
        );
      }
    },
  );

  it("fails, naming the client, when asked for a platform Go cannot build for", async () => {
    await expect(
      run("bash", [join(repoRoot, "runtime-clients/build.sh"), join(out, "bad")], {
        env: { ...env, GOOS: "linux", GOARCH: "vax" },
      }),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/unsupported GOOS\/GOARCH pair linux\/vax/) as unknown,
    });
  });
});

// The cluster profile's pure parts: perf's script output read into stacks, and each sample put
// under what it serves (outermost frame that matches) and what its innermost code is.
import { describe, expect, it } from "vitest";
import {
  classify,
  DOES,
  parsePerfScript,
  SERVES,
  summarise,
} from "../../../bench/lib/go-profile.js";

const SCRIPT = [
  "kube-apiserver 12084 ",
  "\t          373fe (/bin/kube-apiserver)",
  "\t          3849e (/bin/kube-apiserver)",
  "",
  "etcd 2001 ",
  "\t            10a ([kernel.kallsyms])",
  "\t            20b (/bin/etcd)",
  "",
  "kwok 3001 ",
  "",
].join("\n");

describe("go profile", () => {
  it("reads each sample's process and stack, innermost frame first", () => {
    const samples = parsePerfScript(SCRIPT);
    expect(samples.map((s) => s.comm)).toEqual(["kube-apiserver", "etcd", "kwok"]);
    expect(samples[0]?.frames).toEqual([
      { addr: 0x373fe, dso: "/bin/kube-apiserver" },
      { addr: 0x3849e, dso: "/bin/kube-apiserver" },
    ]);
    expect(samples[2]?.frames).toEqual([]);
  });

  it("puts a sample under the outermost handler and the innermost kind of code", () => {
    const stack = [
      "runtime.mallocgc",
      "encoding/json.(*encodeState).marshal",
      "k8s.io/apiserver/pkg/storage/cacher.(*cacheWatcher).process",
      "k8s.io/apiserver/pkg/endpoints/handlers.(*WatchServer).HandleHTTP",
    ];
    expect(classify(stack, SERVES, true)).toBe("watch: encode + write to each watcher");
    expect(classify(stack, DOES, false)).toBe("GC / allocation");
    expect(classify(stack.slice(1), DOES, false)).toBe("JSON");
    expect(classify(["main.main"], DOES, false)).toBe("other");
    // A runtime helper's time counts for its caller; the runtime alone is its own.
    expect(classify(["runtime.memmove", "encoding/json.Marshal"], DOES, false)).toBe("JSON");
    expect(classify(["runtime.selectgo", "main.loop"], DOES, false)).toBe(
      "Go runtime (scheduler, stacks)",
    );
  });

  it("counts samples per process, empty stacks left out", () => {
    const names: Record<number, string> = {
      0x373fe: "runtime.scanObject",
      0x3849e: "runtime.gcBgMarkWorker",
      0x20b: "go.etcd.io/bbolt.(*Tx).Commit",
    };
    const profiles = summarise(parsePerfScript(SCRIPT), (a) => names[a] ?? "[kernel]");
    expect(profiles.map((p) => [p.comm, p.samples])).toEqual([
      ["kube-apiserver", 1],
      ["etcd", 1],
    ]);
    expect(profiles[0]?.serves).toEqual([["GC (background)", 1]]);
    expect(profiles[1]?.serves).toEqual([["bbolt", 1]]);
    expect(profiles[1]?.does).toEqual([["syscalls / kernel", 1]]);
  });
});

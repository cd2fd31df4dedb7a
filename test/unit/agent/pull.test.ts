import { describe, expect, it } from "vitest";
import { countOutcomes, pullImages, type PullClient } from "../../../src/agent/pull.js";
import { classifyPullFailure, pullTimedOut } from "../../../src/agent/pull-failure.js";
import { credentialStore, type RegistryCredential } from "../../../src/registry/credentials.js";

/** A runtime whose pulls answer from a script, one answer per attempt; a fake clock. */
function scripted(
  present: Record<string, string>,
  answers: Record<string, (string | undefined)[]>,
) {
  let clock = 0;
  const calls: {
    ref: string;
    credential: RegistryCredential | undefined;
    at: number;
    timeoutMs: number | undefined;
  }[] = [];
  const client: PullClient = {
    imageId: (ref) => Promise.resolve(present[ref]),
    pull: (ref, credential, timeoutMs) => {
      calls.push({ ref, credential, at: clock, timeoutMs });
      const answer = answers[ref]?.shift();
      // HANG: a pull that never ends on its own, stopped at the timeout it was given.
      if (answer === HANG) {
        clock += timeoutMs ?? 30 * 60_000;
        return Promise.resolve({ ok: false, stderr: "timed out: killed", timedOut: true });
      }
      clock += 1000; // every other pull takes a second
      return Promise.resolve(
        answer === undefined
          ? { ok: true, id: `sha256:${ref.length}` }
          : { ok: false, stderr: answer },
      );
    },
  };
  return {
    client,
    calls,
    now: () => clock,
    sleep: (ms: number) => {
      clock += ms;
      return Promise.resolve();
    },
  };
}

const HANG = "hang";
const REFUSED = `time="x" level=fatal msg="pulling image: failed to pull and unpack image \\"r.io/a:1\\": failed to resolve reference \\"r.io/a:1\\": unexpected status from HEAD request: 401 Unauthorized"`;
const NOT_FOUND = `time="x" level=fatal msg="pulling image: rpc error: code = NotFound desc = failed to pull and unpack image \\"r.io/a:9\\": failed to resolve reference \\"r.io/a:9\\": r.io/a:9: not found"`;
const REFUSED_CONN = `time="x" level=fatal msg="pulling image: failed to do request: Head \\"http://127.0.0.1:1/v2/a/manifests/1\\": dial tcp 127.0.0.1:1: connect: connection refused"`;

describe("pullImages", () => {
  const store = credentialStore([["r.io", { username: "u", password: "p", source: "ns/pull" }]]);
  /** `images` pulled through the scripted runtime, on its clock, with r.io's credential. */
  const pullOn = (
    rt: ReturnType<typeof scripted>,
    images: string[],
    policy: Omit<Parameters<typeof pullImages>[2], "credentials" | "now" | "sleep">,
  ) =>
    pullImages(images, rt.client, { credentials: store, now: rt.now, sleep: rt.sleep, ...policy });

  it("reports present images without pulling, pulls the rest with their registry's credential", async () => {
    const rt = scripted({ "r.io/a:1": "sha256:aa" }, {});
    const out = await pullOn(rt, ["r.io/a:1", "r.io/b:1", "other.io/c:1"], {
      retries: 2,
      backoffMs: 5000,
    });
    expect(out.map((o) => [o.image, o.outcome, o.attempts])).toEqual([
      ["r.io/a:1", "present", 0],
      ["r.io/b:1", "pulled", 1],
      ["other.io/c:1", "pulled", 1],
    ]);
    expect(rt.calls.map((c) => [c.ref, c.credential?.source])).toEqual([
      ["r.io/b:1", "ns/pull"],
      ["other.io/c:1", undefined],
    ]);
  });

  it("retries an unreachable registry with a doubling backoff, then reports it failed", async () => {
    const rt = scripted({}, { "r.io/a:1": [REFUSED_CONN, REFUSED_CONN, REFUSED_CONN] });
    const [out] = await pullOn(rt, ["r.io/a:1"], { retries: 2, backoffMs: 5000 });
    expect(rt.calls.map((c) => c.at)).toEqual([0, 6000, 17000]);
    expect(out).toMatchObject({ outcome: "failed", failure: "unreachable", attempts: 3 });
    expect(out?.detail).toMatch(/^the registry r\.io could not be reached: .*connection refused$/);
  });

  it("succeeds on a retry when the registry answers again", async () => {
    const rt = scripted({}, { "r.io/a:1": [REFUSED_CONN] });
    const [out] = await pullOn(rt, ["r.io/a:1"], { retries: 2, backoffMs: 100 });
    expect(out).toMatchObject({ outcome: "pulled", attempts: 2 });
  });

  it("does not retry what will not change: not found, unauthorized", async () => {
    const rt = scripted({}, { "r.io/a:1": [REFUSED], "r.io/a:9": [NOT_FOUND] });
    const out = await pullOn(rt, ["r.io/a:1", "r.io/a:9"], { retries: 5, backoffMs: 100 });
    expect(out.map((o) => [o.outcome, o.failure, o.attempts])).toEqual([
      ["failed", "unauthorized", 1],
      ["failed", "not-found", 1],
    ]);
  });

  it("starts nothing after the deadline and no backoff past it: the rest is not attempted", async () => {
    const rt = scripted({}, { "r.io/a:1": [REFUSED_CONN, REFUSED_CONN] });
    const out = await pullOn(rt, ["r.io/a:1", "r.io/b:1"], {
      retries: 5,
      backoffMs: 5000,
      deadlineMs: 4000,
    });
    expect(out.map((o) => [o.image, o.outcome, o.attempts])).toEqual([
      ["r.io/a:1", "failed", 1],
      ["r.io/b:1", "pulled", 1],
    ]);
    const late = await pullOn(rt, ["r.io/c:1"], { retries: 0, backoffMs: 0, deadlineMs: 0 });
    expect(late).toMatchObject([{ outcome: "not-attempted", attempts: 0 }]);
    expect(countOutcomes([...out, ...late])).toEqual({
      pulled: 1,
      present: 0,
      failed: 1,
      "not-attempted": 1,
    });
  });

  it("stops a pull that outlives the node's deadline: failed with a timeout, the rest not attempted", async () => {
    const rt = scripted({}, { "r.io/hangs:1": [HANG] });
    const out = await pullImages(["r.io/a:1", "r.io/hangs:1", "r.io/b:1"], rt.client, {
      credentials: store,
      retries: 3,
      backoffMs: 100,
      deadlineMs: 10_000,
      now: rt.now,
      sleep: rt.sleep,
    });
    // The hanging pull got what the deadline left: 10 s less the second the first pull took.
    expect(rt.calls.map((c) => [c.ref, c.timeoutMs])).toEqual([
      ["r.io/a:1", 10_000],
      ["r.io/hangs:1", 9000],
    ]);
    expect(out.map((o) => [o.image, o.outcome, o.failure, o.attempts])).toEqual([
      ["r.io/a:1", "pulled", undefined, 1],
      ["r.io/hangs:1", "failed", "timeout", 1],
      ["r.io/b:1", "not-attempted", undefined, 0],
    ]);
    expect(out[1]?.detail).toBe(
      "the pull did not finish before the node's deadline (stopped after 9.0 s): raise --node-timeout (chart value timeouts.node), or check that the registry r.io answers",
    );
    expect(out[2]?.detail).toBe("the node's deadline came first");
  });

  it("on SIGTERM the pull in flight finishes and no other starts: the rest is not attempted", async () => {
    const rt = scripted({}, {});
    const stop = new AbortController();
    const out = await pullOn(rt, ["r.io/a:1", "r.io/b:1"], {
      retries: 0,
      backoffMs: 0,
      signal: stop.signal,
      onOutcome: () => {
        stop.abort();
      },
    });
    expect(out.map((o) => [o.image, o.outcome, o.detail])).toEqual([
      ["r.io/a:1", "pulled", undefined],
      ["r.io/b:1", "not-attempted", "the agent was stopped (SIGTERM)"],
    ]);
    expect(rt.calls.map((c) => c.ref)).toEqual(["r.io/a:1"]);
  });
});

describe("classifyPullFailure", () => {
  [
    { stderr: REFUSED, kind: "unauthorized", retry: false },
    {
      stderr: `msg="pulling image: failed to resolve image: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials"`,
      kind: "unauthorized",
      retry: false,
    },
    { stderr: NOT_FOUND, kind: "not-found", retry: false },
    { stderr: REFUSED_CONN, kind: "unreachable", retry: true },
    { stderr: "something else entirely", kind: "other", retry: true },
  ].forEach((t) => {
    it(`${t.kind}: ${t.stderr.slice(0, 60)}`, () => {
      expect(classifyPullFailure(t.stderr)).toMatchObject({ kind: t.kind, retry: t.retry });
    });
  });

  it("keeps the runtime's own words after the reason, without crictl's log prefix", () => {
    expect(classifyPullFailure(`W config warning\n${NOT_FOUND}`).reason).toBe(
      'the registry has no such image (tag or digest not found): pulling image: rpc error: code = NotFound desc = failed to pull and unpack image "r.io/a:9": failed to resolve reference "r.io/a:9": r.io/a:9: not found',
    );
  });

  // The one line a person reads per failed image: which registry, what went wrong, what to do.
  const SECRET = { registry: "r.io", credentialSource: "pull Secret team-registry" };
  const ANONYMOUS = { registry: "r.io", credentialSource: undefined };
  [
    {
      name: "not found",
      failure: classifyPullFailure(NOT_FOUND, ANONYMOUS),
      starts: "the registry r.io has no such image (tag or digest not found): pulling image: ",
    },
    {
      name: "unreachable",
      failure: classifyPullFailure(REFUSED_CONN, ANONYMOUS),
      starts: "the registry r.io could not be reached: pulling image: failed to do request: ",
    },
    {
      name: "credentials refused",
      failure: classifyPullFailure(REFUSED, SECRET),
      starts:
        "the registry r.io refused the credentials of pull Secret team-registry (unauthorized): check that Secret's user and password for r.io: pulling image: ",
    },
    {
      name: "no credentials",
      failure: classifyPullFailure(REFUSED, ANONYMOUS),
      starts:
        "the registry r.io refused the pull (unauthorized) and no pull Secret has credentials for it: add one (--registry-pull-secret, chart value registryPullSecrets): pulling image: ",
    },
    {
      name: "stopped at the deadline",
      failure: pullTimedOut(12_300, true, ANONYMOUS),
      starts:
        "the pull did not finish before the node's deadline (stopped after 12.3 s): raise --node-timeout (chart value timeouts.node), or check that the registry r.io answers",
    },
    {
      name: "stopped at the longest pull",
      failure: pullTimedOut(30 * 60_000, false, ANONYMOUS),
      starts:
        "the pull did not finish within 30m 0s, the longest one pull may take (stopped): check that the registry r.io answers",
    },
  ].forEach((t) => {
    it(`says it in one line: ${t.name}`, () => {
      expect(t.failure.reason.startsWith(t.starts)).toBe(true);
      expect(t.failure.reason).not.toContain("\n");
    });
  });
});

import { describe, expect, it } from "vitest";
import { errorsByRef, mentionsRef } from "../../../src/agent/client-output.js";

// Lines as ctr 1.6 and crictl 1.34 print them (captured from the real clients).
const CTR_ERROR =
  'time="2026-12-01T11:40:42Z" level=error msg="unable to delete docker.io/acme/app:10" error="context deadline exceeded"';
const CTR_NOT_FOUND =
  'time="2026-12-01T11:40:42Z" level=warning msg="docker.io/acme/app:1: image not found"';
const CRICTL_ERROR =
  'time="2026-12-01T11:40:47Z" level=error msg="error of removing image \\"sha256:aa11\\": rpc error: code = Unknown"';

describe("errors of a removal call, by exact reference", () => {
  [
    { line: CTR_ERROR, ref: "docker.io/acme/app:10", names: true },
    // A substring of the failing reference: `line.includes` would blame it too.
    { line: CTR_ERROR, ref: "docker.io/acme/app:1", names: false },
    { line: CTR_ERROR, ref: "acme/app:10", names: false },
    { line: CTR_NOT_FOUND, ref: "docker.io/acme/app:1", names: true },
    { line: CTR_NOT_FOUND, ref: "docker.io/acme/app", names: false },
    { line: "no such image sha256:aa11", ref: "sha256:aa11", names: true },
    { line: "no such image sha256:aa11", ref: "aa11", names: false },
    { line: CRICTL_ERROR, ref: "sha256:aa11", names: true },
    { line: CRICTL_ERROR, ref: "sha256:aa1", names: false },
  ].forEach((t) => {
    it(`${t.names ? "finds" : "does not find"} ${t.ref} in ${t.line.slice(0, 60)}...`, () => {
      expect(mentionsRef(t.line, t.ref)).toBe(t.names);
    });
  });

  it("gives each reference only its own error, and skips not-found lines", () => {
    const refs = ["docker.io/acme/app:1", "docker.io/acme/app:10", "docker.io/acme/app:100"];
    const errors = errorsByRef([CTR_NOT_FOUND, CTR_ERROR, ""].join("\n"), refs, /image not found/);
    expect([...errors]).toEqual([["docker.io/acme/app:10", CTR_ERROR]]);
  });
});

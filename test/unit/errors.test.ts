import { describe, expect, it } from "vitest";
import {
  ConfigError,
  KubeApiError,
  RuntimeUnavailableError,
  exitCodeFor,
} from "../../src/errors.js";

describe("exitCodeFor", () => {
  [
    {
      name: "a config error",
      err: new ConfigError("--concurrency", 0, "use an integer >= 1"),
      code: 2,
    },
    { name: "an unreachable runtime", err: new RuntimeUnavailableError("no socket"), code: 2 },
    {
      name: "a forbidden API call",
      err: new KubeApiError("forbidden", "list", "nodes", undefined, 403),
      code: 2,
    },
    { name: "an unexpected error", err: new Error("boom"), code: 1 },
  ].forEach((t) => {
    it(`maps ${t.name} to exit ${t.code}`, () => {
      expect(exitCodeFor(t.err)).toBe(t.code);
    });
  });

  it("names the key, the given value and what is allowed", () => {
    expect(new ConfigError("--concurrency", 0, "use an integer >= 1").message).toBe(
      "invalid --concurrency: given 0; use an integer >= 1",
    );
  });
});

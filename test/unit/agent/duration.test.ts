import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../../src/config/duration.js";

describe("parseDuration", () => {
  [
    ["90s", 90],
    ["30m", 1800],
    ["12h", 43_200],
    ["7d", 604_800],
    ["2w", 1_209_600],
    ["1h30m", 5400],
    ["0", 0],
  ].forEach(([given, seconds]) => {
    it(`reads ${given} as ${seconds} seconds`, () => {
      expect(parseDuration("--min-age", given as string)).toBe(seconds);
    });
  });
  ["30", "", "1x", "h", "-5m", "1.5h", "5m ago"].forEach((given) => {
    it(`refuses ${JSON.stringify(given)} and names the flag and the allowed form`, () => {
      expect(() => parseDuration("--min-age", given)).toThrow(
        /^invalid --min-age: given .*; use a duration like 90s/,
      );
    });
  });
  it("formats seconds back", () => {
    expect(formatDuration(5400)).toBe("1h30m");
    expect(formatDuration(0)).toBe("0s");
  });
});

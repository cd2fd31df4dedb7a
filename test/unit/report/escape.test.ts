import { describe, expect, it } from "vitest";
import { escapeControl } from "../../../src/text/escape.js";

describe("escapeControl", () => {
  [
    ["a\nb", "a\\nb"],
    ["a\r\nb", "a\\r\\nb"],
    ["tab\there", "tab\\there"],
    ["\u001b[31mred\u001b[0m", "\\u001b[31mred\\u001b[0m"],
    ["nul\u0000", "nul\\u0000"],
    ["del\u007f", "del\\u007f"],
    ["c1 next-line\u0085", "c1 next-line\\u0085"],
    ["csi\u009b2J", "csi\\u009b2J"],
    ["line\u2028sep\u2029", "line\\u2028sep\\u2029"],
    ["bidi \u202egnp.exe", "bidi \\u202egnp.exe"],
    ["plain docker.io/acme/app:1 über ✓", "plain docker.io/acme/app:1 über ✓"],
    ["C:\\path\\n stays", "C:\\path\\n stays"],
  ].forEach(([input = "", output = ""]) => {
    it(`writes ${JSON.stringify(input)} as ${output}`, () => {
      expect(escapeControl(input)).toBe(output);
    });
  });

  it("is idempotent, and keeps a JSON line valid JSON with the same meaning", () => {
    const value = { s: "a\u0085b\u2028c\u007f" };
    const line = JSON.stringify(value);
    expect(escapeControl(escapeControl(line))).toBe(escapeControl(line));
    expect(JSON.parse(escapeControl(line))).toEqual(value);
  });
});

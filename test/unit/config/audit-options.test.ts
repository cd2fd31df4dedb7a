import { describe, expect, it } from "vitest";
import { loadAuditConfig } from "../../../src/config/audit-options.js";

describe("audit options", () => {
  it("defaults to Events on, no report, no push", () => {
    expect(loadAuditConfig({})).toEqual({
      events: true,
      reportConfigMap: undefined,
      reportRuns: 10,
      pushgatewayUrl: undefined,
    });
  });

  it.each([
    [{ "report-runs": "0" }, 'invalid --report-runs: given "0"; give a whole number from 1 to 50'],
    [
      { "report-runs": "1e2" },
      'invalid --report-runs: given "1e2"; give a whole number from 1 to 50',
    ],
    [{ "report-configmap": "Report_1" }, 'invalid --report-configmap: given "Report_1"'],
    [
      { "pushgateway-url": "pushgateway:9091" },
      'invalid --pushgateway-url: given "pushgateway:9091"',
    ],
    [{ "pushgateway-url": "ftp://x" }, "give the Pushgateway's base URL"],
    [{ "pushgateway-url": "http://x:9091/?a=b" }, "give the Pushgateway's base URL"],
  ])("refuses %j naming the flag", (args, message) => {
    expect(() => loadAuditConfig(args)).toThrow(message);
  });

  it("takes a Pushgateway URL with a path, without its trailing slash", () => {
    expect(loadAuditConfig({ "pushgateway-url": "https://m.example/push/" }).pushgatewayUrl).toBe(
      "https://m.example/push",
    );
  });
});

import { describe, expect, it } from "vitest";
import {
  helperPodName,
  leftoverSelector,
  newRunId,
  nodeLabelValue,
  runSelector,
} from "../../../src/run-model/labels.js";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe("run ids and helper pod names", () => {
  it("makes a sortable run id that is a valid label value", () => {
    const id = newRunId(new Date("2025-01-01T03:04:05.678Z"), "1a2b");
    expect(id).toBe("20250101t030405-1a2b");
    expect(id).toMatch(LABEL_VALUE);
    expect(newRunId()).not.toBe(newRunId());
  });

  const runId = "20250101t030405-1a2b";
  for (const nodeName of [
    "node-a",
    "ip-10-0-1-23.eu-west-1.compute.internal",
    "a".repeat(253),
    `${"x".repeat(40)}.example.com`,
  ]) {
    it(`names the pod for node ${nodeName.slice(0, 40)} as a DNS label of at most 63 characters`, () => {
      const name = helperPodName(runId, nodeName);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS_LABEL);
      expect(name.startsWith(`kic-${runId}-`)).toBe(true);
      expect(nodeLabelValue(nodeName)).toMatch(LABEL_VALUE);
      expect(nodeLabelValue(nodeName).length).toBeLessThanOrEqual(63);
    });
  }

  it("gives two long node names with the same beginning different pod names", () => {
    const a = helperPodName(runId, `${"n".repeat(60)}-1`);
    const b = helperPodName(runId, `${"n".repeat(60)}-2`);
    expect(a).not.toBe(b);
  });

  it("keeps short node names readable", () => {
    expect(helperPodName(runId, "worker-3")).toBe(`kic-${runId}-worker-3`);
  });

  it("selects one run's pods, and every other run's pods of the same instance for the sweep", () => {
    expect(runSelector("prod", runId)).toBe(
      `app.kubernetes.io/name=kube-image-cleanup,app.kubernetes.io/instance=prod,app.kubernetes.io/component=agent,kube-image-cleanup.io/run-id=${runId}`,
    );
    expect(leftoverSelector("prod", runId)).toBe(
      `app.kubernetes.io/name=kube-image-cleanup,app.kubernetes.io/instance=prod,app.kubernetes.io/component=agent,kube-image-cleanup.io/run-id!=${runId}`,
    );
  });
});

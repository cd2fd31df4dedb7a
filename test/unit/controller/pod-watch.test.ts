// What the helper pod watch keeps of each watched pod until its node is done: everything the
// outcome is read from (status, spec, name), not the protect list it carried in an annotation.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- plain data, as the
 * server sends it */
import { describe, expect, it } from "vitest";
import type { V1Pod } from "@kubernetes/client-node";
import { withoutBulk } from "../../../src/controller/pod-watch.js";
import { PROTECT_ANNOTATION } from "../../../src/run-model/labels.js";

const pod = (): V1Pod => ({
  metadata: {
    name: "kic-run-n1",
    namespace: "kic",
    uid: "u1",
    resourceVersion: "42",
    labels: { "app.kubernetes.io/name": "kube-image-cleanup" },
    annotations: { [PROTECT_ANNOTATION]: JSON.stringify({ images: Array(1000).fill("x:1") }) },
    managedFields: [{ manager: "kube-image-cleanup", operation: "Update" }],
    deletionTimestamp: new Date(0),
  },
  spec: { nodeName: "n1", containers: [{ name: "agent", image: "kic:dev" }] },
  status: {
    phase: "Succeeded",
    containerStatuses: [
      {
        name: "agent",
        image: "kic:dev",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0 } },
      },
    ],
  },
});

describe("withoutBulk", () => {
  it("drops the annotations (the protect list) and managedFields, and keeps the rest as it was", () => {
    const full = pod();
    const kept = withoutBulk(full);
    expect(kept.metadata?.annotations).toBeUndefined();
    expect(kept.metadata?.managedFields).toBeUndefined();
    expect(kept.metadata).toMatchObject({
      name: "kic-run-n1",
      namespace: "kic",
      uid: "u1",
      resourceVersion: "42",
      labels: { "app.kubernetes.io/name": "kube-image-cleanup" },
      deletionTimestamp: new Date(0),
    });
    expect(kept.spec).toEqual(full.spec);
    expect(kept.status).toEqual(full.status);
    expect(JSON.stringify(kept).length).toBeLessThan(JSON.stringify(full).length / 10);
    // The watched object itself is left alone.
    expect(full.metadata?.annotations?.[PROTECT_ANNOTATION]).toBeDefined();
  });

  it("returns a pod with nothing to drop as it is", () => {
    const bare: V1Pod = { metadata: { name: "p" }, status: { phase: "Running" } };
    expect(withoutBulk(bare)).toBe(bare);
  });
});

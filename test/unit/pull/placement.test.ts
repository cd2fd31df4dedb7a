// Which nodes a workload could run on (pull --images-of): nodeSelector, required node affinity and
// tolerations against NoSchedule/NoExecute taints, as the scheduler reads them.
import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  DAEMONSET_TOLERATIONS,
  placementProblem,
  type PlacementSpec,
} from "../../../src/controller/placement.js";
import { selectNodes } from "../../../src/controller/node-selection.js";
import type { Plain } from "../controller/fixtures.js";

function node(
  labels: Record<string, string>,
  taints: { key: string; value?: string; effect: string }[] = [],
): V1Node {
  const plain: Plain<V1Node> = { metadata: { name: "n", labels }, spec: { taints } };
  return plain as V1Node;
}

const gpu = node({ pool: "gpu", zone: "a", cores: "16" }, [
  { key: "gpu", value: "true", effect: "NoSchedule" },
]);
const plain = node({ pool: "general", zone: "b", cores: "4" });
const draining = node({ pool: "general" }, [
  { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" },
]);
const preferred = node({ pool: "general" }, [{ key: "spot", effect: "PreferNoSchedule" }]);

const affinity = (
  terms: { key: string; operator: string; values?: string[] }[][],
): Plain<PlacementSpec> => ({
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: terms.map((matchExpressions) => ({ matchExpressions })),
      },
    },
  },
});

describe("placementProblem", () => {
  it.each<[string, Plain<PlacementSpec>, V1Node, RegExp | undefined]>([
    ["no constraints, no taints", {}, plain, undefined],
    [
      "no constraints vs a NoSchedule taint",
      {},
      gpu,
      /does not tolerate the taint gpu=true:NoSchedule/,
    ],
    ["a PreferNoSchedule taint is only a preference", {}, preferred, undefined],
    ["nodeSelector matches", { nodeSelector: { pool: "general" } }, plain, undefined],
    [
      "nodeSelector does not match",
      { nodeSelector: { pool: "gpu" } },
      plain,
      /nodeSelector pool=gpu does not match/,
    ],
    [
      "toleration by key and value",
      {
        nodeSelector: { pool: "gpu" },
        tolerations: [{ key: "gpu", operator: "Equal", value: "true", effect: "NoSchedule" }],
      },
      gpu,
      undefined,
    ],
    [
      "toleration with the wrong value",
      { tolerations: [{ key: "gpu", operator: "Equal", value: "no" }] },
      gpu,
      /taint gpu=true/,
    ],
    [
      "toleration Exists without a key tolerates everything",
      { tolerations: [{ operator: "Exists" }] },
      gpu,
      undefined,
    ],
    [
      "toleration for another effect",
      { tolerations: [{ key: "gpu", operator: "Exists", effect: "NoExecute" }] },
      gpu,
      /taint gpu/,
    ],
    [
      "affinity In",
      affinity([[{ key: "zone", operator: "In", values: ["a", "b"] }]]),
      plain,
      undefined,
    ],
    [
      "affinity NotIn",
      affinity([[{ key: "zone", operator: "NotIn", values: ["b"] }]]),
      plain,
      /required node affinity does not match \(zone NotIn \(b\)\)/,
    ],
    [
      "affinity DoesNotExist",
      affinity([[{ key: "gpu-model", operator: "DoesNotExist" }]]),
      plain,
      undefined,
    ],
    [
      "affinity Exists",
      affinity([[{ key: "gpu-model", operator: "Exists" }]]),
      plain,
      /gpu-model Exists/,
    ],
    [
      "affinity Gt",
      affinity([[{ key: "cores", operator: "Gt", values: ["8"] }]]),
      plain,
      /cores Gt/,
    ],
    [
      "terms are ORed",
      affinity([
        [{ key: "zone", operator: "In", values: ["x"] }],
        [{ key: "pool", operator: "In", values: ["general"] }],
      ]),
      plain,
      undefined,
    ],
    [
      "requirements in a term are ANDed",
      affinity([
        [
          { key: "pool", operator: "In", values: ["general"] },
          { key: "zone", operator: "In", values: ["a"] },
        ],
      ]),
      plain,
      /zone In \(a\)/,
    ],
  ])("%s", (_name, spec, n, want) => {
    const why = placementProblem(spec as PlacementSpec, n);
    if (want === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(want);
  });

  it("a DaemonSet's pods tolerate a cordoned node, as the DaemonSet controller makes them", () => {
    expect(placementProblem({}, draining)).toMatch(/unschedulable:NoSchedule/);
    expect(placementProblem({}, draining, DAEMONSET_TOLERATIONS)).toBeUndefined();
  });

  it("a node the job cannot use is skipped with the reason, before the cordon check", () => {
    const facts = (name: string, unfit?: string) => ({
      name,
      windows: false,
      deleting: false,
      ready: true,
      notReady: "",
      unschedulable: false,
      ...(unfit === undefined ? {} : { unfit }),
    });
    const sel = selectNodes([facts("a"), facts("b", "cannot run deployment/shop/web: x")], {
      names: [],
      exclude: [],
      skipNotReady: true,
      skipCordoned: false,
    });
    expect(sel.selected).toEqual(["a"]);
    expect(sel.skipped).toEqual([{ node: "b", reason: "cannot run deployment/shop/web: x" }]);
  });
});

import { describe, expect, it } from "vitest";
import {
  nodeFacts,
  selectNodes,
  type NodeFacts,
  type NodeFilter,
} from "../../../src/controller/node-selection.js";
import { node } from "./fixtures.js";

const all: NodeFilter = { names: [], exclude: [], skipNotReady: false, skipCordoned: false };

const cases: {
  name: string;
  nodes: ReturnType<typeof node>[];
  filter: Partial<NodeFilter>;
  selected: string[];
  skipped?: string[];
  missing?: string[];
}[] = [
  {
    name: "selects every listed node, sorted by name",
    nodes: [node("b"), node("a"), node("c")],
    filter: {},
    selected: ["a", "b", "c"],
  },
  {
    name: "keeps only the nodes named with --nodes and reports names not listed",
    nodes: [node("a"), node("b"), node("c")],
    filter: { names: ["c", "a", "zz"] },
    selected: ["a", "c"],
    missing: ["zz"],
  },
  {
    name: "leaves out --exclude-nodes, also when they are named with --nodes",
    nodes: [node("a"), node("b")],
    filter: { names: ["a", "b"], exclude: ["b"] },
    selected: ["a"],
    skipped: ["b: excluded (--exclude-nodes)"],
  },
  {
    name: "does not report an excluded name as missing",
    nodes: [node("a")],
    filter: { names: ["a", "gone"], exclude: ["gone"] },
    selected: ["a"],
  },
  {
    name: "skips NotReady and Unknown nodes with --skip-not-ready, saying why",
    nodes: [node("a"), node("b", { ready: "Unknown" }), node("c", { ready: "none" })],
    filter: { skipNotReady: true },
    selected: ["a"],
    skipped: [
      "b: not ready: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.) (--skip-not-ready)",
      "c: not ready: no Ready condition yet (--skip-not-ready)",
    ],
  },
  {
    name: "cleans NotReady nodes without --skip-not-ready",
    nodes: [node("a", { ready: "False" })],
    filter: {},
    selected: ["a"],
  },
  {
    name: "skips cordoned nodes only with --skip-cordoned",
    nodes: [node("a", { cordoned: true }), node("b")],
    filter: { skipCordoned: true },
    selected: ["b"],
    skipped: ["a: cordoned (--skip-cordoned)"],
  },
  {
    name: "cleans cordoned nodes by default",
    nodes: [node("a", { cordoned: true })],
    filter: {},
    selected: ["a"],
  },
  {
    name: "never touches Windows nodes, whatever the selector returned",
    nodes: [node("win", { os: "windows" }), node("lin")],
    filter: { names: ["win", "lin"] },
    selected: ["lin"],
    skipped: ["win: Windows node"],
  },
  {
    name: "skips nodes being deleted",
    nodes: [node("a", { deleting: true })],
    filter: {},
    selected: [],
    skipped: ["a: being deleted"],
  },
  {
    name: "counts a node listed twice once",
    nodes: [node("a"), node("a")],
    filter: {},
    selected: ["a"],
  },
];

describe("selectNodes", () => {
  for (const c of cases) {
    it(c.name, () => {
      const facts = c.nodes.map(nodeFacts).filter((f): f is NodeFacts => f !== undefined);
      const s = selectNodes(facts, { ...all, ...c.filter });
      expect(s.selected).toEqual(c.selected);
      expect(s.skipped.map((k) => `${k.node}: ${k.reason}`)).toEqual(c.skipped ?? []);
      expect(s.missing).toEqual(c.missing ?? []);
    });
  }
});

// What a V8 heap snapshot holds, summarised for a text report (no DevTools needed):
//   npx vite-node bench/heap-summary.ts -- FILE.heapsnapshot [BEFORE.heapsnapshot]
// Prints the biggest objects by retained size (dominator tree, weak edges ignored) with the path
// that holds each, the constructors with the most self size, and, given a second (earlier)
// snapshot, which constructors grew between the two. Snapshots come from bench/lib/heap-probe.cjs.
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Graph {
  count: number;
  type: string[];
  name: string[];
  self: Float64Array;
  /** First edge index of each node, in `edgeTo`/`edgeName`, and one past the end. */
  firstEdge: Uint32Array;
  edgeTo: Uint32Array;
  edgeLabel: string[];
  edgeWeak: Uint8Array;
}

function load(file: string): Graph {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const nf = s.snapshot.meta.node_fields;
  const ef = s.snapshot.meta.edge_fields;
  const nodeTypes = s.snapshot.meta.node_types[0];
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const nW = nf.length;
  const eW = ef.length;
  const count = s.nodes.length / nW;
  const iType = nf.indexOf("type");
  const iName = nf.indexOf("name");
  const iSelf = nf.indexOf("self_size");
  const iEdges = nf.indexOf("edge_count");
  const eType = ef.indexOf("type");
  const eName = ef.indexOf("name_or_index");
  const eTo = ef.indexOf("to_node");
  const type: string[] = new Array<string>(count);
  const name: string[] = new Array<string>(count);
  const self = new Float64Array(count);
  const firstEdge = new Uint32Array(count + 1);
  const edges = s.edges.length / eW;
  const edgeTo = new Uint32Array(edges);
  const edgeWeak = new Uint8Array(edges);
  const edgeLabel: string[] = new Array<string>(edges);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const o = n * nW;
    type[n] = nodeTypes[s.nodes[o + iType] ?? 0] ?? "?";
    name[n] = s.strings[s.nodes[o + iName] ?? 0] ?? "?";
    self[n] = s.nodes[o + iSelf] ?? 0;
    firstEdge[n] = e;
    const k = s.nodes[o + iEdges] ?? 0;
    for (let j = 0; j < k; j++, e++) {
      const eo = e * eW;
      const et = edgeTypes[s.edges[eo + eType] ?? 0] ?? "?";
      edgeTo[e] = (s.edges[eo + eTo] ?? 0) / nW;
      edgeWeak[e] = et === "weak" ? 1 : 0;
      const nm = s.edges[eo + eName] ?? 0;
      edgeLabel[e] =
        et === "element" || et === "hidden" ? `[${String(nm)}]` : (s.strings[nm] ?? String(nm));
    }
  }
  firstEdge[count] = e;
  return { count, type, name, self, firstEdge, edgeTo, edgeLabel, edgeWeak };
}

/** Immediate dominators (Cooper, Harvey, Kennedy: iterative over reverse postorder) from node 0. */
function dominators(g: Graph): { idom: Int32Array; order: Uint32Array } {
  const post: number[] = [];
  const seen = new Uint8Array(g.count);
  const stack: [number, number][] = [[0, g.firstEdge[0] ?? 0]];
  seen[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    const [n, next] = top;
    const end = g.firstEdge[n + 1] ?? 0;
    let pushed = false;
    for (let e = next; e < end; e++) {
      if (g.edgeWeak[e] === 1) continue;
      const to = g.edgeTo[e] ?? 0;
      if (seen[to] === 1) continue;
      seen[to] = 1;
      top[1] = e + 1;
      stack.push([to, g.firstEdge[to] ?? 0]);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      post.push(n);
    }
  }
  const rpo = new Int32Array(g.count).fill(-1);
  const order = new Uint32Array(post.length);
  for (let i = 0; i < post.length; i++) {
    const n = post[post.length - 1 - i] ?? 0;
    order[i] = n;
    rpo[n] = i;
  }
  // Predecessors (strong edges between reachable nodes).
  const predCount = new Uint32Array(g.count + 1);
  for (let n = 0; n < g.count; n++) {
    if (rpo[n] === -1) continue;
    for (let e = g.firstEdge[n] ?? 0; e < (g.firstEdge[n + 1] ?? 0); e++)
      if (g.edgeWeak[e] === 0) {
        const at = (g.edgeTo[e] ?? 0) + 1;
        predCount[at] = (predCount[at] ?? 0) + 1;
      }
  }
  for (let i = 1; i <= g.count; i++) predCount[i] = (predCount[i] ?? 0) + (predCount[i - 1] ?? 0);
  const predFill = predCount.slice();
  const preds = new Uint32Array(predCount[g.count] ?? 0);
  for (let n = 0; n < g.count; n++) {
    if (rpo[n] === -1) continue;
    for (let e = g.firstEdge[n] ?? 0; e < (g.firstEdge[n + 1] ?? 0); e++)
      if (g.edgeWeak[e] === 0) {
        const to = g.edgeTo[e] ?? 0;
        const at = predFill[to] ?? 0;
        preds[at] = n;
        predFill[to] = at + 1;
      }
  }
  const idom = new Int32Array(g.count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while ((rpo[a] ?? 0) > (rpo[b] ?? 0)) a = idom[a] ?? 0;
      while ((rpo[b] ?? 0) > (rpo[a] ?? 0)) b = idom[b] ?? 0;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < order.length; i++) {
      const n = order[i] ?? 0;
      let d = -1;
      for (let p = predCount[n] ?? 0; p < (predCount[n + 1] ?? 0); p++) {
        const q = preds[p] ?? 0;
        if (rpo[q] === -1 || idom[q] === -1) continue;
        d = d === -1 ? q : intersect(q, d);
      }
      if (d !== -1 && idom[n] !== d) {
        idom[n] = d;
        changed = true;
      }
    }
  }
  return { idom, order };
}

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

function label(g: Graph, n: number): string {
  const nm = g.name[n] ?? "?";
  const shown = nm.length > 60 ? `${nm.slice(0, 57)}...` : nm;
  return `${g.type[n] ?? "?"} ${shown}`;
}

function summarise(file: string, before?: string): void {
  const g = load(file);
  const { idom, order } = dominators(g);
  const retained = Float64Array.from(g.self);
  for (let i = order.length - 1; i > 0; i--) {
    const n = order[i] ?? 0;
    const d = idom[n] ?? -1;
    if (d >= 0 && d !== n) retained[d] = (retained[d] ?? 0) + (retained[n] ?? 0);
  }
  let total = 0;
  for (let n = 0; n < g.count; n++) total += g.self[n] ?? 0;
  console.log(`${file}: ${g.count} nodes, ${mb(total)} self size in all`);

  // A shortest strong path from the root to each node (breadth first), to say what holds it.
  const parentEdge = new Int32Array(g.count).fill(-1);
  const parent = new Int32Array(g.count).fill(-1);
  {
    const queue = new Uint32Array(g.count);
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    parent[0] = 0;
    while (head < tail) {
      const n = queue[head++] ?? 0;
      for (let e = g.firstEdge[n] ?? 0; e < (g.firstEdge[n + 1] ?? 0); e++) {
        const to = g.edgeTo[e] ?? 0;
        if (g.edgeWeak[e] === 1 || parent[to] !== -1) continue;
        parent[to] = n;
        parentEdge[to] = e;
        queue[tail++] = to;
      }
    }
  }
  const path = (n: number): string => {
    const parts: string[] = [];
    for (let x = n, k = 0; x > 0 && k < 10; x = parent[x] ?? 0, k++) {
      const e = parentEdge[x] ?? -1;
      parts.push(`.${e >= 0 ? (g.edgeLabel[e] ?? "?") : "?"} (${label(g, x)})`);
    }
    return parts.reverse().join(" ");
  };
  // Biggest retainers, skipping synthetic roots and nodes that only pass on a single child.
  const candidates = [...order.slice(1)]
    .filter((n) => g.type[n] !== "synthetic" && (retained[n] ?? 0) > 500_000)
    .sort((a, b) => (retained[b] ?? 0) - (retained[a] ?? 0))
    .slice(0, 25);
  console.log("\nlargest retained sizes (dominator tree):");
  for (const n of candidates)
    console.log(
      `  ${mb(retained[n] ?? 0).padStart(10)}  ${label(g, n)}\n              held by: ${path(n)}`,
    );

  // Strings over 10 KB: source text of loaded modules, or data the run holds (what holds them).
  const big = [...order.slice(1)]
    .filter((n) => (g.type[n] ?? "").includes("string") && (g.self[n] ?? 0) > 10_000)
    .sort((a, b) => (g.self[b] ?? 0) - (g.self[a] ?? 0));
  const groups = new Map<string, { count: number; bytes: number; example: number }>();
  for (const n of big) {
    // Grouped by the last three holders on the path (the object types and fields that hold it).
    const key = path(n).split(" .").slice(-4, -1).join(" .");
    const v = groups.get(key) ?? { count: 0, bytes: 0, example: n };
    v.count++;
    v.bytes += g.self[n] ?? 0;
    groups.set(key, v);
  }
  console.log("\nstrings over 10 KB, grouped by what holds them:");
  for (const [k, v] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12))
    console.log(
      `  ${mb(v.bytes).padStart(10)}  ${String(v.count).padStart(5)} x  ${k}\n              e.g. ${path(v.example).slice(-300)}`,
    );

  const byCtor = (x: Graph) => {
    const m = new Map<string, { count: number; self: number }>();
    for (let n = 0; n < x.count; n++) {
      const key = `${x.type[n] ?? "?"} ${x.type[n] === "string" || x.type[n] === "concatenated string" || x.type[n] === "sliced string" ? "" : (x.name[n] ?? "")}`;
      const v = m.get(key) ?? { count: 0, self: 0 };
      v.count++;
      v.self += x.self[n] ?? 0;
      m.set(key, v);
    }
    return m;
  };
  const now = byCtor(g);
  console.log("\nself size by constructor (top 20):");
  for (const [k, v] of [...now].sort((a, b) => b[1].self - a[1].self).slice(0, 20))
    console.log(`  ${mb(v.self).padStart(10)}  ${String(v.count).padStart(8)}  ${k}`);
  if (before !== undefined) {
    const then = byCtor(load(before));
    console.log(`\ngrowth since ${before} (top 20 by self size):`);
    const rows = [...now].map(([k, v]) => {
      const b = then.get(k) ?? { count: 0, self: 0 };
      return { k, dSelf: v.self - b.self, dCount: v.count - b.count };
    });
    for (const r of rows.sort((a, b) => b.dSelf - a.dSelf).slice(0, 20))
      console.log(`  ${mb(r.dSelf).padStart(10)}  ${String(r.dCount).padStart(8)}  ${r.k}`);
  }
}

const [file, before] = process.argv.slice(2).filter((a) => a !== "--");
if (file === undefined) {
  process.stderr.write(
    "usage: vite-node bench/heap-summary.ts -- FILE.heapsnapshot [BEFORE.heapsnapshot]\n",
  );
  process.exit(2);
}
summarise(file, before);

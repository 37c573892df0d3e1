// An oracle for dominators and retained sizes on whole snapshots, sharing no
// code with src/heap: it reads the snapshot JSON itself and computes immediate
// dominators by the Cooper–Harvey–Kennedy iteration ("A Simple, Fast
// Dominance Algorithm", 2001), a different algorithm from the engine's
// Semi-NCA, so a bug in either the parser or the dominator passes shows.
import { readFileSync } from 'node:fs';

/** A snapshot as plain arrays, read straight from the file's JSON. */
export interface RawGraph {
  nodeCount: number;
  id: Float64Array;
  selfSize: Float64Array;
  /** Edges of node k are firstEdge[k]..firstEdge[k + 1]. */
  firstEdge: Uint32Array;
  edgeType: string[];
  edgeTo: Uint32Array;
}

/** The parts of a `.heapsnapshot` document the oracle reads. */
export interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[]; edge_types: unknown[] } };
  nodes: number[];
  edges: number[];
}

export function rawGraphFromJson(doc: SnapshotJson): RawGraph {
  const { node_fields, edge_fields, edge_types } = doc.snapshot.meta;
  const nf = node_fields.length;
  const ef = edge_fields.length;
  const [idF, sizeF, countF] = ['id', 'self_size', 'edge_count'].map((f) => node_fields.indexOf(f));
  const [typeF, toF] = ['type', 'to_node'].map((f) => edge_fields.indexOf(f));
  const typeNames = edge_types[0] as string[];
  const n = doc.nodes.length / nf;
  const id = new Float64Array(n);
  const selfSize = new Float64Array(n);
  const firstEdge = new Uint32Array(n + 1);
  for (let k = 0; k < n; k++) {
    id[k] = doc.nodes[k * nf + idF];
    selfSize[k] = doc.nodes[k * nf + sizeF];
    firstEdge[k + 1] = firstEdge[k] + doc.nodes[k * nf + countF];
  }
  const m = doc.edges.length / ef;
  const edgeType = new Array<string>(m);
  const edgeTo = new Uint32Array(m);
  for (let e = 0; e < m; e++) {
    edgeType[e] = typeNames[doc.edges[e * ef + typeF]];
    // to_node is an offset into `nodes`, not an ordinal.
    edgeTo[e] = doc.edges[e * ef + toF] / nf;
  }
  return { nodeCount: n, id, selfSize, firstEdge, edgeType, edgeTo };
}

export function readRawGraph(file: string): RawGraph {
  return rawGraphFromJson(JSON.parse(readFileSync(file, 'utf8')) as SnapshotJson);
}

/** Successor lists in compressed form. */
interface Adjacency {
  start: Uint32Array;
  to: Uint32Array;
}

function adjacency(n: number, lists: (k: number, push: (to: number) => void) => void): Adjacency {
  const start = new Uint32Array(n + 1);
  for (let k = 0; k < n; k++) lists(k, () => start[k + 1]++);
  for (let k = 0; k < n; k++) start[k + 1] += start[k];
  const to = new Uint32Array(start[n]);
  const fill = start.slice(0, n);
  for (let k = 0; k < n; k++) lists(k, (t) => (to[fill[k]++] = t));
  return { start, to };
}

function reachable(n: number, adj: Adjacency, root: number): Uint8Array {
  const seen = new Uint8Array(n);
  const stack = [root];
  seen[root] = 1;
  while (stack.length > 0) {
    const k = stack.pop()!;
    for (let i = adj.start[k]; i < adj.start[k + 1]; i++) {
      const t = adj.to[i];
      if (!seen[t]) {
        seen[t] = 1;
        stack.push(t);
      }
    }
  }
  return seen;
}

/**
 * Immediate dominator and retained size of every node, node 0 being the root
 * (its own dominator). The graph, restated here from the definition rather
 * than taken from src/heap/essential.ts: an edge retains unless it is weak, a
 * self edge, a shortcut from any node but the root, or goes from garbage (not
 * reached from the root) into a live node. Nodes the root does not reach get
 * a virtual root edge: first those nothing retains, then any still left.
 */
export function referenceDominators(g: RawGraph): { dominator: Uint32Array; retained: Float64Array } {
  const n = g.nodeCount;
  const root = 0;
  const retains = (k: number, e: number): boolean => {
    const t = g.edgeType[e];
    return t !== 'weak' && g.edgeTo[e] !== k && (k === root || t !== 'shortcut');
  };
  const base = adjacency(n, (k, push) => {
    for (let e = g.firstEdge[k]; e < g.firstEdge[k + 1]; e++) if (retains(k, e)) push(g.edgeTo[e]);
  });
  const live = reachable(n, base, root);
  const held = new Uint8Array(n);
  const kept = adjacency(n, (k, push) => {
    for (let i = base.start[k]; i < base.start[k + 1]; i++) {
      const t = base.to[i];
      if (live[k] || !live[t]) {
        held[t] = 1;
        push(t);
      }
    }
  });
  const extra: number[] = [];
  for (let k = 0; k < n; k++) if (k !== root && !live[k] && !held[k]) extra.push(k);
  const withExtra = (): Adjacency =>
    adjacency(n, (k, push) => {
      for (let i = kept.start[k]; i < kept.start[k + 1]; i++) push(kept.to[i]);
      if (k === root) for (const t of extra) push(t);
    });
  const now = reachable(n, withExtra(), root);
  for (let k = 0; k < n; k++) if (!now[k]) extra.push(k);
  const succ = withExtra();

  // Postorder numbers by an iterative depth-first search.
  const post = new Int32Array(n).fill(-1);
  const order = new Uint32Array(n); // order[p] = node with postorder number p
  const cursor = new Uint32Array(n);
  const onStack = new Uint8Array(n);
  const stack = [root];
  onStack[root] = 1;
  cursor[root] = succ.start[root];
  let count = 0;
  while (stack.length > 0) {
    const k = stack[stack.length - 1];
    if (cursor[k] < succ.start[k + 1]) {
      const t = succ.to[cursor[k]++];
      if (!onStack[t]) {
        onStack[t] = 1;
        cursor[t] = succ.start[t];
        stack.push(t);
      }
    } else {
      stack.pop();
      post[k] = count;
      order[count++] = k;
    }
  }
  if (count !== n) throw new Error(`oracle: ${n - count} nodes unreached`);

  // Predecessor lists: the successor lists inverted.
  const predStart = new Uint32Array(n + 1);
  for (let i = 0; i < succ.to.length; i++) predStart[succ.to[i] + 1]++;
  for (let k = 0; k < n; k++) predStart[k + 1] += predStart[k];
  const predTo = new Uint32Array(succ.to.length);
  const fill = predStart.slice(0, n);
  for (let k = 0; k < n; k++) for (let i = succ.start[k]; i < succ.start[k + 1]; i++) predTo[fill[succ.to[i]]++] = k;

  // Cooper–Harvey–Kennedy: by postorder number, until nothing changes.
  const UNSET = -1;
  const idom = new Int32Array(n).fill(UNSET); // by postorder number
  const rootPost = post[root];
  idom[rootPost] = rootPost;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a < b) a = idom[a];
      while (b < a) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let p = rootPost - 1; p >= 0; p--) {
      const k = order[p];
      let d = UNSET;
      for (let i = predStart[k]; i < predStart[k + 1]; i++) {
        const q = post[predTo[i]];
        if (idom[q] === UNSET) continue;
        d = d === UNSET ? q : intersect(q, d);
      }
      if (idom[p] !== d) {
        idom[p] = d;
        changed = true;
      }
    }
  }

  const dominator = new Uint32Array(n);
  const retained = Float64Array.from(g.selfSize);
  // Children before parents: a dominator has a higher postorder number.
  for (let p = 0; p < rootPost; p++) {
    const k = order[p];
    const d = order[idom[p]];
    dominator[k] = d;
    retained[d] += retained[k];
  }
  dominator[root] = root;
  return { dominator, retained };
}

/**
 * Every node of `file` whose retained size or immediate dominator in `snap`
 * differs from the reference, described for an assertion message; the node
 * order and ids must match the file's.
 */
export function differencesFromReference(
  snap: { nodeCount: number; nodeId(k: number): number; retainedSize(k: number): number; dominatorOf(k: number): number; describeNode(k: number): string },
  file: string,
): string[] {
  const raw = readRawGraph(file);
  if (raw.nodeCount !== snap.nodeCount) return [`${snap.nodeCount} nodes parsed, ${raw.nodeCount} in the file`];
  const ref = referenceDominators(raw);
  const wrong: string[] = [];
  for (let k = 0; k < raw.nodeCount; k++) {
    if (raw.id[k] !== snap.nodeId(k)) return [`node ${k}: id ${snap.nodeId(k)} parsed, ${raw.id[k]} in the file`];
    const dom = snap.dominatorOf(k);
    if (snap.retainedSize(k) !== ref.retained[k] || dom !== ref.dominator[k]) {
      wrong.push(`${snap.describeNode(k)}: ${snap.retainedSize(k)} B under @${snap.nodeId(dom)}, reference ${ref.retained[k]} B under @${raw.id[ref.dominator[k]]}`);
    }
  }
  return wrong;
}

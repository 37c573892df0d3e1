// Dominators and retained sizes: property tests against a brute-force oracle
// on random graphs, and every node of a real snapshot against an independent
// Cooper–Harvey–Kennedy oracle (test/dominator-oracle.ts), itself checked
// against the brute force here.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { census, HeapSnapshotParser, NO_DISTANCE, readHeapSnapshot, type HeapSnapshot } from '../src/heap/index.js';
import { differencesFromReference, rawGraphFromJson, referenceDominators } from './dominator-oracle.js';
import { runScript, tempDir } from './fixtures-heap/children.js';
import { EDGE_TYPES, META, NODE_FIELDS, NODE_TYPES } from './fixtures-heap/tiny.js';

fc.configureGlobal({ includeErrorInReport: true });

interface Edge {
  type: string;
  to: number;
}
interface Node {
  size: number;
  edges: Edge[];
  /** Constructor name, one of CLASSES (default the first). */
  cls?: number;
}

const CLASSES = ['x', 'y', 'z'];

function snapshotJson(graph: Node[]) {
  const nodes: number[] = [];
  const edges: number[] = [];
  graph.forEach((n, k) => {
    nodes.push(NODE_TYPES.indexOf(k === 0 ? 'synthetic' : 'object'), 1 + (n.cls ?? 0), k * 2 + 1, n.size, n.edges.length, 0, 0);
    n.edges.forEach((e, i) => edges.push(EDGE_TYPES.indexOf(e.type), e.type === 'element' || e.type === 'hidden' ? i : 1, e.to * NODE_FIELDS.length));
  });
  return {
    snapshot: {
      meta: META,
      node_count: graph.length,
      edge_count: edges.length / 3,
      trace_function_count: 0,
    },
    nodes,
    edges,
    strings: ['', ...CLASSES],
  };
}

function parseGraph(graph: Node[]): HeapSnapshot {
  const p = new HeapSnapshotParser();
  p.write(JSON.stringify(snapshotJson(graph)));
  return p.end();
}

/**
 * The definition, computed the slow way with no code shared with the engine:
 * keep the edges that retain, add the root edges DevTools adds for nodes the
 * root does not reach, then for each node x remove it and see which nodes the
 * root no longer reaches. Those are what x dominates.
 */
function oracle(graph: Node[]): { dominator: number[]; retained: number[] } {
  const n = graph.length;
  const reach = (adj: number[][], removed: number): boolean[] => {
    const seen = new Array<boolean>(n).fill(false);
    if (removed === 0) return seen;
    seen[0] = true;
    const todo = [0];
    while (todo.length) for (const c of adj[todo.pop()!]) if (c !== removed && !seen[c]) todo.push(c), (seen[c] = true);
    return seen;
  };
  const base = graph.map((node, k) => node.edges.filter((e) => e.type !== 'weak' && e.to !== k && (k === 0 || e.type !== 'shortcut')).map((e) => e.to));
  const live = reach(base, -1);
  // Garbage does not share the credit for what live objects hold.
  const adj = base.map((targets, k) => targets.filter((t) => live[k] || !live[t]));
  const hasRetainer = new Array<boolean>(n).fill(false);
  adj.forEach((targets) => targets.forEach((t) => (hasRetainer[t] = true)));
  for (let k = 1; k < n; k++) if (!live[k] && !hasRetainer[k]) adj[0].push(k);
  const now = reach(adj, -1);
  for (let k = 1; k < n; k++) if (!now[k]) adj[0].push(k);
  const dominated: number[][] = [];
  for (let x = 0; x < n; x++) {
    const seen = reach(adj, x);
    dominated.push([...Array(n).keys()].filter((y) => y !== x && !seen[y]));
  }
  const dominator = [0];
  for (let y = 1; y < n; y++) {
    // The immediate dominator is the strict dominator that dominates least.
    let best = 0;
    for (let x = 1; x < n; x++) if (x !== y && dominated[x].includes(y) && dominated[x].length < dominated[best].length) best = x;
    dominator.push(best);
  }
  const retained = dominated.map((ys, x) => ys.reduce((s, y) => s + graph[y].size, graph[x].size));
  return { dominator, retained };
}

const arbGraph: fc.Arbitrary<Node[]> = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc.array(
    fc.record({
      size: fc.nat(1000),
      edges: fc.array(
        fc.record({
          // Mostly retaining edges, so that graphs are deep enough to be interesting.
          type: fc.constantFrom('property', 'property', 'element', 'internal', 'context', 'hidden', 'weak', 'shortcut'),
          to: fc.integer({ min: 0, max: n - 1 }),
        }),
        { maxLength: 4 },
      ),
    }),
    { minLength: n, maxLength: n },
  ),
);

describe('dominators: random graphs against removing each node', () => {
  it('immediate dominators and retained sizes equal the brute force (weak, shortcut and self edges, cycles, garbage)', () => {
    fc.assert(
      fc.property(arbGraph, (graph) => {
        const snap = parseGraph(graph);
        const want = oracle(graph);
        assert.deepEqual(Array.from(snap.dominators().dominator), want.dominator);
        assert.deepEqual(Array.from(snap.dominators().retainedSize), want.retained);
        // The whole-snapshot oracle below agrees with the definition too.
        const ref = referenceDominators(rawGraphFromJson(snapshotJson(graph)));
        assert.deepEqual(Array.from(ref.dominator), want.dominator);
        assert.deepEqual(Array.from(ref.retained), want.retained);
      }),
      { numRuns: 2000 },
    );
  });

  it('a long chain needs no recursion and a wide diamond collapses to the root', () => {
    const chain: Node[] = Array.from({ length: 200_000 }, (_, k) => ({ size: 1, edges: k + 1 < 200_000 ? [{ type: 'property', to: k + 1 }] : [] }));
    const snap = parseGraph(chain);
    assert.equal(snap.retainedSize(1), 200_000 - 1);
    assert.equal(snap.dominatorOf(199_999), 199_998);
    // root -> a, root -> b, a -> c, b -> c: c's dominator is the root, not a.
    const diamond = parseGraph([
      { size: 0, edges: [{ type: 'element', to: 1 }, { type: 'element', to: 2 }] },
      { size: 10, edges: [{ type: 'property', to: 3 }] },
      { size: 20, edges: [{ type: 'property', to: 3 }] },
      { size: 40, edges: [] },
    ]);
    assert.deepEqual(Array.from(diamond.dominators().dominator), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(diamond.dominators().retainedSize), [70, 10, 20, 40]);
  });
});

/**
 * DevTools' rule for a class's retained size, the slow way: the retained
 * sizes of its live members that no live member of the same class
 * dominates, found by walking each member's dominator chain.
 */
function classRetained(snap: HeapSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  const live = (k: number): boolean => snap.distance(k) !== NO_DISTANCE;
  for (let k = 1; k < snap.nodeCount; k++) {
    if (!live(k)) continue;
    const name = snap.className(k);
    let d = snap.dominatorOf(k);
    while (d !== snap.rootIndex && !(live(d) && snap.className(d) === name)) d = snap.dominatorOf(d);
    out.set(name, (out.get(name) ?? 0) + (d === snap.rootIndex ? snap.retainedSize(k) : 0));
  }
  return out;
}

describe('census: a class retains what its outermost members retain', () => {
  const groupsOf = (snap: HeapSnapshot): Map<string, number> => new Map(census(snap).groups.map((g) => [g.name, g.retainedSize]));

  it('on random graphs, as walking each member\'s dominator chain gives', () => {
    const classed = arbGraph.chain((graph) => fc.array(fc.nat(CLASSES.length - 1), { minLength: graph.length, maxLength: graph.length }).map((cls) => graph.map((n, k) => ({ ...n, cls: cls[k] }))));
    fc.assert(
      fc.property(classed, (graph) => {
        const snap = parseGraph(graph);
        assert.deepEqual(groupsOf(snap), classRetained(snap));
      }),
      { numRuns: 1000 },
    );
  });

  it('on a dominator tree 5,000 deep', () => {
    // Under the root, x, y, x, y, ... (1 byte each), then a z of 1 byte
    // holding a z of 5 at the bottom: node 1 (x) holds the whole chain,
    // node 2 (y) all but node 1, the first z both zs.
    const depth = 5000;
    const chain: Node[] = Array.from({ length: depth + 2 }, (_, k) => ({ size: k > depth ? 5 : 1, cls: k >= depth ? 2 : k % 2 === 1 ? 0 : 1, edges: k <= depth ? [{ type: 'property', to: k + 1 }] : [] }));
    const snap = parseGraph(chain);
    assert.deepEqual(groupsOf(snap), new Map([['x', depth + 5], ['y', depth + 4], ['z', 6]]));
  });
});

// Each Node's snapshot differs, and `npm test` runs this file on every
// supported Node.
describe(`dominators: every node of a real snapshot equals the reference algorithm (Node ${process.version})`, async () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'graph.heapsnapshot');
  runScript(
    dir,
    'graph.cjs',
    `
const v8 = require('node:v8');
class Item { constructor(i) { this.i = i; this.s = 'item-' + i; this.pair = [i, i + 1]; } }
const map = new Map();
for (let i = 0; i < 3000; i++) map.set('k' + i, new Item(i));
function start() { const local = { big: new Array(1000).fill(1) }; return () => local; }
const wm = new WeakMap(); const key = {}; wm.set(key, { v: new Array(500).fill(2) });
const cycles = []; for (let i = 0; i < 100; i++) { const a = { n: i }; a.b = { a }; cycles.push(a); }
Object.assign(globalThis, { keep: start(), key, wm, cycles, map });
v8.writeHeapSnapshot(process.argv[2]);
`,
    [file],
  );
  const snap = await readHeapSnapshot(file);

  it('retained size and immediate dominator of every node', () => {
    const wrong = differencesFromReference(snap, file);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${snap.nodeCount} nodes differ`);
    // Not vacuous: the Map holds the 3000 items.
    const big = [...Array(snap.nodeCount).keys()].filter((k) => snap.nodeName(k) === 'Map').map((k) => snap.retainedSize(k));
    assert.ok(Math.max(...big) > 3000 * 32, `${Math.max(...big)}`);
  });
});

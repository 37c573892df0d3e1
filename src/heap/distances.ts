import type { SnapshotData } from './data.js';

/** Distance of nodes the breadth-first search from the roots never reaches. */
export const NO_DISTANCE = 0xffffffff;
/**
 * Distances of objects reached only through system roots start here, as in
 * DevTools: user roots (non-synthetic children of the root) are at distance 1,
 * the root itself at this value when user roots exist.
 */
export const SYSTEM_DISTANCE_BASE = 100_000_000;

/**
 * Decides whether the distance search may follow edge `e` out of node `k`
 * (DevTools' rules). It rejects edges of hidden and array nodes only, which
 * {@link distanceEdges} relies on to ask no others.
 */
export type EdgeFilter = (k: number, e: number) => boolean;

/**
 * Builds DevTools' distance filter. Weak edges are skipped by the search itself;
 * this filter also skips `sloppy_function_map` of the native context (it would
 * make every function look close to the roots) and the descriptor-key slots of
 * `(map descriptors)` arrays (index % 3 === 1 past the two header slots).
 */
export function makeDistanceFilter(d: SnapshotData): EdgeFilter {
  const strings = d.strings;
  const hidden = d.meta.nodeTypes.indexOf('hidden');
  const array = d.meta.nodeTypes.indexOf('array');
  const element = d.meta.edgeTypes.indexOf('element');
  const hiddenEdge = d.meta.edgeTypes.indexOf('hidden');
  const nativeContext = strings.indexOf('system / NativeContext');
  const sloppyMap = strings.indexOf('sloppy_function_map');
  const descriptors = strings.indexOf('(map descriptors)');
  const { nodeType, nodeName, edgeType, edgeNameOrIndex } = d;
  return (k, e) => {
    const t = nodeType[k];
    if (t === hidden) {
      return !(nativeContext >= 0 && nodeName[k] === nativeContext && sloppyMap >= 0 && edgeNameOrIndex[e] === sloppyMap && edgeType[e] !== element && edgeType[e] !== hiddenEdge);
    }
    if (t === array) {
      if (descriptors < 0 || nodeName[k] !== descriptors) return true;
      const et = edgeType[e];
      const index = et === element || et === hiddenEdge ? edgeNameOrIndex[e] : parseInt(strings.get(edgeNameOrIndex[e])!, 10);
      return !(index >= 2 && index % 3 === 1);
    }
    return true;
  };
}

/**
 * One bit per edge: whether the distance search follows it. Weak edges never;
 * the rest as `filter` says. The filter only rejects edges of hidden and array
 * nodes, so only their edges are asked.
 */
export function distanceEdges(d: SnapshotData, filter: EdgeFilter): Uint8Array {
  const { nodeCount, firstEdge, edgeType, nodeType } = d;
  const bits = new Uint8Array((d.edgeCount + 7) >>> 3).fill(0xff);
  const weak = d.meta.edgeTypes.indexOf('weak');
  const hidden = d.meta.nodeTypes.indexOf('hidden');
  const array = d.meta.nodeTypes.indexOf('array');
  for (let e = 0; e < d.edgeCount; e++) if (edgeType[e] === weak) bits[e >>> 3] &= ~(1 << (e & 7));
  for (let k = 0; k < nodeCount; k++) {
    const t = nodeType[k];
    if (t !== hidden && t !== array) continue;
    for (let e = firstEdge[k]; e < firstEdge[k + 1]; e++) if (!filter(k, e)) bits[e >>> 3] &= ~(1 << (e & 7));
  }
  return bits;
}

/** Whether bit `e` of a {@link distanceEdges} set is on. */
export function followsEdge(bits: Uint8Array, e: number): boolean {
  return (bits[e >>> 3] & (1 << (e & 7))) !== 0;
}

/** What the distance search reads: plain arrays, so that a worker thread can run it on shared memory. */
export interface DistanceGraph {
  nodeCount: number;
  firstEdge: Uint32Array;
  edgeTo: Uint32Array;
  nodeType: Uint8Array;
  /** Node type id of `synthetic` nodes, -1 if none. */
  synthetic: number;
  /** From {@link distanceEdges}. */
  follow: Uint8Array;
}

/** The search's input for a parsed snapshot. */
export function distanceGraph(d: SnapshotData, follow: Uint8Array): DistanceGraph {
  return { nodeCount: d.nodeCount, firstEdge: d.firstEdge, edgeTo: d.edgeTo, nodeType: d.nodeType, synthetic: d.meta.nodeTypes.indexOf('synthetic'), follow };
}

/**
 * Breadth-first distances from the roots, following DevTools: first from the
 * user roots (distance 1), then from the root for everything else (starting at
 * {@link SYSTEM_DISTANCE_BASE} when user roots exist, else 0), along the edges
 * `g.follow` marks.
 */
export function computeDistances(g: DistanceGraph, root: number): Uint32Array {
  const n = g.nodeCount;
  const dist = new Uint32Array(n).fill(NO_DISTANCE);
  const queue = new Uint32Array(n);
  const { firstEdge, edgeTo, nodeType, synthetic } = g;
  let len = 0;
  for (let e = firstEdge[root]; e < firstEdge[root + 1]; e++) {
    const t = edgeTo[e];
    if (nodeType[t] !== synthetic && dist[t] === NO_DISTANCE && t !== root) {
      dist[t] = 1;
      queue[len++] = t;
    }
  }
  const userRoots = len;
  bfs(g, dist, queue, len);
  dist[root] = userRoots > 0 ? SYSTEM_DISTANCE_BASE : 0;
  queue[0] = root;
  bfs(g, dist, queue, 1);
  return dist;
}

function bfs(g: DistanceGraph, dist: Uint32Array, queue: Uint32Array, len: number): void {
  const { firstEdge, edgeTo, follow } = g;
  for (let head = 0; head < len; head++) {
    const k = queue[head];
    const next = dist[k] + 1;
    const end = firstEdge[k + 1];
    for (let e = firstEdge[k]; e < end; e++) {
      const t = edgeTo[e];
      if (dist[t] !== NO_DISTANCE || (follow[e >>> 3] & (1 << (e & 7))) === 0) continue;
      dist[t] = next;
      queue[len++] = t;
    }
  }
}


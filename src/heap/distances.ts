import type { SnapshotData } from './data.js';

/** Distance of nodes the breadth-first search from the roots never reaches. */
export const NO_DISTANCE = 0xffffffff;
/**
 * Distances of objects reached only through system roots start here, as in
 * DevTools: user roots (non-synthetic children of the root) are at distance 1,
 * the root itself at this value when user roots exist.
 */
export const SYSTEM_DISTANCE_BASE = 100_000_000;

/** Decides whether the distance search may follow edge `e` out of node `k` (DevTools' rules). */
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
      const index = et === element || et === hiddenEdge ? edgeNameOrIndex[e] : parseInt(strings[edgeNameOrIndex[e]], 10);
      return !(index >= 2 && index % 3 === 1);
    }
    return true;
  };
}

/**
 * Breadth-first distances from the roots, following DevTools: first from the
 * user roots (distance 1), then from the root for everything else (starting at
 * {@link SYSTEM_DISTANCE_BASE} when user roots exist, else 0). Weak edges are
 * never followed.
 */
export function computeDistances(d: SnapshotData, root: number, filter: EdgeFilter): Uint32Array {
  const n = d.nodeCount;
  const dist = new Uint32Array(n).fill(NO_DISTANCE);
  const queue = new Uint32Array(n);
  const synthetic = d.meta.nodeTypes.indexOf('synthetic');
  const { firstEdge, edgeTo, nodeType } = d;
  let len = 0;
  for (let e = firstEdge[root]; e < firstEdge[root + 1]; e++) {
    const t = edgeTo[e];
    if (nodeType[t] !== synthetic && dist[t] === NO_DISTANCE && t !== root) {
      dist[t] = 1;
      queue[len++] = t;
    }
  }
  const userRoots = len;
  bfs(d, dist, queue, len, filter);
  dist[root] = userRoots > 0 ? SYSTEM_DISTANCE_BASE : 0;
  queue[0] = root;
  bfs(d, dist, queue, 1, filter);
  return dist;
}

function bfs(d: SnapshotData, dist: Uint32Array, queue: Uint32Array, len: number, filter: EdgeFilter): void {
  const { firstEdge, edgeTo, edgeType } = d;
  const weak = d.meta.edgeTypes.indexOf('weak');
  for (let head = 0; head < len; head++) {
    const k = queue[head];
    const next = dist[k] + 1;
    const end = firstEdge[k + 1];
    for (let e = firstEdge[k]; e < end; e++) {
      if (edgeType[e] === weak) continue;
      const t = edgeTo[e];
      if (dist[t] !== NO_DISTANCE) continue;
      if (!filter(k, e)) continue;
      dist[t] = next;
      queue[len++] = t;
    }
  }
}

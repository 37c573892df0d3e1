import type { SnapshotData } from './data.js';

/** Set on a retainer entry whose edge does not retain for dominator purposes (weak, or a shortcut not from the root). */
export const NON_ESSENTIAL = 0x80000000;
/** Mask giving the source node ordinal of a retainer entry. */
export const SOURCE_MASK = 0x7fffffff;

/**
 * Reverse edges in compressed sparse row form: the retainers of node k are
 * `source[first[k]] .. source[first[k+1]-1]`, sorted by source ordinal.
 *
 * Only source ordinals are stored (4 bytes per edge), with the top bit flagging
 * edges that do not retain; the edge itself, when a caller needs its name or
 * type, is found by scanning the source's outgoing edges. That keeps the
 * reverse index at half the size of storing both node and edge indexes.
 */
export interface RetainerIndex {
  first: Uint32Array;
  source: Uint32Array;
}

/** Essential edges retain: not weak, and shortcuts only from the root (they mark user globals there). */
export function isEssentialEdge(source: number, edgeType: number, weakType: number, shortcutType: number, root: number): boolean {
  return edgeType !== weakType && (edgeType !== shortcutType || source === root);
}

export function buildRetainers(d: SnapshotData, root: number): RetainerIndex {
  const n = d.nodeCount;
  const { edgeTo, edgeType, firstEdge } = d;
  const weak = d.meta.edgeTypes.indexOf('weak');
  const shortcut = d.meta.edgeTypes.indexOf('shortcut');
  if (n > SOURCE_MASK) throw new RangeError('too many nodes for the retainer index');
  const first = new Uint32Array(n + 1);
  const E = d.edgeCount;
  for (let e = 0; e < E; e++) first[edgeTo[e]]++;
  // Inclusive prefix sums give each block's end; filling backwards then
  // decrements every entry to its block start, with no cursor array.
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += first[k];
    first[k] = sum;
  }
  first[n] = E;
  const source = new Uint32Array(E);
  for (let k = n - 1; k >= 0; k--) {
    const lo = firstEdge[k];
    for (let e = firstEdge[k + 1] - 1; e >= lo; e--) {
      const t = edgeType[e];
      const flag = t === weak || (t === shortcut && k !== root) ? NON_ESSENTIAL : 0;
      source[--first[edgeTo[e]]] = (k | flag) >>> 0;
    }
  }
  return { first, source };
}

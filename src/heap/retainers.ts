import type { SnapshotData } from './data.js';
import { edgeIsEssential, NON_ESSENTIAL } from './essential.js';

export { NON_ESSENTIAL };
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

/**
 * Builds the reverse index; `essential` (from `initEssentialEdges`) sets the
 * {@link NON_ESSENTIAL} flag, so the retainer lists and the dominators agree on
 * which edges retain.
 */
export function buildRetainers(d: Pick<SnapshotData, 'nodeCount' | 'edgeCount' | 'firstEdge' | 'edgeTo'>, essential: Uint8Array): RetainerIndex {
  const n = d.nodeCount;
  const { edgeTo, firstEdge } = d;
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
      const flag = edgeIsEssential(essential, e) ? 0 : NON_ESSENTIAL;
      source[--first[edgeTo[e]]] = (k | flag) >>> 0;
    }
  }
  return { first, source };
}

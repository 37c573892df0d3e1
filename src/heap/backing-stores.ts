/**
 * Off-heap memory in a heap snapshot: the backing stores of ArrayBuffers.
 *
 * V8 writes each backing store as a native node `system / JSArrayBufferData`
 * whose self size is the store's byte length, reached from its
 * JSArrayBuffer (or SharedArrayBuffer) by an internal `backing_store` edge
 * (checked on Node 20, 22, 24 and 26). Typed arrays and Buffers reach it
 * through their `buffer`. Small typed arrays whose data is still on the heap
 * (64 bytes or less, never asked for `.buffer`) have no such node.
 *
 * @module
 */
import type { HeapSnapshot } from './snapshot.js';

/** Name V8 gives the native node of a backing store. */
export const BACKING_STORE_NODE = 'system / JSArrayBufferData';
const BACKING_STORE_EDGE = 'backing_store';

/**
 * Each node that owns a backing store (an ArrayBuffer), with the store's
 * bytes. A store reached from several buffers (shared memory) is counted
 * once, for the first owner in node order.
 */
export function backingStores(heap: HeapSnapshot): Map<number, number> {
  const owners = new Map<number, number>();
  const internal = heap.edgeTypeIds.internal;
  const native = heap.nodeTypeIds.native;
  const edgeName = heap.data.strings.indexOf(BACKING_STORE_EDGE);
  if (internal < 0 || native < 0 || edgeName < 0) return owners;
  const { edgeType, edgeNameOrIndex, edgeTo, firstEdge, nodeType } = heap.data;
  let seen: Uint8Array | null = null;
  for (let k = 0; k < heap.nodeCount; k++) {
    for (let e = firstEdge[k]; e < firstEdge[k + 1]; e++) {
      if (edgeNameOrIndex[e] !== edgeName || edgeType[e] !== internal) continue;
      const store = edgeTo[e];
      if (nodeType[store] !== native || heap.nodeName(store) !== BACKING_STORE_NODE) continue;
      seen ??= new Uint8Array(heap.nodeCount);
      if (seen[store]) continue;
      seen[store] = 1;
      const bytes = heap.selfSize(store);
      if (bytes > 0) owners.set(k, bytes);
    }
  }
  return owners;
}

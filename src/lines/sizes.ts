/**
 * Sizes of sampled objects, read from a heap snapshot: line mode samples by
 * allocation count, and only the heap knows how big each object is.
 *
 * @module
 */
import { NON_ESSENTIAL, type HeapSnapshot, type RetainerIndex } from '../heap/index.js';

/** Holds the objects to size during one heap snapshot; found there by its class name. */
class TracemallocLineProbe {
  constructor(readonly objects: object[]) {}
}

const PROBE_NAME = 'TracemallocLineProbe';
// Backing stores an object owns: its elements and out-of-object properties, a Map's or Set's table.
const OWNED_STORES = new Set(['elements', 'properties', 'table']);
let held: TracemallocLineProbe | null = null;

/**
 * Take a heap snapshot with `take` while holding `objects`, and return it
 * with each object's size: its own bytes plus the backing stores only it
 * holds (elements, out-of-object properties, a Map's table), even when they
 * grew after the allocation; `blocks` counts those heap objects, the unit
 * V8's counts use. NaN marks an object not found (the snapshot format
 * changed, or it died in between).
 */
export function sizeObjects(objects: object[], take: () => HeapSnapshot): { heap: HeapSnapshot; sizes: Float64Array; blocks: Uint8Array } {
  held = new TracemallocLineProbe(objects);
  let heap: HeapSnapshot;
  try {
    heap = take();
  } finally {
    held = null;
  }
  const sizes = new Float64Array(objects.length).fill(NaN);
  // Heap objects per sample (the object and its stores), V8's unit of count.
  const blocks = new Uint8Array(objects.length);
  const probe = findProbe(heap);
  if (probe === -1) return { heap, sizes, blocks };
  // V8 lists an array's elements as element edges of the array itself.
  const array = edgeTo(heap, probe, 'property', 'objects');
  if (array === -1) return { heap, sizes, blocks };
  const retainers = heap.retainerIndex();
  const first = heap.firstEdgeIndex(array);
  const end = first + heap.nodeEdgeCount(array);
  for (let e = first; e < end; e++) {
    if (heap.edgeType(e) !== 'element') continue;
    const i = heap.edgeNameOrIndex(e);
    if (i < 0 || i >= objects.length) continue;
    const node = heap.edgeTarget(e);
    let size = heap.selfSize(node);
    let n = 1;
    const f = heap.firstEdgeIndex(node);
    const fe = f + heap.nodeEdgeCount(node);
    for (let c = f; c < fe; c++) {
      if (heap.edgeType(c) !== 'internal' || !OWNED_STORES.has(heap.edgeName(c))) continue;
      const child = heap.edgeTarget(c);
      const type = heap.nodeType(child);
      if ((type === 'array' || type === 'hidden') && strongRetainers(retainers, child) === 1 && heap.selfSize(child) > 0) {
        size += heap.selfSize(child);
        n++;
      }
    }
    sizes[i] = size;
    blocks[i] = n;
  }
  return { heap, sizes, blocks };
}

function strongRetainers(index: RetainerIndex, k: number): number {
  let n = 0;
  for (let i = index.first[k]; i < index.first[k + 1]; i++) if ((index.source[i] & NON_ESSENTIAL) === 0) n++;
  return n;
}

function findProbe(heap: HeapSnapshot): number {
  for (let k = 0; k < heap.nodeCount; k++) {
    if (heap.nodeName(k) === PROBE_NAME && heap.nodeType(k) === 'object' && edgeTo(heap, k, 'property', 'objects') !== -1) return k;
  }
  return -1;
}

function edgeTo(heap: HeapSnapshot, node: number, type: string, name: string): number {
  const first = heap.firstEdgeIndex(node);
  const end = first + heap.nodeEdgeCount(node);
  for (let e = first; e < end; e++) {
    if (heap.edgeType(e) === type && heap.edgeName(e) === name) return heap.edgeTarget(e);
  }
  return -1;
}

/** Keeps `held` observable to the compiler; the probe lives only during `take`. */
export function probeHeld(): boolean {
  return held !== null;
}

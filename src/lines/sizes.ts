/**
 * Sizes of sampled objects, read from a heap snapshot: line mode samples by
 * allocation count, and only the heap knows how big each object is.
 *
 * @module
 */
import { NON_ESSENTIAL, type HeapSnapshot, type RetainerIndex } from '../heap/index.js';
import { SAMPLE_TAG_PREFIX, TracemallocLineProbe } from './recorder.js';

/** Size in bytes and heap objects of one live sample. */
export interface SampleSize {
  size: number;
  /** The object and the stores it owns: V8's (and Python's) unit of count. */
  blocks: number;
}

const PROBE_NAME = TracemallocLineProbe.name;
const CELL_NAME = 'system / WeakCell';
// Backing stores an object owns: its elements and out-of-object properties, a Map's or Set's table.
const OWNED_STORES = new Set(['elements', 'properties', 'table']);

/**
 * The live samples registered with the probe, by slot, with their sizes:
 * the object's own bytes plus the backing stores only it holds (elements,
 * out-of-object properties, a Map's table), even when they grew after the
 * allocation. Samples absent from the result have died.
 */
export function sampleSizes(heap: HeapSnapshot): Map<number, SampleSize> {
  const out = new Map<number, SampleSize>();
  const registry = findRegistry(heap);
  if (registry === -1) return out;
  let retainers: RetainerIndex | null = null;
  for (let cell = 0; cell < heap.nodeCount; cell++) {
    if (heap.nodeName(cell) !== CELL_NAME) continue;
    let target = -1;
    let tag = '';
    let ours = false;
    const first = heap.firstEdgeIndex(cell);
    const end = first + heap.nodeEdgeCount(cell);
    for (let e = first; e < end; e++) {
      const to = heap.edgeTarget(e);
      if (to === registry) ours = true;
      else if (heap.edgeType(e) === 'weak' && heap.edgeName(e) === 'target') target = to;
      else if (heap.nodeType(to) === 'string' && heap.nodeName(to).startsWith(SAMPLE_TAG_PREFIX)) tag = heap.nodeName(to);
    }
    // A cleared cell has no target; a target only weakly held is garbage V8 has not collected yet.
    if (!ours || target === -1 || tag === '' || !heap.isReachable(target)) continue;
    const slot = Number(tag.slice(SAMPLE_TAG_PREFIX.length));
    if (!Number.isInteger(slot)) continue;
    out.set(slot, sizeOf(heap, (retainers ??= heap.retainerIndex()), target));
  }
  return out;
}

function sizeOf(heap: HeapSnapshot, retainers: RetainerIndex, node: number): SampleSize {
  let size = heap.selfSize(node);
  let blocks = 1;
  const first = heap.firstEdgeIndex(node);
  const end = first + heap.nodeEdgeCount(node);
  for (let c = first; c < end; c++) {
    if (heap.edgeType(c) !== 'internal' || !OWNED_STORES.has(heap.edgeName(c))) continue;
    const child = heap.edgeTarget(c);
    const type = heap.nodeType(child);
    if ((type === 'array' || type === 'hidden') && heap.selfSize(child) > 0 && strongRetainers(retainers, child) === 1) {
      size += heap.selfSize(child);
      blocks++;
    }
  }
  return { size, blocks };
}

function strongRetainers(index: RetainerIndex, k: number): number {
  let n = 0;
  for (let i = index.first[k]; i < index.first[k + 1]; i++) if ((index.source[i] & NON_ESSENTIAL) === 0) n++;
  return n;
}

/** The probe's registry: the live probe object → `registry`. */
function findRegistry(heap: HeapSnapshot): number {
  for (let k = 0; k < heap.nodeCount; k++) {
    if (heap.nodeName(k) !== PROBE_NAME || heap.nodeType(k) !== 'object' || !heap.isReachable(k)) continue;
    const first = heap.firstEdgeIndex(k);
    const end = first + heap.nodeEdgeCount(k);
    for (let e = first; e < end; e++) {
      if (heap.edgeType(e) === 'property' && heap.edgeName(e) === 'registry') return heap.edgeTarget(e);
    }
  }
  return -1;
}

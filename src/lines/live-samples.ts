/**
 * Sizes of sampled objects, read from a heap snapshot: line mode samples by
 * allocation count, and only the heap knows how big each object is.
 *
 * @module
 */
import { BACKING_STORE_NODE, NON_ESSENTIAL, SOURCE_MASK, type HeapSnapshot, type RetainerIndex } from '../heap/index.js';
import { MAX_SAMPLED_STRING, SAMPLE_TAG_PREFIX, TracemallocLineProbe, stringHash, type LineSample, type StringFingerprint } from './recorder.js';
import type { LineSite } from './transform/index.js';

/** A live sample with its size in bytes and heap objects. */
export interface SizedLineSample {
  sample: LineSample;
  size: number;
  /** The object and the objects counted with it: V8's (and Python's) unit of count. */
  blocks: number;
}

const PROBE_NAME = TracemallocLineProbe.name;
const CELL_NAME = 'system / WeakCell';
// Backing stores of a container: an array's elements, a Map's or Set's table.
const CONTAINER_STORES = new Set(['elements', 'table']);
// A FixedArray's header: map and length.
const STORE_HEADER = 16;
const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);

/**
 * The live samples registered with the probe, with their sizes (samples
 * absent from the result have died). A sample counts its own bytes, and
 * what its allocating expression made with it that no wrapped expression
 * reports (docs/lines.md, "What a line counts"):
 * - a container's store, as big as it was when the container was sampled:
 *   growth reallocates the store in whichever function grew it, which V8
 *   counts there;
 * - a closure's context, when no other closure shares it (V8 allocates it
 *   on entry to the function that creates the closure);
 * - the strings and numbers a literal computes itself (`{ label: 'item ' +
 *   id, total: price * qty }`; {@link LineSite.made}), and the boxes of its
 *   number fields;
 * - the whole new tree of `JSON.parse` and `structuredClone`, and the
 *   strings in it.
 * Only objects the sample alone keeps alive are counted.
 */
export function liveLineSamples(
  heap: HeapSnapshot,
  sampleAt: (slot: number) => LineSample | null,
  strings: { samples: readonly StringFingerprint[]; keep(live: ReadonlySet<number>): void } | null = null,
): SizedLineSample[] {
  const out: SizedLineSample[] = [];
  let retainers: RetainerIndex | null = null;
  if (strings) {
    const live = new Set<number>();
    // Looked up on the first sample a key operation took: most snapshots have none.
    let table: number | undefined;
    for (const [slot, node] of matchStrings(heap, strings.samples)) {
      const sample = sampleAt(slot);
      const site = sample?.file.table().sites[sample.site];
      if (!sample || !site) continue;
      live.add(slot);
      retainers ??= heap.retainerIndex();
      // In the string table, after a key operation took it: V8's copy, made at that operation.
      const copied = sample.key !== undefined && (table ??= internalizedStrings(heap)) !== -1 && retainedBy(retainers, node, table);
      out.push({ sample: copied ? sample.key! : sample, ...stringSize(heap, retainers, node, site) });
    }
    strings.keep(live);
  }
  const registry = findRegistry(heap);
  if (registry === -1) return out;
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
    const sample = Number.isInteger(slot) ? sampleAt(slot) : null;
    if (!sample) continue;
    const site = sample.file.table().sites[sample.site];
    if (!site) continue;
    out.push({ sample, ...sizeOf(heap, (retainers ??= heap.retainerIndex()), target, sample.initialLength, site) });
  }
  return out;
}

function sizeOf(heap: HeapSnapshot, retainers: RetainerIndex, node: number, initialLength: number, site: LineSite): { size: number; blocks: number } {
  if (site.kind === 'tree') return treeSize(heap, retainers, node);
  let size = heap.selfSize(node);
  let blocks = 1;
  const closure = heap.nodeType(node) === 'closure';
  const first = heap.firstEdgeIndex(node);
  const end = first + heap.nodeEdgeCount(node);
  for (let c = first; c < end; c++) {
    const type = heap.edgeType(c);
    const child = heap.edgeTarget(c);
    if (!only(retainers, child) || heap.selfSize(child) === 0) continue;
    // A double field's box hangs off a hidden edge named by its slot.
    if (type === 'property' || type === 'element' || type === 'hidden') {
      const childType = heap.nodeType(child);
      if (childType === 'number' || (type !== 'hidden' && STRING_TYPES.has(childType) && site.made?.includes(heap.edgeName(c)))) {
        const value = treeSize(heap, retainers, child);
        size += value.size;
        blocks += value.blocks;
      }
      continue;
    }
    if (type !== 'internal') continue;
    const name = heap.edgeName(c);
    if (closure && name === 'context') {
      size += heap.selfSize(child);
      blocks++;
    } else if (CONTAINER_STORES.has(name) && initialLength > 0 && (heap.nodeType(child) === 'array' || heap.nodeType(child) === 'hidden')) {
      // A Map's table layout is V8's own: counted whole when the Map was sampled with entries.
      size += name === 'elements' ? Math.min(heap.selfSize(child), STORE_HEADER + 8 * initialLength) : heap.selfSize(child);
      blocks++;
    }
  }
  return { size, blocks };
}

const CONS = 'concatenated string';
const NUMERIC = /^-?(?:\d+(?:\.\d+)?(?:e[+-]\d+)?|Infinity|NaN)$/;

/**
 * Live strings of the heap matched to string samples by length and content
 * hash: one heap string per sample and one sample per heap string. Returns
 * slot → heap node. A concatenated string's name is not its content: that
 * is read from its parts (`first`, `second`). Sliced strings are not
 * matched (the snapshot does not give their offset).
 */
function matchStrings(heap: HeapSnapshot, samples: readonly StringFingerprint[]): Map<number, number> {
  const matched = new Map<number, number>();
  if (samples.length === 0) return matched;
  const wanted = new Map<string, number[]>();
  const lengths = new Set<number>();
  for (const s of samples) {
    const key = `${s.length}:${s.hash}`;
    const list = wanted.get(key);
    if (list) list.push(s.slot);
    else wanted.set(key, [s.slot]);
    lengths.add(s.length);
  }
  const ids = heap.nodeTypeIds;
  const LONG = MAX_SAMPLED_STRING + 1;
  // Lengths of concatenated strings, capped at LONG; 0 = not computed yet.
  const consLength = new Map<number, number>();
  const lengthOf = (k: number): number => {
    const type = heap.nodeTypeId(k);
    if (type === ids.string) return Math.min(heap.nodeName(k).length, LONG);
    if (type !== ids[CONS]) return LONG;
    const known = consLength.get(k);
    if (known !== undefined) return known;
    // Iterative: ropes from `s += x` loops nest thousands deep.
    const stack = [k];
    while (stack.length > 0) {
      const n = stack[stack.length - 1];
      let total = 0;
      let pending = false;
      for (const part of consParts(heap, n)) {
        if (part === -1) {
          total = LONG;
          continue;
        }
        if (heap.nodeTypeId(part) === ids[CONS] && !consLength.has(part)) {
          stack.push(part);
          pending = true;
        } else total += heap.nodeTypeId(part) === ids[CONS] ? consLength.get(part)! : lengthOf(part);
      }
      if (pending) continue;
      stack.pop();
      consLength.set(n, Math.min(total, LONG));
    }
    return consLength.get(k)!;
  };
  const textOf = (k: number): string => {
    if (heap.nodeTypeId(k) === ids.string) return heap.nodeName(k);
    let text = '';
    for (const part of consParts(heap, k)) text += textOf(part);
    return text;
  };
  for (let k = 0; k < heap.nodeCount; k++) {
    const type = heap.nodeTypeId(k);
    if (type !== ids.string && type !== ids[CONS]) continue;
    const length = lengthOf(k);
    if (!lengths.has(length) || !heap.isReachable(k)) continue;
    const list = wanted.get(`${length}:${stringHash(textOf(k))}`);
    if (!list || list.length === 0) continue;
    matched.set(list.pop()!, k);
  }
  return matched;
}

/** A concatenated string's `first` and `second` (-1 for a missing one). */
function consParts(heap: HeapSnapshot, k: number): [number, number] {
  let first = -1;
  let second = -1;
  const start = heap.firstEdgeIndex(k);
  const end = start + heap.nodeEdgeCount(k);
  for (let e = start; e < end; e++) {
    const name = heap.edgeName(e);
    if (name === 'first') first = heap.edgeTarget(e);
    else if (name === 'second') second = heap.edgeTarget(e);
  }
  return [first, second];
}

/**
 * A live sampled string: its own bytes and the parts only it keeps, but not
 * the operands its expression took from elsewhere ({@link LineSite.foreign}:
 * `row` in `row += x`), which count where they were made. A foreign part
 * that reads as a number was made here, by the concatenation's ToString.
 */
function stringSize(heap: HeapSnapshot, retainers: RetainerIndex, node: number, site: LineSite): { size: number; blocks: number } {
  const skip = new Set<number>();
  for (const path of site.foreign ?? []) {
    let k = node;
    for (const step of path) {
      if (heap.nodeType(k) !== CONS) {
        k = -1;
        break;
      }
      k = consParts(heap, k)[step === 'f' ? 0 : 1];
      if (k === -1) break;
    }
    if (k !== -1 && k !== node && !(heap.nodeType(k) === 'string' && NUMERIC.test(heap.nodeName(k)))) skip.add(k);
  }
  return treeSize(heap, retainers, node, skip);
}

/** The objects only `root` keeps alive, through strong edges, `root` included (not those in `skip`, nor below them). */
function treeSize(heap: HeapSnapshot, retainers: RetainerIndex, root: number, skip?: ReadonlySet<number>): { size: number; blocks: number } {
  let size = 0;
  let blocks = 0;
  const seen = new Set<number>([root]);
  const stack = [root];
  while (stack.length > 0) {
    const k = stack.pop()!;
    size += heap.selfSize(k);
    blocks++;
    const first = heap.firstEdgeIndex(k);
    const end = first + heap.nodeEdgeCount(k);
    for (let e = first; e < end; e++) {
      const type = heap.edgeType(e);
      if (type === 'weak' || type === 'shortcut') continue;
      const child = heap.edgeTarget(e);
      if (seen.has(child) || skip?.has(child) || heap.selfSize(child) === 0 || !only(retainers, child)) continue;
      // Off-heap bytes are counted at the buffer's site, as off-heap (tracer/off-heap.ts).
      if (heap.nodeName(child) === BACKING_STORE_NODE) continue;
      seen.add(child);
      stack.push(child);
    }
  }
  return { size, blocks };
}

/** The string table's root, `(Internalized strings)`, or -1. */
function internalizedStrings(heap: HeapSnapshot): number {
  for (let k = 0; k < heap.nodeCount; k++) {
    if (heap.nodeType(k) === 'synthetic' && heap.nodeName(k) === '(Internalized strings)') return k;
  }
  return -1;
}

/** True when `by` has an edge to `k`. */
function retainedBy(index: RetainerIndex, k: number, by: number): boolean {
  for (let i = index.first[k]; i < index.first[k + 1]; i++) if ((index.source[i] & SOURCE_MASK) === by) return true;
  return false;
}

/**
 * True when `k` has exactly one strong retaining edge. Stops at the second:
 * a shared part (the empty string every flattened rope points to) can have
 * a retainer per sampled string.
 */
function only(index: RetainerIndex, k: number): boolean {
  let n = 0;
  for (let i = index.first[k]; i < index.first[k + 1] && n < 2; i++) if ((index.source[i] & NON_ESSENTIAL) === 0) n++;
  return n === 1;
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

import { census, preview, NO_DISTANCE, type HeapSnapshot } from '../heap/index.js';
import { liveHeap } from './live-heap.js';

/** One constructor or type in {@link getObjects}' census. */
export interface ObjectGroup {
  /** Constructor name, or V8's type such as `(string)`, `(array)`, `(closure)`. */
  name: string;
  count: number;
  /** Bytes of the objects themselves. */
  selfSize: number;
  /** Bytes that would be freed if all of them went away. */
  retainedSize: number;
  /** Short descriptions of a few members; string values as their length and a tag unless `includeStrings`, then cut at 40 characters. */
  previews: string[];
}

/** Options of {@link getObjects}. */
export interface GetObjectsOptions {
  /** Groups returned, largest first. Default 20. */
  top?: number;
  /** Previews per group. Default 3. */
  previews?: number;
  /** Compute retained sizes (dominator tree). Default true. */
  retained?: boolean;
  /**
   * Show the contents of strings in previews. Default false: heap strings can
   * hold secrets, so they are shown as `string (1234 chars, #9f2c41d0)`, a
   * length and a tag that is equal for equal strings within one process.
   */
  includeStrings?: boolean;
}

/**
 * Every live object, counted by constructor: the counterpart of Python's
 * `gc.get_objects()` with objgraph's `show_most_common_types`. Takes a heap
 * snapshot (a full GC plus a pass over the heap: seconds on big heaps) and
 * needs no `start()`.
 */
export function getObjects(options: GetObjectsOptions = {}): { groups: ObjectGroup[]; totalCount: number; totalSize: number } {
  const heap = liveHeap();
  const result = census(heap, { top: 0, duplicates: 0, retained: options.retained ?? true });
  const groups = result.groups.slice(0, options.top ?? 20);
  const samples = samplesByClass(heap, new Set(groups.map((g) => g.name)), options.previews ?? 3);
  return {
    groups: groups.map((g) => ({ ...g, previews: (samples.get(g.name) ?? []).map((k) => preview(heap, k, { maxFields: 4, includeStrings: options.includeStrings ?? false })) })),
    totalCount: result.totalCount,
    totalSize: result.totalSize,
  };
}

function samplesByClass(heap: HeapSnapshot, names: Set<string>, perClass: number): Map<string, number[]> {
  const found = new Map<string, number[]>();
  const distances = heap.distances();
  for (let k = 0; k < heap.nodeCount && perClass > 0; k++) {
    if (distances[k] === NO_DISTANCE) continue;
    const name = heap.className(k);
    if (!names.has(name)) continue;
    let list = found.get(name);
    if (!list) found.set(name, (list = []));
    if (list.length < perClass) list.push(k);
  }
  return found;
}

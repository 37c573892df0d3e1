import { getHeapStatistics } from 'node:v8';
import { streamHeapSnapshot } from '../capture/heap-snapshot.js';
import type { TrackingCapture } from '../capture/tracking.js';
import { HeapSnapshotParser, type HeapSnapshot } from '../heap/index.js';

// Heap bytes read per millisecond, snapshot and parse together. Cautious
// until this process has timed one: V8 writes 100,000 small objects with
// their strings (19 MB) in about 2 s on an idle 2-core machine.
let bytesPerMs = 8_000;
// Time a snapshot costs whatever the heap's size (GC, the inspector's setup).
const FIXED_MS = 250;

/**
 * A parsed heap snapshot of this process, streamed into the parser as V8
 * writes it. Through `tracking` it carries the allocation traces.
 */
export function liveHeap(tracking?: TrackingCapture): HeapSnapshot {
  const bytes = getHeapStatistics().used_heap_size;
  const started = performance.now();
  const parser = new HeapSnapshotParser();
  const sink = (chunk: string | Uint8Array) => parser.write(chunk);
  if (tracking) tracking.snapshot(sink);
  else streamHeapSnapshot(sink);
  const heap = parser.end();
  const ms = performance.now() - started - FIXED_MS;
  // Heaps too small to time say little about large ones.
  if (bytes > 16e6 && ms > 0) bytesPerMs = bytes / ms;
  return heap;
}

/** How long {@link liveHeap} would take now, in milliseconds: a guess from the last timed read. */
export function liveHeapCostMs(): number {
  return FIXED_MS + getHeapStatistics().used_heap_size / bytesPerMs;
}

/**
 * With V8's tracker from launch: the highest id of a live JavaScript object
 * (odd ids; V8 numbers native nodes evenly), after a snapshot that gives
 * every live object an id. Objects allocated later get higher ids at the
 * next snapshot, so this marks "before start()".
 */
export function highestObjectId(tracking: TrackingCapture): number {
  const heap = liveHeap(tracking);
  let max = 0;
  for (let k = 0; k < heap.nodeCount; k++) {
    const id = heap.nodeId(k);
    if (id % 2 === 1 && id > max) max = id;
  }
  return max;
}

import { streamHeapSnapshot } from '../capture/heap-snapshot.js';
import type { TrackingCapture } from '../capture/tracking.js';
import { HeapSnapshotParser, type HeapSnapshot } from '../heap/index.js';

/**
 * A parsed heap snapshot of this process, streamed into the parser as V8
 * writes it. Through `tracking` it carries the allocation traces.
 */
export function liveHeap(tracking?: TrackingCapture): HeapSnapshot {
  const parser = new HeapSnapshotParser();
  const sink = (chunk: string | Uint8Array) => parser.write(chunk);
  if (tracking) tracking.snapshot(sink);
  else streamHeapSnapshot(sink);
  return parser.end();
}

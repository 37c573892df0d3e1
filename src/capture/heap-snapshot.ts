import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { InspectorSession } from './session.js';
import { checkSnapshotBudget } from './memory-guard.js';

/** Receives the snapshot JSON text piece by piece, in the order of the file. */
export type ChunkSink = (chunk: string | Uint8Array) => void;

const FILE_CHUNK = 8 * 1024 * 1024;

/**
 * Stream a heap snapshot of this isolate into `sink`, chunk by chunk, so the
 * whole JSON text never exists in memory at once. V8 runs a full GC first.
 * While allocation tracking is on, the snapshot includes the traces.
 * Throws, without touching the heap, when the snapshot would likely exhaust
 * memory (see {@link checkSnapshotBudget}).
 *
 * V8 writes the snapshot (`v8.writeHeapSnapshot`, synchronous, with the
 * traces) to a file in a private folder, read back here and removed: it
 * holds every string of the heap. Not through the inspector's chunk
 * events: from Node 22 an in-process session cannot answer synchronously,
 * and on Node 20 the JavaScript run by each chunk event adds to V8's
 * allocation trace tree while V8 serialises that tree, which crashed the
 * process (SIGSEGV in SerializeTraceNode, about one run in twenty of
 * test/off-heap's HTTP server in exact mode).
 */
export function streamHeapSnapshot(sink: ChunkSink): void {
  checkSnapshotBudget();
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-'));
  try {
    const file = writeHeapSnapshot(join(dir, 'snapshot.heapsnapshot'));
    const fd = openSync(file, 'r');
    try {
      // A fresh buffer per chunk: the sink may keep a view of the last one.
      for (;;) {
        const buffer = Buffer.allocUnsafe(FILE_CHUNK);
        const n = readSync(fd, buffer);
        if (n === 0) break;
        sink(buffer.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HANDLE = '__tracemalloc_object_handle__';

/**
 * The heap snapshot id of `value` (stable for the life of the object), or
 * null for primitives. The object is parked on a global for the duration of
 * one `Runtime.evaluate`, which is the only way the protocol can name an
 * in-process object.
 */
export function heapObjectId(session: InspectorSession, value: unknown): number | null {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return null;
  const g = globalThis as Record<string, unknown>;
  Object.defineProperty(g, HANDLE, { value, configurable: true, enumerable: false, writable: true });
  const group = 'tracemalloc';
  try {
    const evaluated = session.post<{ result: { objectId?: string } }>('Runtime.evaluate', {
      expression: `globalThis.${HANDLE}`,
      objectGroup: group,
      silent: true,
    });
    const objectId = evaluated.result.objectId;
    if (!objectId) return null;
    const id = session.post<{ heapSnapshotObjectId: string }>('HeapProfiler.getHeapObjectId', { objectId });
    return Number(id.heapSnapshotObjectId);
  } finally {
    delete g[HANDLE];
    try {
      session.post('Runtime.releaseObjectGroup', { objectGroup: group });
    } catch {
      // Releasing is best effort; the group dies with the session anyway.
    }
  }
}


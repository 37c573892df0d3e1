import { InspectorSession } from './session.js';
import { checkSnapshotBudget } from './memory-guard.js';

/** Receives the snapshot JSON text piece by piece, as V8 serialises it. */
export type ChunkSink = (chunk: string) => void;

/**
 * Stream a heap snapshot of this isolate into `sink`, chunk by chunk, so the
 * whole JSON text never exists in memory at once. V8 runs a full GC first.
 * With `session` the snapshot includes that session's allocation traces.
 * Throws, without touching the heap, when the snapshot would likely exhaust
 * memory (see {@link checkSnapshotBudget}).
 */
export function streamHeapSnapshot(sink: ChunkSink, session?: InspectorSession): void {
  checkSnapshotBudget();
  const own = session ?? new InspectorSession();
  const unsubscribe = own.on<{ chunk: string }>('HeapProfiler.addHeapSnapshotChunk', (p) => sink(p.chunk));
  try {
    own.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
  } finally {
    unsubscribe();
    if (!session) own.disconnect();
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

import type { HeapSnapshot } from '../heap/index.js';
import { isCompilerOutput } from '../tracer/from-heap.js';

/**
 * The allocation trace of every live object across the snapshots of one
 * tracking session. V8's tracker forgets the trace of some objects after
 * they survive a few GCs (measured on Node 20: 200 of 1,000 live objects
 * untraced by the fifth snapshot, varying run to run), while their node ids
 * stay stable; so each object keeps the trace it had when first seen.
 */
export class TraceMemo {
  private byId = new Map<number, number>();

  /** Trace node id of each node of `heap` (0 = untraced), remembering them for the next snapshot. */
  traces(heap: HeapSnapshot): Int32Array {
    const out = new Int32Array(heap.nodeCount);
    const next = new Map<number, number>();
    // The JIT's output lands on whatever runs when a compile finishes (on
    // Node 26, four dependent-code lists made a 200-object leak read +201).
    const source = { nodeTypeName: (k: number) => heap.nodeType(k), nodeName: (k: number) => heap.nodeName(k) };
    for (let k = 0; k < heap.nodeCount; k++) {
      if (isCompilerOutput(source, k)) continue;
      const id = heap.nodeId(k);
      const trace = heap.traceNodeId(k) || (this.byId.get(id) ?? 0);
      if (trace === 0) continue;
      out[k] = trace;
      next.set(id, trace);
    }
    // Only live objects are kept, so the memo is as large as the traced heap.
    this.byId = next;
    return out;
  }
}

/** The objects that already existed after the warm-up, by heap snapshot node id. */
export interface OldObjects {
  has(id: number): boolean;
}

import { setFlagsFromString } from 'node:v8';
import { InspectorSession } from './session.js';
import { heapObjectId, streamHeapSnapshot, type ChunkSink } from './heap-snapshot.js';

// V8's allocation tracker does not follow objects that a compacting full GC
// moves: they lose their allocation stack and drop out of exact counts
// (measured on Node 20: a 2,000-object site reported 0 to 800 objects once
// GCs had run). Compaction is decided per GC from this flag, so it can be
// turned off while tracking; the cost is some old-space fragmentation.
const COMPACT_FLAG = 'compact';

/**
 * The error for a snapshot without allocation traces while tracking: V8 has
 * one tracker per isolate, and any other inspector session that disables
 * HeapProfiler, calls `stopTrackingHeapObjects` or merely disconnects (a
 * debugger detaching, user code closing its own `node:inspector` Session)
 * stops it for everyone.
 */
export function trackerLostError(): Error {
  return new Error(
    "tracemalloc: V8's allocation tracker was stopped by another inspector session (one that disconnected, disabled HeapProfiler " +
      'or stopped tracking; V8 has one tracker per isolate), so the traces are lost; call stop() and start() to trace again',
  );
}

/**
 * V8's allocation tracker: every object allocated after `start` records the
 * call stack that allocated it, and heap snapshots carry those stacks.
 */
export class TrackingCapture {
  private readonly session = new InspectorSession();
  // V8 reports live counts and sizes per "fragment" of object ids every 50 ms.
  // Fragment 0 holds the objects that existed at the first report, which is
  // the closest the protocol comes to "before start()".
  private readonly fragmentSizes: number[] = [];
  private traced = 0;
  private peak = 0;

  constructor() {
    setFlagsFromString(`--no-${COMPACT_FLAG}`);
    this.session.post('HeapProfiler.enable');
    this.session.on<{ statsUpdate: number[] }>('HeapProfiler.heapStatsUpdate', (p) => this.onStats(p.statsUpdate));
    this.session.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  }

  /** Live bytes allocated since start, as of V8's last statistics update. */
  tracedMemory(): { current: number; peak: number } {
    return { current: this.traced, peak: Math.max(this.peak, this.traced) };
  }

  /** Record an exact figure (from a snapshot) that may exceed the sampled peak. */
  observe(current: number): void {
    this.traced = current;
    if (current > this.peak) this.peak = current;
  }

  resetPeak(): void {
    this.peak = this.traced;
  }

  /** Stream a snapshot that includes the allocation traces. */
  snapshot(sink: ChunkSink): void {
    streamHeapSnapshot(sink, this.session);
  }

  /** The heap snapshot id of an object, to look up its allocation trace. */
  objectId(value: unknown): number | null {
    return heapObjectId(this.session, value);
  }

  /**
   * Stop without `stopTrackingHeapObjects`, which would serialise a whole
   * snapshot (seconds on a small heap): disconnecting disables the agent.
   */
  stop(): void {
    if (!this.session.connected) return;
    this.session.disconnect();
    setFlagsFromString(`--${COMPACT_FLAG}`);
  }

  /** Bytes of the per-interval statistics kept here (V8 adds an interval every 50 ms of allocation). */
  get heldBytes(): number {
    return this.fragmentSizes.length * 8;
  }

  get active(): boolean {
    return this.session.connected;
  }

  private onStats(update: number[]): void {
    for (let i = 0; i + 2 < update.length; i += 3) this.fragmentSizes[update[i]] = update[i + 2];
    let sum = 0;
    for (let i = 1; i < this.fragmentSizes.length; i++) sum += this.fragmentSizes[i] ?? 0;
    this.traced = sum;
    if (sum > this.peak) this.peak = sum;
  }
}

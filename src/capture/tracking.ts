import { setFlagsFromString } from 'node:v8';
import { InspectorSession, holdTracker, trackerFromLaunch } from './session.js';

export { trackerFromLaunch };
import { holdNoInlining } from './inlining.js';
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

// Disconnecting a session disables its HeapProfiler agent, which stops V8's
// tracker for the whole isolate: the launch tracker's session lives as long
// as the process.
let launchSession: InspectorSession | null = null;

/**
 * V8's allocation tracker: every object allocated after `start` records the
 * call stack that allocated it, and heap snapshots carry those stacks.
 *
 * Started through the inspector, the HeapProfiler agent also runs a full GC
 * and a walk of the whole heap every 50 ms for as long as tracking lasts;
 * once a walk takes longer than that (Node 20: from about 40,000 live
 * objects) the event loop never goes idle and the program never ends. When
 * Node was started with `--track-heap-objects` (`tracemalloc run --mode
 * exact` does it), V8's tracker already runs with no such timer, and this
 * capture uses it instead: it starts nothing, counts the objects newer than
 * the ids given out at `start` (a heap snapshot then assigns ids to every
 * live object), and stopping leaves V8's tracker running, since it cannot
 * be restarted without the timer.
 */
export class TrackingCapture {
  /** True when the capture uses the tracker started by `--track-heap-objects`. */
  readonly launched = trackerFromLaunch();
  /**
   * Objects with a heap snapshot id at or below this existed before `start`
   * (launch tracker only; the caller sets it from a snapshot taken at start,
   * which gives every live object an id: objects allocated later get higher ones).
   */
  sinceId = 0;
  private readonly session: InspectorSession;
  private connected = true;
  // V8 reports live counts and sizes per "fragment" of object ids every 50 ms.
  // Fragment 0 holds the objects that existed at the first report, which is
  // the closest the protocol comes to "before start()".
  private readonly fragmentSizes: number[] = [];
  private traced = 0;
  private peak = 0;
  private readonly releaseInlining: () => void;
  private idWaiters: Array<(id: number) => void> = [];
  private releaseTracker = (): void => {};

  /** `keepInlining` leaves V8's inlining as it is; `atLaunch`: no program code ran yet (see holdNoInlining). */
  constructor(keepInlining = false, atLaunch = false) {
    this.releaseInlining = keepInlining ? () => {} : holdNoInlining(atLaunch);
    setFlagsFromString(`--no-${COMPACT_FLAG}`);
    if (this.launched) {
      this.session = launchSession ??= new InspectorSession();
      return;
    }
    this.session = new InspectorSession();
    this.releaseTracker = holdTracker();
    this.session.post('HeapProfiler.enable');
    this.session.on<{ lastSeenObjectId: number }>('HeapProfiler.lastSeenObjectId', (p) => this.onLastSeen(p.lastSeenObjectId));
    this.session.on<{ statsUpdate: number[] }>('HeapProfiler.heapStatsUpdate', (p) => this.onStats(p.statsUpdate));
    this.session.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  }

  /**
   * Resolves after V8's next statistics walk with the highest object id it
   * has given out: every object alive at that walk has an id at or below it,
   * every object allocated later a higher one.
   */
  nextObjectIdBoundary(): Promise<number> {
    if (this.launched) return Promise.reject(new Error('tracemalloc: the tracker from launch has no heap walks; take a snapshot instead'));
    return new Promise((resolve) => this.idWaiters.push(resolve));
  }

  /**
   * Live bytes allocated since start, as of V8's last statistics update;
   * with the launch tracker, which has none, as of the last snapshot.
   */
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
    streamHeapSnapshot(sink);
  }

  /** The heap snapshot id of an object, to look up its allocation trace. */
  objectId(value: unknown): number | null {
    return heapObjectId(this.session, value);
  }

  /**
   * Stop without `stopTrackingHeapObjects`, which would serialise a whole
   * snapshot (seconds on a small heap): disconnecting disables the agent.
   * The launch tracker keeps running (see the class comment).
   */
  stop(): void {
    if (!this.connected) return;
    this.connected = false;
    this.releaseTracker();
    if (!this.launched) this.session.disconnect();
    setFlagsFromString(`--${COMPACT_FLAG}`);
    this.releaseInlining();
  }

  /** Bytes of the per-interval statistics kept here (V8 adds an interval every 50 ms of allocation). */
  get heldBytes(): number {
    return this.fragmentSizes.length * 8;
  }

  get active(): boolean {
    return this.connected;
  }

  private onLastSeen(id: number): void {
    const waiters = this.idWaiters;
    this.idWaiters = [];
    for (const resolve of waiters) resolve(id);
  }

  private onStats(update: number[]): void {
    for (let i = 0; i + 2 < update.length; i += 3) this.fragmentSizes[update[i]] = update[i + 2];
    let sum = 0;
    for (let i = 1; i < this.fragmentSizes.length; i++) sum += this.fragmentSizes[i] ?? 0;
    this.traced = sum;
    if (sum > this.peak) this.peak = sum;
  }
}

import type { SnapshotMode, Trace } from '../model/index.js';
import { SamplingCapture, type SamplingHeapProfile } from '../capture/sampling.js';
import { OffHeapSampler } from '../capture/off-heap.js';
import { TrackingCapture, trackerLostError } from '../capture/tracking.js';
import { watchIdle } from '../capture/idle.js';
import { backingStores, HeapSnapshotParser, type HeapSnapshot } from '../heap/index.js';
import { SourceMapResolver } from '../sourcemap/index.js';
import { highestObjectId, liveHeap } from './live-heap.js';
import { tracesFromSamplingProfile } from './from-sampling.js';
import { heapSamples, offHeapSamples, type LiveSample } from './live-samples.js';
import { siteFrames, tracesFromBackingStores, tracesFromHeap } from './from-heap.js';
import { mergeTraces, profileColumns, tracesFromOffHeapSamples } from './off-heap.js';
import type { TracebackBuilder, RawFrame } from './frames.js';

/** How allocations are captured. */
export type TraceMode = SnapshotMode;

// Stacks are captured deeper than the limit, since internal frames are dropped before truncating.
export const STACK_DEPTH = 128;

/** Traces with their total bytes, and how many of those are off the V8 heap. */
export interface SessionTraces {
  traces: Trace[];
  total: number;
  offHeap: number;
}

/** Source maps, read once per process and shared by every session. */
export const sourceMaps = new SourceMapResolver();

/** What a {@link TraceSession} captures. */
export interface TraceSessionOptions {
  mode: TraceMode;
  /** Sampling mode: mean bytes between samples (1 samples every allocation). */
  samplingInterval: number;
  /** Leave V8's inlining on (see StartOptions.keepInlining). */
  keepInlining?: boolean;
  /** No code of the program has run yet (`--import tracemalloc/start`, `run`): no optimised code to discard. */
  atLaunch?: boolean;
  /** Trace ArrayBuffer backing stores too (see StartOptions.offHeap); default false. */
  offHeap?: boolean;
  /**
   * Called once when the program has nothing left to do while the
   * inspector's allocation tracker would keep it alive; the session stops
   * right after.
   */
  onIdle?: () => void;
}

/**
 * One capture of the live heap: the core under the module API, the leak
 * finder and `limitMemory`. It owns V8's profiler (sampling or allocation
 * tracking), the idle watch that lets a program end under the tracker, and
 * the bookkeeping of traced memory; callers turn its traces into their own
 * views. A fix to a capture is a fix everywhere.
 */
export class TraceSession {
  readonly mode: TraceMode;
  readonly samplingInterval: number;
  private readonly sampling: SamplingCapture | null;
  private readonly tracking: TrackingCapture | null;
  /** Sampling mode's sampler of Buffer and ArrayBuffer allocations; null in exact mode or without off-heap tracing. */
  private readonly offHeapSampler: OffHeapSampler | null;
  private readonly offHeap: boolean;
  private readonly stopIdleWatch: () => void;
  private current = 0;
  private peak = 0;
  /** Exact mode: off-heap bytes at the last snapshot (V8's statistics count the heap only). */
  private offHeapAtSnapshot = 0;

  constructor(options: TraceSessionOptions) {
    this.mode = options.mode;
    this.samplingInterval = options.samplingInterval;
    const keepInlining = options.keepInlining === true;
    this.offHeap = options.offHeap === true;
    this.offHeapSampler = null;
    if (options.mode === 'exact') {
      this.sampling = null;
      this.tracking = new TrackingCapture(keepInlining, options.atLaunch);
      // V8's tracker from launch traces what came before the session, which must not count.
      if (this.tracking.launched) this.tracking.sinceId = highestObjectId(this.tracking);
    } else {
      this.tracking = null;
      this.sampling = new SamplingCapture(options.samplingInterval, STACK_DEPTH, keepInlining, options.atLaunch);
      if (this.offHeap) this.offHeapSampler = new OffHeapSampler(options.samplingInterval, STACK_DEPTH);
    }
    // The inspector's tracker keeps the event loop alive forever; stop it once nothing else does.
    const onIdle = options.onIdle;
    this.stopIdleWatch =
      this.tracking && !this.tracking.launched
        ? watchIdle(() => {
            // The caller first: its exit hooks may still take a snapshot.
            onIdle?.();
            this.stop();
          })
        : () => {};
  }

  /** True until {@link stop}. */
  get active(): boolean {
    return this.tracking ? this.tracking.active : this.sampling!.active;
  }

  /** Allocation tracking from process launch (`--track-heap-objects`): no 50 ms heap walk. */
  get launched(): boolean {
    return this.tracking?.launched ?? false;
  }

  /**
   * Live traces since the session began, off-heap bytes included: exact (a
   * heap snapshot) or estimated from the live samples. Updates the traced
   * memory.
   */
  traces(builder: TracebackBuilder): SessionTraces {
    if (this.tracking) {
      const heap = this.heap();
      return this.withOffHeap(this.tracesOf(heap, builder), this.offHeapOf(heap, builder));
    }
    const profile = this.profile();
    return this.withOffHeap(tracesFromSamplingProfile(profile, this.samplingInterval, builder), this.offHeapSampled(builder, profileColumns(profile)));
  }

  /** Exact mode: the function-level heap traces of an already parsed heap (line mode sizes its samples from the same one). */
  tracesOf(heap: HeapSnapshot, builder: TracebackBuilder): { traces: Trace[]; total: number } {
    return tracesFromHeap(heap, builder, this.tracking?.sinceId ?? 0);
  }

  /**
   * Off-heap traces: exact mode's backing stores in `heap`, or the
   * sampler's estimates (`profile`, when given, lines their stacks up with
   * the heap profile's columns). Empty without off-heap tracing.
   */
  offHeapTraces(builder: TracebackBuilder, heap: HeapSnapshot | null, profile: SamplingHeapProfile | null): { traces: Trace[]; total: number } {
    if (this.tracking) return heap ? this.offHeapOf(heap, builder) : { traces: [], total: 0 };
    return this.offHeapSampled(builder, profile ? profileColumns(profile) : new Map());
  }

  /** Heap traces merged with off-heap ones; records the totals. */
  withOffHeap(heap: { traces: Trace[]; total: number }, offHeap: { traces: Trace[]; total: number }): SessionTraces {
    this.offHeapAtSnapshot = offHeap.total;
    this.observe(heap.total + offHeap.total, heap.total);
    const traces = offHeap.traces.length > 0 ? mergeTraces([...heap.traces, ...offHeap.traces]) : heap.traces;
    return { traces, total: heap.total + offHeap.total, offHeap: offHeap.total };
  }

  private offHeapOf(heap: HeapSnapshot, builder: TracebackBuilder): { traces: Trace[]; total: number } {
    if (!this.offHeap) return { traces: [], total: 0 };
    return tracesFromBackingStores(heap, builder, backingStores(heap), this.tracking?.sinceId ?? 0);
  }

  private offHeapSampled(builder: TracebackBuilder, columns: ReadonlyMap<string, number>): { traces: Trace[]; total: number } {
    if (!this.offHeapSampler) return { traces: [], total: 0 };
    return tracesFromOffHeapSamples(this.offHeapSampler.samples(), this.samplingInterval, builder, columns);
  }

  /** Sampling mode: V8's live samples. Reading them runs a full GC first. */
  profile(): SamplingHeapProfile {
    if (!this.sampling) throw new Error('tracemalloc: a sampling profile needs sampling mode');
    return this.sampling.profile();
  }

  /**
   * A parsed heap snapshot of the process; in exact mode it carries the
   * allocation traces, and throws when another session stopped the tracker.
   * `thenStop` parses after stopping the session: parsing allocates, and
   * under the tracker runs about 4x slower.
   */
  heap(thenStop = false): HeapSnapshot {
    if (!this.tracking) {
      const heap = liveHeap();
      if (thenStop) this.stop();
      return heap;
    }
    let heap: HeapSnapshot;
    if (thenStop) {
      const chunks: Array<string | Uint8Array> = [];
      this.tracking.snapshot((chunk) => chunks.push(chunk));
      this.stop();
      const parser = new HeapSnapshotParser();
      for (let i = 0; i < chunks.length; i++) {
        parser.write(chunks[i]);
        chunks[i] = '';
      }
      heap = parser.end();
    } else heap = liveHeap(this.tracking);
    if (!heap.hasAllocationTraces) throw trackerLostError();
    return heap;
  }

  /**
   * The highest heap snapshot id of the objects alive now: later objects
   * get higher ones. Exact mode only; waits for V8's next heap walk (or,
   * with the tracker from launch, takes a snapshot).
   */
  async objectIdBoundary(): Promise<number> {
    if (!this.tracking) throw new Error('tracemalloc: object ids need exact mode');
    return this.tracking.launched ? highestObjectId(this.tracking) : this.tracking.nextObjectIdBoundary();
  }

  /** Exact mode: the allocation frames of `value`, innermost first, or null (primitive, older than the session, untraced). */
  objectFrames(value: unknown): RawFrame[] | null {
    if (!this.tracking) return null;
    const id = this.tracking.objectId(value);
    if (id === null || id <= this.tracking.sinceId) return null;
    const heap = this.heap();
    const node = heap.findNodeById(id);
    if (node === -1) return null;
    const site = heap.nodeTraceNodeId(node);
    return site === 0 ? null : siteFrames(heap, site);
  }

  /**
   * Live traced bytes and their peak, off-heap bytes included. Sampling:
   * estimated now from the live samples. Exact: V8's statistics every 50 ms
   * (with the tracker from launch, only the snapshots) plus the off-heap
   * bytes of the last snapshot.
   */
  tracedMemory(builder: TracebackBuilder): { current: number; peak: number } {
    if (this.tracking) {
      const t = this.tracking.tracedMemory();
      return { current: t.current + this.offHeapAtSnapshot, peak: Math.max(t.peak + this.offHeapAtSnapshot, this.peak) };
    }
    const heap = tracesFromSamplingProfile(this.profile(), this.samplingInterval, builder).total;
    const offHeap = this.offHeapSampled(builder, new Map()).total;
    this.offHeapAtSnapshot = offHeap;
    this.observe(heap + offHeap);
    return { current: this.current, peak: this.peak };
  }

  /**
   * Sampling mode: every live sample with its traceback (heap and
   * off-heap), and the traced memory they add up to, which this read
   * updates as {@link tracedMemory} does. Exact mode has no per-object
   * data without a heap snapshot: null samples, V8's statistics' total
   * (null with the tracker from launch, which has none between snapshots).
   * `reuseWithinMs` > 0: only the profile some other reader read at most
   * that long ago (no GC of its own), or null when there is none.
   */
  liveSamples(builder: TracebackBuilder, reuseWithinMs = 0): { samples: LiveSample[] | null; current: number | null; offHeap: number } | null {
    if (!this.sampling) {
      // V8's tracker from launch keeps no running total: only snapshots know it.
      const current = this.tracking?.launched ? null : this.tracedMemory(builder).current;
      return { samples: null, current, offHeap: this.offHeapAtSnapshot };
    }
    const profile = reuseWithinMs > 0 ? this.sampling.recentProfile(reuseWithinMs) : this.profile();
    if (!profile) return null;
    const samples = heapSamples(profile, this.samplingInterval, builder);
    let heap = 0;
    for (const sample of samples) heap += sample.size;
    let offHeap = 0;
    if (this.offHeapSampler) {
      for (const sample of offHeapSamples(this.offHeapSampler.samples(), this.samplingInterval, builder, profileColumns(profile))) {
        samples.push(sample);
        offHeap += sample.size;
      }
    }
    this.offHeapAtSnapshot = Math.round(offHeap);
    this.observe(Math.round(heap + offHeap));
    return { samples, current: this.current, offHeap: this.offHeapAtSnapshot };
  }

  /** Traced bytes now as {heap, offHeap}: see {@link tracedMemory}. */
  tracedParts(builder: TracebackBuilder): { heap: number; offHeap: number } {
    const { current } = this.tracedMemory(builder);
    return { heap: current - this.offHeapAtSnapshot, offHeap: this.offHeapAtSnapshot };
  }

  /** Record an exact total (from a snapshot); `heap` is its part on the V8 heap, which V8's tracker compares with its own. */
  observe(current: number, heap = current): void {
    this.current = current;
    if (current > this.peak) this.peak = current;
    this.tracking?.observe(heap);
  }

  resetPeak(builder: TracebackBuilder): void {
    if (this.tracking) this.tracking.resetPeak();
    else this.tracedMemory(builder);
    this.peak = this.current;
  }

  /**
   * What the capture holds, an estimate: V8 keeps about 64 bytes per live
   * sample, and about 16 bytes per 32 traced bytes (one address entry per
   * object) in exact mode, plus the per-interval statistics kept here.
   */
  heldBytes(): number {
    // Off-heap samples: a registry cell (~48 B) and two slots (12 B) each.
    return (this.offHeapSampler?.liveSamples ?? 0) * 60 + this.captureHeldBytes();
  }

  private captureHeldBytes(): number {
    if (this.tracking) return this.tracking.heldBytes + Math.round((this.tracking.tracedMemory().current / 32) * 16);
    try {
      return this.sampling!.profile().samples.length * 64;
    } catch {
      return 0; // the profiler was stopped elsewhere: V8 holds no samples for us
    }
  }

  /** Stop sampling but keep the session (see SamplingCapture.halt): counts stay as they are. */
  halt(): void {
    this.sampling?.halt();
  }

  /** Never throws; fast: no snapshot is serialised. */
  stop(): void {
    this.stopIdleWatch();
    this.sampling?.stop();
    this.tracking?.stop();
    this.offHeapSampler?.stop();
  }
}

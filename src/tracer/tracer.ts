import { Snapshot, Traceback, type Trace } from '../model/index.js';
import { SamplingCapture } from '../capture/sampling.js';
import { TrackingCapture, trackerLostError } from '../capture/tracking.js';
import { watchIdle } from '../capture/idle.js';
import { liveHeap } from './live-heap.js';
import { SourceMapResolver } from '../sourcemap/index.js';
import { TracebackBuilder, type FramePolicy } from './frames.js';
import { tracesFromSamplingProfile } from './from-sampling.js';
import { siteFrames, tracesFromHeap } from './from-heap.js';
import { tracesWithLines, type SizedLineSample } from './from-lines.js';
import { installLineHooks, type LineFilesOptions } from '../lines/install.js';
import { lineFiles, lineSampleAt, liveLineSampleCount, setLineDepth, startLineRecording, stopLineRecording } from '../lines/recorder.js';
import { sampleSizes } from '../lines/sizes.js';
import type { HeapSnapshot } from '../heap/index.js';

/** How allocations are captured. */
export type TraceMode = 'sampling' | 'exact';

/** Options of {@link start}. */
export interface StartOptions {
  /** Traceback limit: most recent frames stored per trace, 1..128. Default 1, as in Python. */
  frames?: number;
  /**
   * `'sampling'` (default): V8's sampling heap profiler, cheap enough for
   * production; sizes and counts are unbiased estimates with error bounds.
   * `'exact'`: V8's allocation tracker; every live object allocated since
   * `start()` is counted exactly, at a large CPU cost while tracing.
   */
  mode?: TraceMode;
  /** Sampling mode: mean bytes between samples. Default {@link DEFAULT_SAMPLING_INTERVAL}. */
  samplingInterval?: number;
  /** Keep frames from Node's internals and tracemalloc itself. Default false. */
  internalFrames?: boolean;
  /** Report frames at original source positions through source maps. Default true. */
  sourceMaps?: boolean;
  /**
   * Line mode: report the allocating line (and each caller's calling line)
   * for the user's own code, which is instrumented as it loads; see
   * docs/lines.md. Modules loaded before `start()` stay at function level, so
   * turn it on from the first line (`tracemalloc run --lines`, or
   * `NODE_TRACEMALLOC_LINES=1 node --import tracemalloc/start`).
   * Each snapshot then also takes a heap snapshot to size the sampled objects.
   */
  lines?: boolean | LineOptions;
}

/** Options of line mode. */
export interface LineOptions extends LineFilesOptions {
  /** Mean allocations between two sampled ones (1 samples every allocation). Default {@link DEFAULT_LINE_SAMPLE_EVERY}. */
  sampleEvery?: number;
}

/** Default of {@link LineOptions.sampleEvery}, chosen by `bench/lines` (see README): within 1.2x on the HTTP workload, and ±16% bounds on a site of 20,000 live objects. */
export const DEFAULT_LINE_SAMPLE_EVERY = 128;

/**
 * Default sampling interval in bytes, chosen by `bench/overhead` (see README):
 * the largest interval whose error bounds stay useful for sites holding MBs.
 */
export const DEFAULT_SAMPLING_INTERVAL = 64 * 1024;
const MAX_FRAMES = 128;
// Stacks are captured deeper than the limit, since internal frames are dropped before truncating.
const STACK_DEPTH = 128;

interface Active {
  mode: TraceMode;
  samplingInterval: number;
  policy: FramePolicy;
  sampling: SamplingCapture | null;
  tracking: TrackingCapture | null;
  peak: number;
  current: number;
  stopIdleWatch: () => void;
  /** Line mode's mean allocations between samples; null without line mode. */
  lineEvery: number | null;
}

let active: Active | null = null;
// start() calls not yet matched by stop(): tracing ends when every starter has stopped.
let starters = 0;
// Maps are read once per process, not once per snapshot.
const sourceMaps = new SourceMapResolver();
// Like Python, the limit stays readable after stop().
let lastLimit = 1;
const exitHooks: Array<() => void> = [];

function checkFrames(frames: unknown): number {
  if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 1 || frames > MAX_FRAMES) {
    throw new RangeError(`tracemalloc: frames must be an integer from 1 to ${MAX_FRAMES}, got ${String(frames)}`);
  }
  return frames;
}

function checkInterval(interval: unknown): number {
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1 || interval > 2 ** 30) {
    throw new RangeError(`tracemalloc: samplingInterval must be a whole number of bytes from 1 to 2^30, got ${String(interval)}`);
  }
  return interval;
}

function onProcessExit(): void {
  if (!active) return;
  for (const hook of exitHooks) {
    try {
      hook();
    } catch (err) {
      process.stderr.write(`tracemalloc: exit hook failed: ${(err as Error).message}\n`);
    }
  }
  stopNow();
}

function checkLines(lines: unknown): LineOptions | null {
  if (lines === undefined || lines === false) return null;
  if (lines === true) return {};
  if (typeof lines !== 'object' || lines === null) throw new TypeError(`tracemalloc: lines must be a boolean or an options object, got ${String(lines)}`);
  const every = (lines as LineOptions).sampleEvery;
  if (every !== undefined && (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > 2 ** 30)) {
    throw new RangeError(`tracemalloc: lines.sampleEvery must be a whole number from 1 to 2^30, got ${String(every)}`);
  }
  return lines as LineOptions;
}

// Callers captured per line sample: the frames kept plus some for internals dropped on the way.
const lineDepth = (limit: number): number => (limit === 1 ? 1 : Math.min(limit + 4, STACK_DEPTH));

function capture(mode: TraceMode, interval: number): Pick<Active, 'sampling' | 'tracking'> {
  return mode === 'exact'
    ? { sampling: null, tracking: new TrackingCapture() }
    : { sampling: new SamplingCapture(interval, STACK_DEPTH), tracking: null };
}

/**
 * Start tracing allocations. Like Python, objects allocated before `start()`
 * are not traced.
 *
 * Calling `start()` while already tracing keeps tracing and keeps the traces
 * collected so far; it only changes the traceback limit (which applies to the
 * next snapshots). Asking for another mode or interval meanwhile is ignored
 * with a process warning: call `stop()` first to switch.
 *
 * Starts are counted, so that two libraries can each trace: tracing goes on
 * until `stop()` has been called once per `start()` (see {@link stop}).
 *
 * Sampling mode throws when another inspector session (a debugger, another
 * profiler) already runs V8's sampling heap profiler: V8 has one per isolate.
 */
export function start(options: StartOptions = {}): void {
  const frames = checkFrames(options.frames ?? 1);
  const mode = options.mode ?? 'sampling';
  if (mode !== 'sampling' && mode !== 'exact') {
    throw new TypeError(`tracemalloc: mode must be 'sampling' or 'exact', got ${String(mode)}`);
  }
  const samplingInterval = checkInterval(options.samplingInterval ?? DEFAULT_SAMPLING_INTERVAL);
  const lines = checkLines(options.lines);
  const policy: FramePolicy = {
    limit: frames,
    internalFrames: options.internalFrames ?? false,
    sourceMaps: options.sourceMaps === false ? null : sourceMaps,
  };
  lastLimit = frames;
  if (active) {
    starters++;
    active.policy = policy;
    if (active.lineEvery !== null) setLineDepth(lineDepth(frames));
    if (mode !== active.mode || (mode === 'sampling' && samplingInterval !== active.samplingInterval) || (lines !== null) !== (active.lineEvery !== null)) {
      process.emitWarning(
        `tracemalloc is already tracing in ${active.mode} mode; start() only changed the traceback limit. Call stop() first to switch.`,
        'TracemallocWarning',
      );
    }
    return;
  }
  const parts = capture(mode, samplingInterval);
  let lineEvery: number | null = null;
  if (lines) {
    try {
      installLineHooks(lines);
    } catch (err) {
      parts.sampling?.stop();
      parts.tracking?.stop();
      throw err;
    }
    lineEvery = lines.sampleEvery ?? DEFAULT_LINE_SAMPLE_EVERY;
    startLineRecording(lineEvery, lineDepth(frames));
  }
  // Allocation tracking keeps the event loop alive forever; stop it once nothing else does.
  const stopIdleWatch = mode === 'exact' ? watchIdle(onProcessExit) : () => {};
  active = { mode, samplingInterval, policy, ...parts, peak: 0, current: 0, stopIdleWatch, lineEvery };
  starters = 1;
  process.on('exit', onProcessExit);
}

/**
 * Stop tracing and forget the traces, once every `start()` has been matched
 * by a `stop()`: a library that stops its own tracing does not end another's.
 * Extra calls do nothing. At process exit tracing ends regardless. Fast in
 * both modes: no snapshot is serialised.
 */
export function stop(): void {
  if (!active) return;
  if (--starters > 0) return;
  stopNow();
}

function stopNow(): void {
  const was = active;
  if (!was) return;
  active = null;
  starters = 0;
  sourceMaps.clear();
  process.off('exit', onProcessExit);
  was.stopIdleWatch();
  if (was.lineEvery !== null) stopLineRecording();
  was.sampling?.stop();
  was.tracking?.stop();
}

/** True between `start()` and `stop()`. */
export function isTracing(): boolean {
  return active !== null;
}

/** The traceback limit set by the last `start()`; 1 before any, as in Python. */
export function getTracebackLimit(): number {
  return lastLimit;
}

function requireActive(what: string): Active {
  if (!active) throw new Error(`tracemalloc: the tracemalloc module must be tracing memory allocations to ${what}; call start() first`);
  return active;
}

/**
 * A snapshot of the traces of live memory allocated since `start()`.
 * Exact mode takes a full V8 heap snapshot (a GC plus a pass over the heap),
 * streamed into the parser without building its JSON text.
 *
 * Throws, rather than return a wrong snapshot, when another inspector
 * session stopped V8's profiler under the tracer (V8 has one sampling
 * profiler and one allocation tracker per isolate; in exact mode any other
 * session that disconnects stops the tracker): call `stop()` and `start()`.
 */
export function takeSnapshot(): Snapshot {
  const state = requireActive('take a snapshot');
  const builder = new TracebackBuilder(state.policy);
  let result;
  if (state.lineEvery !== null) {
    result = snapshotWithLines(state, builder);
  } else if (state.tracking) {
    result = tracesFromHeap(trackedHeap(state.tracking), builder);
    state.tracking.observe(result.total);
  } else {
    result = tracesFromSamplingProfile(state.sampling!.profile(), state.samplingInterval, builder);
  }
  note(state, result.total);
  return new Snapshot(result.traces, state.policy.limit, {
    mode: state.mode,
    samplingInterval: state.mode === 'sampling' ? state.samplingInterval : undefined,
    lineSampleEvery: state.lineEvery ?? undefined,
    timestamp: Date.now(),
    pid: process.pid,
    nodeVersion: process.version,
  });
}

/** Line mode: function-level traces from V8, line-level ones from the samples, sized by one heap snapshot. */
function snapshotWithLines(state: Active, builder: TracebackBuilder): { traces: Trace[]; total: number } {
  let functionLevel: Trace[];
  let heap: HeapSnapshot;
  if (state.tracking) {
    heap = trackedHeap(state.tracking);
    functionLevel = tracesFromHeap(heap, builder).traces;
  } else {
    // The profile first: the heap snapshot's GC would otherwise drop samples V8 still lists.
    functionLevel = tracesFromSamplingProfile(state.sampling!.profile(), state.samplingInterval, builder).traces;
    heap = liveHeap();
  }
  const live: SizedLineSample[] = [];
  for (const [slot, size] of sampleSizes(heap)) {
    const sample = lineSampleAt(slot);
    if (sample) live.push({ sample, ...size });
  }
  const result = tracesWithLines(functionLevel, live, lineFiles(), state.lineEvery!, builder, state.policy.sourceMaps);
  if (state.tracking) state.tracking.observe(result.total);
  return result;
}

/** A live heap snapshot with its allocation traces; throws when the tracker was lost. */
function trackedHeap(tracking: TrackingCapture): ReturnType<typeof liveHeap> {
  const heap = liveHeap(tracking);
  if (!heap.hasAllocationTraces) throw trackerLostError();
  return heap;
}

function note(state: Active, current: number): void {
  state.current = current;
  if (current > state.peak) state.peak = current;
}

/**
 * Live traced memory in bytes and its peak since `start()` or `resetPeak()`.
 * Sampling mode: an estimate from the live samples. Exact mode: V8's own
 * statistics, refreshed every 50 ms while the event loop turns, and exact at
 * each snapshot; a spike shorter than that can be missed by `peak`, and
 * objects allocated before the first refresh after `start()` (code that
 * allocates synchronously right after it) count as older memory until the
 * next snapshot.
 */
export function getTracedMemory(): { current: number; peak: number } {
  if (!active) return { current: 0, peak: 0 };
  if (active.tracking) return active.tracking.tracedMemory();
  const builder = new TracebackBuilder(active.policy);
  note(active, tracesFromSamplingProfile(active.sampling!.profile(), active.samplingInterval, builder).total);
  return { current: active.current, peak: active.peak };
}

/** Set the peak to the current traced memory. */
export function resetPeak(): void {
  if (!active) return;
  if (active.tracking) active.tracking.resetPeak();
  else {
    getTracedMemory();
    active.peak = active.current;
  }
}

/** Forget every trace so far and keep tracing: later snapshots only see newer allocations. */
export function clearTraces(): void {
  if (!active) return;
  active.sampling?.stop();
  active.tracking?.stop();
  Object.assign(active, capture(active.mode, active.samplingInterval), { peak: 0, current: 0 });
  if (active.lineEvery !== null) startLineRecording(active.lineEvery, lineDepth(active.policy.limit));
}

/**
 * Bytes held to trace, an estimate; 0 when not tracing (`stop()` releases
 * all of it). It adds what tracemalloc itself keeps between snapshots (the
 * source maps it has read, sized from their text and decoded segments, and
 * its per-interval statistics in exact mode; parsed heap snapshots are not
 * kept) to what V8 keeps for the traces, which is not observable and is
 * estimated: about 64 bytes per live sample in sampling mode, and about
 * 16 bytes per 32 traced bytes (one address entry per object) in exact mode.
 */
export function getTracemallocMemory(): number {
  if (!active) return 0;
  // Line mode: per live sample a registry cell (~48 B), its tag (~24 B) and three slots (12 B).
  const own = sourceMaps.heldBytes + liveLineSampleCount() * 84;
  if (active.tracking) return own + active.tracking.heldBytes + Math.round((active.tracking.tracedMemory().current / 32) * 16);
  try {
    return own + active.sampling!.profile().samples.length * 64;
  } catch {
    return own; // the profiler was stopped elsewhere: V8 holds no samples for us
  }
}

/**
 * The traceback where `value` was allocated, or null when it is unknown:
 * a primitive, an object allocated before `start()`, or sampling mode.
 * Exact mode only; costs one heap snapshot.
 */
export function getObjectTraceback(value: unknown): Traceback | null {
  const state = requireActive('get an object traceback');
  if (!state.tracking) return null;
  const id = state.tracking.objectId(value);
  if (id === null) return null;
  const heap = trackedHeap(state.tracking);
  const node = heap.findNodeById(id);
  if (node === -1) return null;
  const site = heap.nodeTraceNodeId(node);
  if (site === 0) return null;
  return new TracebackBuilder(state.policy).build(siteFrames(heap, site));
}

/** Run `hook` just before tracing ends at process exit (used by `tracemalloc/start`). */
export function onTracingExit(hook: () => void): void {
  exitHooks.push(hook);
}

/** The current mode, or null when not tracing. */
export function getMode(): TraceMode | null {
  return active?.mode ?? null;
}

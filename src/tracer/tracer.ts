import { basename } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import { MAX_TRACEBACK_FRAMES, Snapshot, Traceback, type ProcessMemory, type Trace } from '../model/index.js';
import type { SamplingHeapProfile } from '../capture/sampling.js';
import { readProcessMemory } from '../capture/process-memory.js';
import { liveHeap, liveHeapCostMs } from './live-heap.js';
import { TracebackBuilder, type FramePolicy } from './frames.js';
import { tracesFromSamplingProfile } from './from-sampling.js';
import type { LiveSample } from './live-samples.js';
import { TraceSession, sourceMaps, STACK_DEPTH, type SessionTraces, type TraceMode } from './session.js';
import { tracesWithLines } from './from-lines.js';
import { installLineHooks, type LineFilesOptions } from '../lines/install.js';
import {
  keepLineStringSamples,
  lineFiles,
  lineSampleAt,
  lineStringSamples,
  liveLineSampleCount,
  setLineDepth,
  startLineRecording,
  stopLineRecording,
} from '../lines/recorder.js';
import { liveLineSamples, type SizedLineSample } from '../lines/live-samples.js';
import type { HeapSnapshot } from '../heap/index.js';

export type { TraceMode };

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
  /**
   * Leave V8's inlining on. By default tracing turns it off and discards
   * the code optimised before `start()`, so that allocations of inlined
   * functions are reported at those functions, not at their callers (see
   * README, "Optimised code"). That costs a pause at `start()` (tens of ms,
   * about 0.35 s at 220 MB of live heap), a re-warm-up, and some speed in
   * code made of many small functions (docs/benchmarks.md). Set this where
   * those matter more than the right function, knowing that hot small
   * functions' memory then shows at their callers. Default false.
   */
  keepInlining?: boolean;
  /**
   * Trace off-heap memory: the backing stores of Buffers, ArrayBuffers and
   * typed arrays, counted at the site that allocated them, in `size` and in
   * `offHeapSize` (see docs/off-heap.md). Exact and line mode read them from
   * the heap snapshot. Sampling mode samples them at their JavaScript entry
   * points, which it wraps while tracing (`Buffer.alloc` and its siblings,
   * the `ArrayBuffer` and typed array constructors); `false` leaves those
   * untouched. Default true.
   */
  offHeap?: boolean;
}

/** Options of line mode. */
export interface LineOptions extends LineFilesOptions {
  /** Mean allocations between two sampled ones (1 samples every allocation). Default {@link DEFAULT_LINE_SAMPLE_EVERY}. */
  sampleEvery?: number;
}

/** Default of {@link LineOptions.sampleEvery}, chosen by `bench/lines` (docs/benchmarks.md): within 1.2x on the HTTP workload, and ±16% bounds on a site of 20,000 live objects. */
export const DEFAULT_LINE_SAMPLE_EVERY = 128;

/**
 * Default sampling interval in bytes, chosen by `bench/overhead` (docs/benchmarks.md):
 * the largest interval whose error bounds stay useful for sites holding MBs.
 */
export const DEFAULT_SAMPLING_INTERVAL = 64 * 1024;
interface Active {
  mode: TraceMode;
  samplingInterval: number;
  keepInlining: boolean;
  policy: FramePolicy;
  offHeap: boolean;
  session: TraceSession;
  /** Line mode's mean allocations between samples; null without line mode. */
  lineEvery: number | null;
}

let active: Active | null = null;
// start() calls not yet matched by stop(): tracing ends when every starter has stopped.
let starters = 0;
// Like Python, the limit stays readable after stop().
let lastLimit = 1;
const exitHooks: Array<() => void> = [];

function checkFrames(frames: unknown): number {
  if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 1 || frames > MAX_TRACEBACK_FRAMES) {
    throw new RangeError(`tracemalloc: frames must be an integer from 1 to ${MAX_TRACEBACK_FRAMES}, got ${String(frames)}`);
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

function capture(mode: TraceMode, samplingInterval: number, keepInlining: boolean, offHeap: boolean, atLaunch: boolean): TraceSession {
  return new TraceSession({ mode, samplingInterval, keepInlining, offHeap, atLaunch, onIdle: onProcessExit });
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
  startTracing(options, false);
}

/**
 * {@link start} before any code of the program has run (`--import
 * tracemalloc/start`, `tracemalloc run`, a worker's first line): nothing is
 * optimised yet, so V8's code is not discarded. Not part of the public API.
 */
export function startAtLaunch(options: StartOptions = {}): void {
  startTracing(options, true);
}

function startTracing(options: StartOptions, atLaunch: boolean): void {
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
  const keepInlining = options.keepInlining === true;
  const offHeap = options.offHeap !== false;
  const session = capture(mode, samplingInterval, keepInlining, offHeap, atLaunch);
  let lineEvery: number | null = null;
  if (lines) {
    try {
      installLineHooks(lines);
    } catch (err) {
      session.stop();
      throw err;
    }
    lineEvery = lines.sampleEvery ?? DEFAULT_LINE_SAMPLE_EVERY;
    startLineRecording(lineEvery, lineDepth(frames));
  }
  active = { mode, samplingInterval, keepInlining, policy, offHeap, session, lineEvery };
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
  if (was.lineEvery !== null) stopLineRecording();
  was.session.stop();
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
  const result = state.lineEvery !== null ? snapshotWithLines(state, builder) : state.session.traces(builder);
  return new Snapshot(result.traces, state.policy.limit, {
    mode: state.mode,
    samplingInterval: state.mode === 'sampling' ? state.samplingInterval : undefined,
    lineSampleEvery: state.lineEvery ?? undefined,
    timestamp: Date.now(),
    pid: process.pid,
    ...threadMeta(),
    nodeVersion: process.version,
    processMemory: processMemory(result.total - result.offHeap, result.offHeap),
  });
}

/** A worker thread's id and script (argv[1] in a worker); on the main thread, the process's script. */
function threadMeta(): { threadId?: number; threadName?: string; script?: string } {
  const script = process.argv[1];
  if (isMainThread) return script ? { script: basename(script) } : {};
  return script ? { threadId, threadName: basename(script) } : { threadId };
}

/** Line mode: function-level traces from V8, line-level ones from the samples, sized by one heap snapshot. */
function snapshotWithLines(state: Active, builder: TracebackBuilder): SessionTraces {
  const session = state.session;
  let functionLevel: Trace[];
  let heap: HeapSnapshot;
  let profile: SamplingHeapProfile | null = null;
  if (state.mode === 'exact') {
    heap = session.heap();
    functionLevel = session.tracesOf(heap, builder).traces;
  } else {
    // The profile first: the heap snapshot's GC would otherwise drop samples V8 still lists.
    profile = session.profile();
    functionLevel = tracesFromSamplingProfile(profile, state.samplingInterval, builder).traces;
    heap = liveHeap();
  }
  const offHeap = session.offHeapTraces(builder, heap, profile);
  const live: SizedLineSample[] = liveLineSamples(heap, lineSampleAt, { samples: lineStringSamples(), keep: keepLineStringSamples });
  // Lines split the heap bytes only: off-heap bytes stay at the function V8 or the sampler saw them in.
  return session.withOffHeap(tracesWithLines(functionLevel, live, lineFiles(), state.lineEvery!, builder, state.policy.sourceMaps), offHeap);
}

/** The process's memory now, with the traced parts given. */
function processMemory(tracedHeap: number, tracedOffHeap: number): ProcessMemory {
  const raw = readProcessMemory();
  const otherExternal = Math.max(0, raw.external - raw.arrayBuffers);
  return {
    rss: raw.rss,
    heapCommitted: raw.heapCommitted,
    heapUsed: raw.heapUsed,
    tracedHeap,
    untracedHeap: Math.max(0, raw.heapUsed - tracedHeap),
    arrayBuffers: raw.arrayBuffers,
    tracedOffHeap,
    otherExternal,
    code: raw.code,
    unaccounted: Math.max(0, raw.rss - raw.heapCommitted - raw.arrayBuffers - otherExternal),
    spaces: raw.spaces,
  };
}

/**
 * Where the process's memory is, in bytes: the V8 heap (committed, used,
 * each space, and how much of it is traced), the off-heap backing stores
 * of ArrayBuffers, Buffers and typed arrays (and how much of them is
 * traced), other external memory, compiled code, and the rest of RSS that
 * none of these explain (native addons, the allocator, thread stacks).
 * Says at once whether growth is in the JavaScript heap, in Buffers, or
 * outside both. Traced figures are 0 when not tracing and are those of
 * {@link getTracedMemory}: Node's and V8's counters, and in sampling mode
 * V8's profile (which costs a GC).
 */
export function getProcessMemory(): ProcessMemory {
  if (!active) return processMemory(0, 0);
  const traced = active.session.tracedParts(new TracebackBuilder(active.policy));
  return processMemory(traced.heap, traced.offHeap);
}

/**
 * Live traced memory in bytes and its peak since `start()` or `resetPeak()`,
 * off-heap bytes (Buffer and ArrayBuffer backing stores) included.
 * Sampling mode: an estimate from the live samples. Exact mode: V8's own
 * statistics for the heap, refreshed every 50 ms while the event loop
 * turns, plus the off-heap bytes of the last snapshot (0 before the first);
 * exact at each snapshot. A spike shorter than that can be missed by
 * `peak`, and objects allocated before the first refresh after `start()`
 * (code that allocates synchronously right after it) count as older memory
 * until the next snapshot.
 */
export function getTracedMemory(): { current: number; peak: number } {
  if (!active) return { current: 0, peak: 0 };
  return active.session.tracedMemory(new TracebackBuilder(active.policy));
}

/**
 * For `tracemalloc run`'s timeline: the live samples now, each with its
 * traceback (null in exact mode, which has none without a heap snapshot),
 * and the traced memory. One traceback builder per capture, so a stack
 * keeps one interned Traceback from read to read. Costs what
 * {@link getTracedMemory} costs. Null when not tracing, and with
 * `reuseWithinMs` > 0 in sampling mode when no profile was read that
 * recently (an exit snapshot just before, say): it then reads nothing.
 */
export function readLiveSamples(reuseWithinMs = 0): { samples: LiveSample[] | null; current: number | null; offHeap: number } | null {
  if (!active) return null;
  if (liveSampleBuilder?.state !== active) liveSampleBuilder = { state: active, builder: new TracebackBuilder(active.policy) };
  return active.session.liveSamples(liveSampleBuilder.builder, reuseWithinMs);
}

let liveSampleBuilder: { state: Active; builder: TracebackBuilder } | null = null;

/** Set the peak to the current traced memory. */
export function resetPeak(): void {
  if (!active) return;
  active.session.resetPeak(new TracebackBuilder(active.policy));
}

/** Forget every trace so far and keep tracing: later snapshots only see newer allocations. */
export function clearTraces(): void {
  if (!active) return;
  active.session.stop();
  active.session = capture(active.mode, active.samplingInterval, active.keepInlining, active.offHeap, false);
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
  return sourceMaps.heldBytes + liveLineSampleCount() * 84 + active.session.heldBytes();
}

/**
 * The traceback where `value` was allocated, or null when it is unknown:
 * a primitive, an object allocated before `start()`, or sampling mode.
 * Exact mode only; costs one heap snapshot.
 */
export function getObjectTraceback(value: unknown): Traceback | null {
  const state = requireActive('get an object traceback');
  const frames = state.session.objectFrames(value);
  return frames && new TracebackBuilder(state.policy).build(frames);
}

/** Run `hook` just before tracing ends at process exit (used by `tracemalloc/start`). */
export function onTracingExit(hook: () => void): void {
  exitHooks.push(hook);
}

/**
 * About how long {@link takeSnapshot} would take now, in milliseconds (0
 * when not tracing): exact and line mode read a heap snapshot, whose cost
 * grows with the heap; sampling mode reads V8's profile only. Lets a signal
 * handler decide whether an exit snapshot fits in the time it has.
 */
export function snapshotCostMs(): number {
  if (!active) return 0;
  return takesHeapSnapshot() ? liveHeapCostMs() : 50;
}

/** Whether {@link takeSnapshot} reads a V8 heap snapshot now (exact and line mode), rather than V8's sampling profile. */
export function takesHeapSnapshot(): boolean {
  return active !== null && (active.mode === 'exact' || active.lineEvery !== null);
}

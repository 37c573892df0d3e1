import { TrackingCapture } from '../capture/tracking.js';
import { watchIdle } from '../capture/idle.js';
import { streamHeapSnapshot } from '../capture/heap-snapshot.js';
import type { HeapSnapshot } from '../heap/index.js';
import type { Traceback } from '../model/index.js';
import { SourceMapResolver } from '../sourcemap/index.js';
import { TracebackBuilder, filenameOf, isInternalFrame, isLibraryFrame, type RawFrame } from '../tracer/frames.js';
import { isTracing, start, stop, takeSnapshot } from '../tracer/tracer.js';
import { siteFrames } from '../tracer/from-heap.js';
import { liveHeap } from '../tracer/live-heap.js';
import { measureGrowth, type Growth } from './growth.js';
import { resolveLeakOptions, type FindLeaksOptions, type ResolvedLeakOptions } from './options.js';
import { clusterRetainers, pickSample, type RetainerCluster } from './retainers.js';
import { SiteSeries, siteKey } from './series.js';
import { IdSet, TraceMemo } from './sites.js';

/** The code under test: one iteration of the suspected leak (sync or async). */
export type LeakScenario = (iteration: number) => unknown;

/** One allocation site whose live objects grow steadily with the iterations. */
export interface LeakFinding {
  /**
   * Where the objects are allocated, oldest frame first, in source-mapped
   * lines. A site is the most recent frame; when several stacks reach it,
   * this is the one holding the most live objects.
   */
  traceback: Traceback;
  /** Least-squares growth of the site's live objects per iteration. */
  objectsPerIteration: number;
  /** Least-squares growth of the site's live bytes per iteration. */
  bytesPerIteration: number;
  /** Live objects at the site after the warm-up, then after each iteration. */
  counts: number[];
  /** Live bytes at the site, same points. */
  sizes: number[];
  /** The growth rule applied to `counts` and to `sizes`. */
  countGrowth: Growth;
  sizeGrowth: Growth;
  /** Objects allocated at the site during the measured iterations and still alive at the end (exact mode). */
  leakedObjects: number;
  leakedBytes: number;
  /** Constructors (or V8 types) of those objects, most numerous first (exact mode). */
  constructors: Array<{ name: string; count: number; size: number }>;
  /** Retainer paths of a sample of them, clustered by holder, largest first (exact mode). */
  retainers: RetainerCluster[];
}

/** What {@link findLeaks} found. */
export interface LeakReport {
  mode: 'exact' | 'sampling';
  warmup: number;
  iterations: number;
  /** Sites that grew steadily, most bytes per iteration first. Empty: no leak. */
  findings: LeakFinding[];
  /** Allocation sites seen in the snapshots. */
  sitesExamined: number;
  /** Wall time of the whole search, in milliseconds. */
  durationMs: number;
}

// Maps are read once per process, not once per search.
const sourceMaps = new SourceMapResolver();
let running = false;

/**
 * Runs `fn` for a warm-up, then for `iterations` more times with a snapshot
 * before and after each, and reports each allocation site whose live count
 * or bytes grow steadily with the iteration count (see docs/leaks.md for the
 * rule). In exact mode each finding carries the constructors involved and
 * the clustered shortest retainer paths of a sample of its leaked objects.
 *
 * Tracing is process-wide: the search refuses to run while `start()` is
 * tracing or another search runs. The finder's own memory is not traced.
 *
 * @param fn - one iteration; may return a promise, which is awaited
 */
export async function findLeaks(fn: LeakScenario, options: FindLeaksOptions = {}): Promise<LeakReport> {
  if (typeof fn !== 'function') throw new TypeError(`tracemalloc: findLeaks() needs a function to run, got ${typeof fn}`);
  const o = resolveLeakOptions(options);
  if (running) throw new Error('tracemalloc: findLeaks() is already running; searches cannot overlap');
  if (isTracing()) throw new Error('tracemalloc: findLeaks() traces on its own; call stop() before it');
  running = true;
  const began = performance.now();
  try {
    const found = o.mode === 'exact' ? await findExact(fn, o) : await findSampled(fn, o);
    return { mode: o.mode, warmup: o.warmup, iterations: o.iterations, ...found, durationMs: performance.now() - began };
  } finally {
    running = false;
  }
}

type Found = Pick<LeakReport, 'findings' | 'sitesExamined'>;

async function warmUp(fn: LeakScenario, o: ResolvedLeakOptions): Promise<void> {
  for (let i = 0; i < o.warmup; i++) await fn(i);
}

function grows(counts: number[], sizes: number[], o: ResolvedLeakOptions) {
  const countGrowth = measureGrowth(counts, o.minObjectsPerIteration);
  const sizeGrowth = measureGrowth(sizes, o.minBytesPerIteration);
  return { countGrowth, sizeGrowth, leaks: countGrowth.steady || sizeGrowth.steady };
}

async function findExact(fn: LeakScenario, o: ResolvedLeakOptions): Promise<Found> {
  const tracking = new TrackingCapture();
  // A scenario that never settles must not leave the process hanging on the tracker.
  const stopWatch = watchIdle(() => tracking.stop());
  const builder = new TracebackBuilder({ limit: o.frames, internalFrames: false, sourceMaps });
  // Trace node ids are stable within one tracking session, so each resolves once.
  const siteOf = new Map<number, Traceback | null>();
  const series = new SiteSeries();
  const memo = new TraceMemo();
  try {
    await warmUp(fn, o);
    let heap = liveHeap(tracking);
    let traces = memo.traces(heap);
    // Node ids are not allocated in order (native objects use addresses), so keep the set.
    const old = new IdSet(heap);
    series.add(liveBySite(heap, traces, builder, siteOf));
    for (let i = 0; i < o.iterations; i++) {
      await fn(o.warmup + i);
      // Let the previous snapshot go before parsing the next: one at a time in memory.
      heap = traces = null as never;
      heap = liveHeap(tracking);
      traces = memo.traces(heap);
      series.add(liveBySite(heap, traces, builder, siteOf));
    }
    const findings: LeakFinding[] = [];
    for (const { traceback, counts, sizes } of series.entries()) {
      const g = grows(counts, sizes, o);
      if (!g.leaks) continue;
      const finding = newFinding(traceback, counts, sizes, g);
      explain(finding, heap, traces, siteOf, old, o.sample);
      findings.push(finding);
    }
    return { findings: sortFindings(findings), sitesExamined: series.size };
  } finally {
    stopWatch();
    tracking.stop();
  }
}

function newFinding(traceback: Traceback, counts: number[], sizes: number[], g: { countGrowth: Growth; sizeGrowth: Growth }): LeakFinding {
  return {
    traceback,
    objectsPerIteration: g.countGrowth.slope,
    bytesPerIteration: g.sizeGrowth.slope,
    counts,
    sizes,
    countGrowth: g.countGrowth,
    sizeGrowth: g.sizeGrowth,
    leakedObjects: 0,
    leakedBytes: 0,
    constructors: [],
    retainers: [],
  };
}

function sortFindings(findings: LeakFinding[]): LeakFinding[] {
  return findings.sort((a, b) => b.bytesPerIteration - a.bytesPerIteration || b.objectsPerIteration - a.objectsPerIteration);
}

function siteFor(heap: HeapSnapshot, traceId: number, builder: TracebackBuilder, siteOf: Map<number, Traceback | null>): Traceback | null {
  let site = siteOf.get(traceId);
  if (site === undefined) {
    site = builder.build(innerFrames(siteFrames(heap, traceId)));
    siteOf.set(traceId, site);
  }
  return site;
}

/**
 * The frames inside the scenario: the callers of findLeaks differ between
 * the first call (synchronous) and the rest (resumed after an await), and
 * would split one site in two. Allocations of tracemalloc itself (such as
 * the snapshots the search holds) keep their innermost frame, which makes
 * the builder drop them.
 */
function innerFrames(innermostFirst: RawFrame[]): RawFrame[] {
  const outer = innermostFirst.findIndex((f) => !isInternalFrame(f.url) && isLibraryFrame(filenameOf(f.url)));
  if (outer <= 0 || innermostFirst.slice(0, outer).every((f) => isInternalFrame(f.url))) return innermostFirst;
  return innermostFirst.slice(0, outer);
}

/** Live objects per site. Compiled code is left out: the JIT allocates it when it chooses to. */
function liveBySite(heap: HeapSnapshot, traces: Int32Array, builder: TracebackBuilder, siteOf: Map<number, Traceback | null>) {
  const code = heap.nodeTypeIds.code;
  const perTrace = new Map<number, { count: number; size: number }>();
  for (let k = 0; k < heap.nodeCount; k++) {
    const traceId = traces[k];
    if (traceId === 0 || heap.nodeTypeId(k) === code) continue;
    const acc = perTrace.get(traceId);
    if (acc) {
      acc.count++;
      acc.size += heap.selfSize(k);
    } else perTrace.set(traceId, { count: 1, size: heap.selfSize(k) });
  }
  const out: Array<{ traceback: Traceback; count: number; size: number }> = [];
  for (const [traceId, acc] of perTrace) {
    const traceback = siteFor(heap, traceId, builder, siteOf);
    if (traceback) out.push({ traceback, ...acc });
  }
  return out;
}

/** Fills in the leaked objects of a finding: those new since the warm-up, still alive at the end. */
function explain(finding: LeakFinding, heap: HeapSnapshot, traces: Int32Array, siteOf: Map<number, Traceback | null>, old: IdSet, sample: number): void {
  const code = heap.nodeTypeIds.code;
  const site = siteKey(finding.traceback);
  const leaked: number[] = [];
  const byClass = new Map<string, { count: number; size: number }>();
  for (let k = 0; k < heap.nodeCount; k++) {
    const traceId = traces[k];
    if (traceId === 0 || heap.nodeTypeId(k) === code || old.has(heap.nodeId(k))) continue;
    const traceback = siteOf.get(traceId);
    if (!traceback || siteKey(traceback) !== site) continue;
    leaked.push(k);
    finding.leakedBytes += heap.selfSize(k);
    const name = heap.className(k).trim();
    const acc = byClass.get(name) ?? { count: 0, size: 0 };
    acc.count++;
    acc.size += heap.selfSize(k);
    byClass.set(name, acc);
  }
  finding.leakedObjects = leaked.length;
  finding.constructors = [...byClass].map(([name, acc]) => ({ name, ...acc })).sort((a, b) => b.count - a.count || b.size - a.size);
  finding.retainers = clusterRetainers(heap, pickSample(heap, leaked, sample), old);
}

async function findSampled(fn: LeakScenario, o: ResolvedLeakOptions): Promise<Found> {
  const series = new SiteSeries();
  try {
    start({ mode: 'sampling', frames: o.frames, samplingInterval: o.samplingInterval });
    await warmUp(fn, o);
    const measure = () => {
      // Sampled objects stay in the profile until a GC frees them. The protocol's
      // collectGarbage answers asynchronously; a discarded heap snapshot GCs synchronously.
      streamHeapSnapshot(() => {});
      series.add(takeSnapshot().traces.map((t) => ({ traceback: t.traceback, count: t.count, size: t.size })));
    };
    measure();
    for (let i = 0; i < o.iterations; i++) {
      await fn(o.warmup + i);
      measure();
    }
  } finally {
    stop();
  }
  const findings: LeakFinding[] = [];
  for (const { traceback, counts, sizes } of series.entries()) {
    const g = grows(counts, sizes, o);
    if (g.leaks) findings.push(newFinding(traceback, counts, sizes, g));
  }
  return { findings: sortFindings(findings), sitesExamined: series.size };
}

import type { SamplingHeapProfile, SamplingProfileNode } from '../capture/sampling.js';
import { streamHeapSnapshot } from '../capture/heap-snapshot.js';
import type { HeapSnapshot } from '../heap/index.js';
import type { Traceback } from '../model/index.js';
import { TracebackBuilder, filenameOf, isInternalFrame, isLibraryFrame, type RawFrame } from '../tracer/frames.js';
import { isTracing } from '../tracer/tracer.js';
import { TraceSession, sourceMaps } from '../tracer/session.js';
import { siteFrames } from '../tracer/from-heap.js';
import { measureGrowth, type Growth } from './growth.js';
import { resolveLeakOptions, type FindLeaksOptions, type ResolvedLeakOptions } from './options.js';
import { clusterRetainers, pickSample, type RetainerCluster } from './retainers.js';
import { SiteSeries, siteKey } from './series.js';
import { TraceMemo, type OldObjects } from './sites.js';

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
  for (let i = 0; i < o.warmup; i++) {
    o.onProgress('warm-up', i + 1, o.warmup);
    await fn(i);
  }
}

function grows(counts: number[], sizes: number[], o: ResolvedLeakOptions) {
  const countGrowth = measureGrowth(counts, o.minObjectsPerIteration);
  const sizeGrowth = measureGrowth(sizes, o.minBytesPerIteration);
  return { countGrowth, sizeGrowth, leaks: countGrowth.steady || sizeGrowth.steady };
}

// Every allocation is sampled at a 1-byte interval: V8 weighs a sample of
// s bytes by 1/(1 - exp(-s)), which rounds to 1, so live counts are exact.
const EVERY_ALLOCATION = 1;

/**
 * Exact mode. Live counts per site come from V8's sampling profiler at a
 * 1-byte interval (exact, and cheap to read: a forced GC and the live
 * samples, no heap snapshot), one reading per iteration. The allocation
 * tracker runs alongside only to explain the findings: one heap snapshot at
 * the end carries the allocation stacks, constructors and retainer paths.
 */
async function findExact(fn: LeakScenario, o: ResolvedLeakOptions): Promise<Found> {
  // A scenario that never settles must not leave the process hanging on the tracker: the session stops when idle.
  let counting: TraceSession | null = null;
  const tracking = new TraceSession({ mode: 'exact', samplingInterval: EVERY_ALLOCATION, onIdle: () => counting?.stop() });
  const builder = new TracebackBuilder({ limit: o.frames, internalFrames: false, sourceMaps });
  const series = new SiteSeries();
  try {
    counting = new TraceSession({ mode: 'sampling', samplingInterval: EVERY_ALLOCATION });
    const sites = new SampledSites(builder);
    await warmUp(fn, o);
    const oldUpTo = await tracking.objectIdBoundary();
    series.add(sites.live(counting.profile()));
    for (let i = 0; i < o.iterations; i++) {
      o.onProgress('iteration', i + 1, o.iterations);
      await fn(o.warmup + i);
      series.add(sites.live(counting.profile()));
    }
    counting.halt();
    const findings: LeakFinding[] = [];
    for (const { traceback, counts, sizes } of series.entries()) {
      const g = grows(counts, sizes, o);
      if (g.leaks) findings.push(newFinding(traceback, counts, sizes, g));
    }
    if (findings.length > 0) {
      o.onProgress('explain', 1, 1);
      const heap = tracking.heap(true);
      const traces = new TraceMemo().traces(heap);
      const siteOf = new Map<number, Traceback | null>();
      for (let k = 0; k < heap.nodeCount; k++) if (traces[k] !== 0) siteFor(heap, traces[k], builder, siteOf);
      const old: OldObjects = { has: (id) => id <= oldUpTo };
      for (const finding of findings) explain(finding, heap, traces, siteOf, old, o.sample);
    }
    return { findings: sortFindings(findings), sitesExamined: series.size };
  } finally {
    counting?.stop();
    tracking.stop();
  }
}

/** Live objects per site from the samples of a 1-byte-interval profile; a sample is one object. */
class SampledSites {
  private readonly siteOfNode = new Map<number, Traceback | null>();

  constructor(private readonly builder: TracebackBuilder) {}

  live(profile: SamplingHeapProfile): Array<{ traceback: Traceback; count: number; size: number }> {
    const perNode = new Map<number, { count: number; size: number }>();
    for (const sample of profile.samples) {
      const acc = perNode.get(sample.nodeId);
      if (acc) {
        acc.count++;
        acc.size += sample.size;
      } else perNode.set(sample.nodeId, { count: 1, size: sample.size });
    }
    const missing = [...perNode.keys()].some((id) => !this.siteOfNode.has(id));
    if (missing) this.resolve(profile.head);
    const out: Array<{ traceback: Traceback; count: number; size: number }> = [];
    for (const [nodeId, acc] of perNode) {
      const traceback = this.siteOfNode.get(nodeId);
      if (traceback) out.push({ traceback, ...acc });
    }
    return out;
  }

  /** Tracebacks of the profile's nodes; node ids are stable for one sampling session. */
  private resolve(root: SamplingProfileNode): void {
    const stack: Array<{ node: SamplingProfileNode; frames: RawFrame[] }> = [{ node: root, frames: [] }];
    while (stack.length > 0) {
      const { node, frames } = stack.pop()!;
      if (!this.siteOfNode.has(node.id) && frames.length > 0) {
        this.siteOfNode.set(node.id, this.builder.build(innerFrames(frames)));
      }
      for (const child of node.children) {
        const cf = child.callFrame;
        stack.push({ node: child, frames: [{ functionName: cf.functionName, url: cf.url, line: cf.lineNumber + 1, column: cf.columnNumber + 1 }, ...frames] });
      }
    }
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
function explain(finding: LeakFinding, heap: HeapSnapshot, traces: Int32Array, siteOf: Map<number, Traceback | null>, old: OldObjects, sample: number): void {
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
  const session = new TraceSession({ mode: 'sampling', samplingInterval: o.samplingInterval });
  const builder = new TracebackBuilder({ limit: o.frames, internalFrames: false, sourceMaps });
  try {
    await warmUp(fn, o);
    const measure = () => {
      // Sampled objects stay in the profile until a GC frees them. The protocol's
      // collectGarbage answers asynchronously; a discarded heap snapshot GCs synchronously.
      streamHeapSnapshot(() => {});
      series.add(session.traces(builder).traces.map((t) => ({ traceback: t.traceback, count: t.count, size: t.size })));
    };
    measure();
    for (let i = 0; i < o.iterations; i++) {
      o.onProgress('iteration', i + 1, o.iterations);
      await fn(o.warmup + i);
      measure();
    }
  } finally {
    session.stop();
  }
  const findings: LeakFinding[] = [];
  for (const { traceback, counts, sizes } of series.entries()) {
    const g = grows(counts, sizes, o);
    if (g.leaks) findings.push(newFinding(traceback, counts, sizes, g));
  }
  return { findings: sortFindings(findings), sitesExamined: series.size };
}

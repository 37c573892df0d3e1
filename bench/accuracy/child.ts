/**
 * One corpus program in one mode, in this fresh process:
 *
 *   node --expose-gc [V8 flags] dist/bench/accuracy/child.js PROGRAM MODE N
 *
 * Starts tracing, takes the "before" snapshot, imports the program (after
 * start(), so that line mode instruments it) and runs it, takes the "after"
 * snapshot, stops, then measures the truth from a heap snapshot. Prints one
 * JSON line (a {@link ChildResult}).
 */
import { getHeapStatistics } from 'node:v8';
import { performance } from 'node:perf_hooks';
import * as tracemalloc from '../../src/index.js';
import { liveHeap } from '../../src/tracer/live-heap.js';
import { AccuracyTruthRoots, measureTruth, type Truth } from './truth.js';

export type Mode = 'sampling' | 'exact' | 'lines';

/** A statistic of `after.compareTo(before, 'lineno')` at a frame of the program's file. */
export interface ReportedStat {
  line: number;
  column: number;
  fn: string;
  atLine: boolean;
  size: number;
  /** Variance of the size difference; null when exact. */
  variance: number | null;
  count: number;
}

export interface ChildResult {
  node: string;
  /** `process.versions.v8`: V8 14 copies Map keys (sites.ts, @key). */
  v8: string;
  /** Heap growth over the program: used heap after forced GCs, after minus before. */
  growth: number;
  /** Statistics at the program's own file (its .ts source). */
  stats: ReportedStat[];
  /** Sum of all other statistics (Node's internals, `<unknown>`, the harness). */
  elsewhere: number;
  /** Variance of the sum of every statistic; null when exact. */
  totalVariance: number | null;
  sites: Record<string, Truth>;
  stores: Record<string, Truth>;
  unownedRoots: number;
  ms: { run: number; snapshot: number; truth: number };
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** Used heap bytes once collections stop freeing more (finalizers and weak callbacks run in later tasks). */
async function usedAfterGc(): Promise<number> {
  let used = Infinity;
  for (let round = 0; round < 5; round++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
    const now = getHeapStatistics().used_heap_size;
    if (now > used * 0.999) return Math.min(now, used);
    used = now;
  }
  return used;
}

async function main(): Promise<void> {
  const [program, mode, nText] = process.argv.slice(2) as [string, Mode, string];
  const n = Number(nText);
  const url = new URL(`./corpus/${program}.js`, import.meta.url);
  const source = new URL(`../../../bench/accuracy/corpus/${program}.ts`, import.meta.url).pathname;
  tracemalloc.start(mode === 'exact' ? { mode: 'exact' } : mode === 'lines' ? { lines: true } : {});
  // Before the import: a program may do its work in its module body.
  const before = tracemalloc.takeSnapshot();
  const used0 = await usedAfterGc();
  const t0 = performance.now();
  process.env.ACCURACY_N = String(n);
  const mod = (await import(url.href)) as {
    run?: (n: number) => unknown;
    kept: Record<string, Iterable<unknown> | (() => Iterable<unknown>)>;
    grown: Record<string, object>;
  };
  if (mod.run) await mod.run(n);
  const runMs = performance.now() - t0;
  const used1 = await usedAfterGc();
  const t1 = performance.now();
  const after = tracemalloc.takeSnapshot();
  const snapshotMs = performance.now() - t1;
  const stats: ReportedStat[] = [];
  let elsewhere = 0;
  let totalVariance: number | null = null;
  for (const s of after.compareTo(before, 'lineno')) {
    if (s.estimate) totalVariance = (totalVariance ?? 0) + s.estimate.sizeDiffVariance;
    const f = s.traceback.mostRecent;
    if (f.filename !== source) {
      elsewhere += s.sizeDiff;
      continue;
    }
    stats.push({
      line: f.lineno,
      column: f.column,
      fn: f.functionName,
      atLine: f.atLine,
      size: s.sizeDiff,
      variance: s.estimate ? s.estimate.sizeDiffVariance : null,
      count: s.countDiff,
    });
  }
  tracemalloc.stop();

  const t2 = performance.now();
  const sites: Record<string, unknown[]> = {};
  for (const [name, v] of Object.entries(mod.kept)) sites[name] = Array.from(typeof v === 'function' ? v() : v);
  const roots = new AccuracyTruthRoots(sites, mod.grown);
  const truth = measureTruth(liveHeap());
  const truthMs = performance.now() - t2;
  const result: ChildResult = {
    node: process.version,
    v8: process.versions.v8,
    growth: used1 - used0,
    stats,
    elsewhere,
    totalVariance,
    sites: truth.sites,
    stores: truth.stores,
    unownedRoots: truth.unownedRoots,
    ms: { run: runMs, snapshot: snapshotMs, truth: truthMs },
  };
  // Keep the roots alive through the heap snapshot above.
  if (roots.sites !== sites) throw new Error('unreachable');
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();

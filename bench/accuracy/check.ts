/**
 * The reusable core of bench/accuracy: run one corpus program in one mode in
 * a fresh child process and score what tracemalloc reported against the
 * program's truth (see truth.ts for the rule, sites.ts for the markers).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildResult, Mode } from './child.js';
import { readProgram, type FunctionInfo, type ProgramSource, type SiteInfo } from './sites.js';

export type { Mode } from './child.js';
export const MODES: readonly Mode[] = ['sampling', 'exact', 'lines'];

/** V8 flags that turn off inlining, the comparison run (`--no-inlining`). */
export const NO_INLINING = ['--no-turbo-inlining', '--no-maglev-inlining'];

/**
 * A corpus program and its size. `n` gives sites of several MB, so that a
 * 64 KiB sampling interval yields bounds of ±10–25%; `exactN` keeps exact
 * mode's heap moderate (V8's tracker is slow on large heaps, and on Node 20
 * its snapshot stalls beyond about 40k live objects) while the loops still
 * run long enough for V8 to optimize them.
 */
export interface ProgramSpec {
  name: string;
  n: number;
  exactN: number;
}

export const PROGRAMS: readonly ProgramSpec[] = [
  { name: 'inlined-records', n: 160_000, exactN: 24_000 },
  { name: 'toplevel-loop', n: 100_000, exactN: 8_000 },
  { name: 'closures', n: 40_000, exactN: 4_000 },
  { name: 'classes', n: 120_000, exactN: 12_000 },
  { name: 'async-pipeline', n: 40_000, exactN: 4_000 },
  { name: 'map-callbacks', n: 240_000, exactN: 24_000 },
  { name: 'json-parse', n: 40_000, exactN: 4_000 },
  { name: 'string-building', n: 80_000, exactN: 8_000 },
  { name: 'map-cache', n: 30_000, exactN: 2_500 },
  { name: 'service', n: 60_000, exactN: 6_000 },
];

/** Figures of one function (function-level scoring) or one marked site (line mode's lines). */
export interface Figure {
  /** Function name, or `site NAME` for a line-mode site. */
  name: string;
  /** Marked lines (line mode), or the function's start line. */
  lines: number[];
  /** True bytes kept, from the heap. */
  truth: number;
  truthObjects: number;
  /** Bytes tracemalloc reported at the right place. */
  reported: number;
  /** 95% bounds of `reported`; null when exact. */
  low: number | null;
  high: number | null;
  /** Whether the bounds cover the truth; null when exact. */
  covered: boolean | null;
  /** Bytes counted as right: all of the truth when the bounds cover it, else min(reported, truth). */
  right: number;
}

/** One program in one mode, scored. */
export interface ProgramResult {
  program: string;
  mode: Mode;
  node: string;
  flags: string[];
  n: number;
  /** Per function that holds a site or a store. */
  functions: Figure[];
  /** Line mode: per `@site` (stores have no line; see README). Empty otherwise. */
  lineSites: Figure[];
  /** Sum of the truths of all sites and stores. */
  truth: number;
  /** Share of the truth on the right function (0..1). */
  rightFunction: number;
  /** Line mode: share of the sites' truth on the right line; null otherwise. */
  rightLine: number | null;
  /** Units whose bounds cover the truth, and units with bounds (functions; line mode: sites). */
  covered: number;
  bounded: number;
  /** Sum of every statistic of the snapshot diff, its variance (null when exact), and the heap's growth. */
  reportedTotal: number;
  totalVariance: number | null;
  growth: number;
  /** Where the most bytes landed beyond a function's truth (another function, or other files). */
  misplaced: { where: string; bytes: number } | null;
  ms: ChildResult['ms'];
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const SOURCE_DIR = fileURLToPath(new URL('../../../bench/accuracy/corpus/', import.meta.url));
const Z_95 = 1.96;

/** Options of {@link runProgram}. */
export interface RunOptions {
  /** Node binary (default: this one). */
  node?: string;
  /** Extra V8 flags for the child, e.g. {@link NO_INLINING}. */
  flags?: string[];
  /** Program size (default: the spec's n, or exactN in exact mode). */
  n?: number;
  /** Kill the child after this long (default 180 s). */
  timeoutMs?: number;
}

/** Run `program` in `mode` in a fresh child process and score it. Throws when the child fails. */
export function runProgram(program: string, mode: Mode, options: RunOptions = {}): ProgramResult {
  const spec = PROGRAMS.find((p) => p.name === program);
  if (!spec) throw new Error(`no corpus program ${program}`);
  const n = options.n ?? (mode === 'exact' ? spec.exactN : spec.n);
  const flags = options.flags ?? [];
  const run = spawnSync(options.node ?? process.execPath, ['--expose-gc', ...flags, CHILD, program, mode, String(n)], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 180_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) {
    const why = run.error ? run.error.message : run.signal ? `killed by ${run.signal}` : `exit ${run.status}`;
    throw new Error(`${program}/${mode} failed (${why}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const child = JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildResult;
  return scoreProgram(readProgram(`${SOURCE_DIR}${program}.ts`), child, { program, mode, flags, n });
}

function figure(name: string, lines: number[], truth: number, truthObjects: number, reported: number, variance: number | null): Figure {
  const half = variance === null ? null : Z_95 * Math.sqrt(variance);
  const low = half === null ? null : reported - half;
  const high = half === null ? null : reported + half;
  const covered = half === null ? null : low! <= truth && truth <= high!;
  const right = covered ? truth : Math.min(Math.max(reported, 0), truth);
  return { name, lines, truth, truthObjects, reported, low, high, covered, right };
}

/** True for V8 14 and later (Node 26), which copies a string when a Map or Set first takes it as a key. */
export function copiesMapKeys(v8: string): boolean {
  return Number(v8.split('.')[0]) >= 14;
}

/** Score a child's report against the program's truth. Pure, for tests. */
export function scoreProgram(
  source: ProgramSource,
  child: ChildResult,
  run: { program: string; mode: Mode; flags: string[]; n: number },
): ProgramResult {
  const truthOf = (kind: 'site' | 'store', name: string) => {
    const t = (kind === 'site' ? child.sites : child.stores)[name];
    if (!t) throw new Error(`${run.program}: @${kind} ${name} is marked but not listed in ${kind === 'site' ? 'kept' : 'grown'}`);
    return t;
  };
  for (const name of Object.keys(child.sites)) {
    if (!source.sites.some((s) => s.kind === 'site' && s.name === name)) throw new Error(`${run.program}: kept.${name} has no @site marker`);
  }
  for (const name of Object.keys(child.stores)) {
    if (!source.sites.some((s) => s.kind === 'store' && s.name === name)) throw new Error(`${run.program}: grown.${name} has no @store marker`);
  }

  // V8 14 copies a string key where a Map or Set first takes it (sites.ts, @key).
  const keyOf = new Map(copiesMapKeys(child.v8) ? source.sites.filter((s) => s.kind === 'key').map((s) => [s.name, s]) : []);
  const where = (site: SiteInfo): SiteInfo => (site.kind === 'site' ? (keyOf.get(site.name) ?? site) : site);

  // Truth and report per function.
  const perFn = new Map<FunctionInfo, { truth: number; objects: number; reported: number; variance: number | null }>();
  const slot = (fn: FunctionInfo) => {
    let s = perFn.get(fn);
    if (!s) perFn.set(fn, (s = { truth: 0, objects: 0, reported: 0, variance: null }));
    return s;
  };
  for (const site of source.sites) {
    if (site.kind === 'key') continue;
    const t = truthOf(site.kind, site.name);
    const s = slot(where(site).fn);
    s.truth += t.bytes;
    s.objects += t.objects;
  }
  for (const stat of child.stats) {
    const s = slot(source.functionAt(stat.line, stat.column, stat.atLine));
    s.reported += stat.size;
    if (stat.variance !== null) s.variance = (s.variance ?? 0) + stat.variance;
  }
  const functions: Figure[] = [];
  let misplaced: ProgramResult['misplaced'] = child.elsewhere > 0 ? { where: 'other files', bytes: child.elsewhere } : null;
  for (const [fn, s] of perFn) {
    const excess = s.reported - s.truth;
    if (excess > (misplaced?.bytes ?? 0)) misplaced = { where: fn.name, bytes: excess };
    if (s.truth > 0) functions.push(figure(fn.name, [fn.startLines[0]], s.truth, s.objects, s.reported, s.variance));
  }

  // Line mode: each site's lines.
  const lineSites: Figure[] = [];
  if (run.mode === 'lines') {
    for (const site of source.sites) {
      if (site.kind !== 'site') continue;
      let reported = 0;
      let variance: number | null = null;
      for (const stat of child.stats) {
        if (!stat.atLine || !where(site).lines.includes(stat.line)) continue;
        reported += stat.size;
        if (stat.variance !== null) variance = (variance ?? 0) + stat.variance;
      }
      const t = truthOf('site', site.name);
      lineSites.push(figure(`site ${site.name}`, site.lines, t.bytes, t.objects, reported, variance));
    }
  }

  const sum = (xs: Figure[], f: (x: Figure) => number) => xs.reduce((a, x) => a + f(x), 0);
  const truth = sum(functions, (x) => x.truth);
  const units = run.mode === 'lines' ? lineSites : functions;
  const bounded = units.filter((x) => x.covered !== null);
  return {
    program: run.program,
    mode: run.mode,
    node: child.node,
    flags: run.flags,
    n: run.n,
    functions,
    lineSites,
    truth,
    rightFunction: truth > 0 ? sum(functions, (x) => x.right) / truth : 1,
    rightLine: run.mode === 'lines' ? sum(lineSites, (x) => x.right) / Math.max(1, sum(lineSites, (x) => x.truth)) : null,
    covered: bounded.filter((x) => x.covered).length,
    bounded: bounded.length,
    reportedTotal: child.stats.reduce((a, s) => a + s.size, 0) + child.elsewhere,
    totalVariance: child.totalVariance,
    growth: child.growth,
    misplaced,
    ms: child.ms,
  };
}

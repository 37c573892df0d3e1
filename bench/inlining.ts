/**
 * What turning V8's inlining off costs a traced program. V8 charges an
 * allocation to the physical frame, so a function inlined into its caller
 * has its allocations reported as the caller's; tracing with
 * `--no-turbo-inlining --no-maglev-inlining`, set at run time and followed
 * by one deoptimisation of all optimised code (a precise-coverage start and
 * stop), fixes that. This benchmark measures, untraced and with the JIT on:
 *
 * - the steady-state speed of real workloads with default flags, with the
 *   two flags on the command line, and with the same flags set by
 *   `v8.setFlagsFromString` when the child starts (should match the
 *   command line);
 * - one `Profiler.startPreciseCoverage` / `stopPreciseCoverage` round trip
 *   in a warmed-up process (small heap, and with 200 MB of live objects and
 *   thousands of optimised functions), and how much extra time the workload
 *   then spends before it is back at its steady speed.
 *
 * Every configuration runs in a fresh child, interleaved, `--reps` times.
 *
 *   npm run bench:inlining [-- --reps 5 --workloads alloc,express --node PATH ... --json runs.jsonl]
 *   TRACEMALLOC_NODE_BINARIES=/path/node22:/path/node24 npm run bench:inlining
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';
import { median, runChildren, type ChildResults } from './children.js';

const SELF = fileURLToPath(import.meta.url);
const NO_INLINING = ['--no-turbo-inlining', '--no-maglev-inlining'];

/** Rounds of warm-up and of timing per workload, each about 1–2 s on the 2-core machine. */
const ROUNDS: Record<string, { warm: number; timed: number }> = {
  alloc: { warm: 30, timed: 40 },
  http: { warm: 12, timed: 15 },
  express: { warm: 15, timed: 20 },
  acorn: { warm: 15, timed: 15 },
  // The compiler is large: it needs about 5 s before its rounds stop getting faster.
  tsc: { warm: 20, timed: 10 },
  json: { warm: 30, timed: 40 },
};
const LABELS: Record<string, string> = {
  alloc: 'allocation loop, 200k objects a round',
  http: 'loopback HTTP JSON, 300 requests a round',
  express: 'Express 5 app, 200 keep-alive requests a round',
  acorn: 'acorn parse + walk, 0.55 MB a round',
  tsc: 'TypeScript transpileModule, 150 kB a round',
  json: 'JSON.parse/reshape/stringify, 2.6 MB a round',
};

/** Steady-state configurations, the first being the baseline. */
const STEADY = ['default', 'no-inline-cli', 'no-inline-runtime'] as const;
/** Warm up, then set the flags and deoptimise once, as tracing would; `-big` first builds a large heap. */
const DEOPT = ['deopt-noinline', 'deopt-noinline-big'] as const;
// The large heap costs seconds to build and its switch hardly depends on the workload: one suffices.
const BIG_ON = new Set(['express']);

// ---------------------------------------------------------------- child

/** An in-process inspector call; such a session answers synchronously. */
function post(session: Session, method: string, params?: object): Record<string, unknown> {
  let result: Record<string, unknown> | undefined;
  let error: Error | null = null;
  session.post(method, params, (err, res) => {
    error = err;
    result = res as Record<string, unknown>;
  });
  if (error) throw error;
  if (result === undefined) throw new Error(`${method} did not answer synchronously`);
  return result;
}

interface ProbePoint {
  x: number;
  y: number;
  label: string;
}
function makePoint(i: number): ProbePoint {
  return { x: i, y: i + 1, label: 'p' };
}
function probeLoop(n: number, keep: ProbePoint[]): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = makePoint(i);
    keep[i & 4095] = p;
    s += p.x;
  }
  return s;
}

const probeKeep: ProbePoint[] = new Array(4096);
/** Runs the probe loop until optimised: on default flags the optimiser inlines makePoint into it. */
function warmProbe(): void {
  for (let i = 0; i < 3; i++) probeLoop(1_000_000, probeKeep);
}

/**
 * Share of sampled bytes that V8 charges to `makePoint` itself rather than
 * to its caller: near 0 when the optimiser inlined it, near 1 when not.
 * Shows whether the flags (and the deoptimisation) took effect.
 */
function calleeShare(): number {
  warmProbe();
  const s = new Session();
  s.connect();
  post(s, 'HeapProfiler.enable');
  post(s, 'HeapProfiler.startSampling', { samplingInterval: 4096 });
  probeLoop(1_000_000, probeKeep);
  const { profile } = post(s, 'HeapProfiler.stopSampling') as { profile: { head: SampleNode } };
  s.disconnect();
  const bytes = { callee: 0, caller: 0 };
  const walk = (n: SampleNode): void => {
    if (n.callFrame.functionName === 'makePoint') bytes.callee += n.selfSize;
    else if (n.callFrame.functionName === 'probeLoop') bytes.caller += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head);
  return bytes.callee / Math.max(1, bytes.callee + bytes.caller);
}
interface SampleNode {
  callFrame: { functionName: string };
  selfSize: number;
  children: SampleNode[];
}

/** Wall and CPU milliseconds of each round. */
async function timeRounds(round: () => unknown, n: number): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await round();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * About 200 MB of live objects, and 3000 distinct functions each called
 * often enough to be optimised, so that the deoptimisation has a large heap
 * to walk and much optimised code to throw away.
 */
function buildBigHeap(): unknown[] {
  const keep: unknown[] = [];
  const fns: Array<(o: { a: number; b: string }) => number> = [];
  for (let i = 0; i < 3000; i++) {
    // Distinct source text: a distinct function for V8, like a large code base's.
    fns.push(new Function('o', `let s = 0; for (let k = 0; k < 8; k++) s += o.a * ${i} + o.b.length + k; return s;`) as (o: { a: number; b: string }) => number);
  }
  let acc = 0;
  for (const f of fns) for (let j = 0; j < 3000; j++) acc += f({ a: j, b: 'xy' });
  keep.push(fns, acc);
  for (let i = 0; process.memoryUsage().heapUsed < 200e6 + 20e6; i++) {
    const block = new Array(10_000);
    for (let j = 0; j < block.length; j++) block[j] = { id: i * 10_000 + j, name: `record-${i}-${j}`, tags: [j & 7, j & 3], meta: { at: j * 1.5, ok: (j & 1) === 0 } };
    keep.push(block);
  }
  return keep;
}

/** Deoptimisation children run with --expose-gc. */
function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Bytecode flushing: compile 2000 functions, run each once, optionally do
 * the coverage switch, then collect garbage repeatedly; prints how many
 * functions V8 flushed. Run with --stress-flush-code --trace-flush-code
 * --expose-gc, so that flushing does not wait for functions to age.
 */
function flushCheck(doSwitch: boolean): void {
  const fns: Array<(x: number) => number> = [];
  for (let i = 0; i < 2000; i++) fns.push(new Function('x', `return x + ${i};`) as (x: number) => number);
  for (const f of fns) f(1);
  if (doSwitch) {
    const s = new Session();
    s.connect();
    post(s, 'Profiler.enable');
    post(s, 'Profiler.startPreciseCoverage', { callCount: false, detailed: false });
    post(s, 'Profiler.stopPreciseCoverage');
    post(s, 'Profiler.disable');
    s.disconnect();
  }
  for (let i = 0; i < 10; i++) gc();
}

/** Functions flushed without and with the switch, from V8's trace. */
function flushCounts(node: string): { without: number; with: number } {
  const count = (mode: string): number => {
    const run = spawnSync(node, ['--expose-gc', '--stress-flush-code', '--trace-flush-code', SELF, '--flush-check', mode], { encoding: 'utf8', timeout: 60_000 });
    return [...run.stdout.matchAll(/(\d+) flushed SharedFunctionInfo/g)].reduce((n, m) => n + Number(m[1]), 0);
  };
  return { without: count('none'), with: count('switch') };
}

async function child(config: string, workloadName: string): Promise<void> {
  // Before anything is compiled, as a program would do it at its first line.
  if (config === 'no-inline-runtime') v8.setFlagsFromString(NO_INLINING.join(' '));
  const { ROUND_WORKLOADS } = await import('./real-workloads.js');
  const workload = await ROUND_WORKLOADS[workloadName as keyof typeof ROUND_WORKLOADS]();
  const rounds = ROUNDS[workloadName];
  const round = () => workload.round();
  const out: Record<string, number> = {};
  await timeRounds(round, rounds.warm);
  if ((STEADY as readonly string[]).includes(config)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { wall } = await timeRounds(round, rounds.timed);
    out.ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    out.cpuMs = (c.user + c.system) / 1000;
    out.roundMs = median(wall);
    await workload.close();
    out.calleeShare = calleeShare();
  } else {
    let big: unknown[] = [];
    if (config === 'deopt-noinline-big') {
      big = buildBigHeap();
      // Let the collector and the compiler threads settle, then re-warm whatever the build disturbed.
      await timeRounds(round, Math.ceil(rounds.warm / 2));
    }
    // Optimised with makePoint inlined, so that the probe after the switch shows whether that code was thrown away.
    warmProbe();
    const before = await timeRounds(round, rounds.timed);
    // The switch gives every compiled function a feedback vector and source positions: what stays is its memory cost.
    gc();
    const used0 = v8.getHeapStatistics().used_heap_size;
    out.heapMB = used0 / 1e6;
    // What tracing's start does: the flags, then one switch into precise coverage and out.
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    v8.setFlagsFromString(NO_INLINING.join(' '));
    const s = new Session();
    s.connect();
    post(s, 'Profiler.enable');
    const t2 = performance.now();
    post(s, 'Profiler.startPreciseCoverage', { callCount: false, detailed: false });
    const t3 = performance.now();
    post(s, 'Profiler.stopPreciseCoverage');
    const t4 = performance.now();
    post(s, 'Profiler.disable');
    s.disconnect();
    const t5 = performance.now();
    const c5 = process.cpuUsage(c0);
    // CPU time too: on a loaded machine the wall time of a 20 ms switch includes waiting for a core.
    out.totalCpuMs = (c5.user + c5.system) / 1000;
    out.startMs = t3 - t2;
    out.stopMs = t4 - t3;
    out.totalMs = t5 - t0;
    gc();
    out.heapGrowthMB = (v8.getHeapStatistics().used_heap_size - used0) / 1e6;
    // Enough rounds to be back at a steady speed; the second half gives that speed.
    const after = await timeRounds(round, rounds.timed * 2);
    await workload.close();
    const half = Math.floor(after.wall.length / 2);
    out.steadyBeforeMs = median(before.wall);
    out.steadyAfterMs = median(after.wall.slice(half));
    out.firstAfterMs = after.wall[0];
    // Time spent above the new steady speed over the rounds after the switch.
    out.excessMs = sum(after.wall) - after.wall.length * out.steadyAfterMs;
    out.excessCpuMs = sum(after.cpu) - after.cpu.length * median(after.cpu.slice(half));
    out.kept = big.length;
    out.calleeShare = calleeShare();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ---------------------------------------------------------------- parent

const f0 = (x: number): string => x.toFixed(0);
const f2 = (x: number): string => x.toFixed(2);

/** Ratios of round r of `config` to round r of the baseline: the pairs ran side by side. */
function pairedRatios(res: ChildResults, workload: string, config: string, field: string): number[] {
  const base = res.all(`${workload}/default`);
  return res.all(`${workload}/${config}`).map((r, i) => r[field] / base[i][field]);
}

function report(node: string, reps: number, workloads: string[], res: ChildResults): void {
  const version = spawnSync(node, ['-p', '`${process.version} (V8 ${process.versions.v8})`'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\nnode ${version}: ${reps} fresh children per configuration, interleaved; medians,`);
  console.log('ratio = median / median of default, [min–max] of the ratios of runs side by side;');
  console.log('"callee share": bytes V8 charges to an inlinable allocating function itself (0 = inlined)\n');
  console.log('best CPU: fastest run / fastest default run, CLI and runtime flags (contention only adds time)');
  const cols = ['workload', 'default wall', 'CPU', 'spread', 'CLI flags wall', 'CPU', 'runtime flags wall', 'CPU', 'best CPU c/r', 'callee share d/c/r'];
  console.log(cols.join(' | '));
  for (const w of workloads) {
    const key = (c: string) => `${w}/${c}`;
    const base = res(key('default'));
    const baseCpu = res(key('default'), 'cpuMs');
    const baseRuns = res.all(key('default')).map((r) => r.cpuMs);
    const cells = [w, `${f0(base)} ms`, `${f0(baseCpu)} ms`, `CPU ±${f0((50 * (Math.max(...baseRuns) - Math.min(...baseRuns))) / baseCpu)}%`];
    for (const c of STEADY.slice(1)) {
      for (const field of ['ms', 'cpuMs']) {
        const paired = pairedRatios(res, w, c, field);
        cells.push(`${f2(res(key(c), field) / res(key('default'), field))}x [${f2(Math.min(...paired))}–${f2(Math.max(...paired))}]`);
      }
    }
    const best = (c: string) => Math.min(...res.all(key(c)).map((r) => r.cpuMs));
    cells.push(STEADY.slice(1).map((c) => `${f2(best(c) / best('default'))}x`).join('/'));
    cells.push(STEADY.map((c) => f2(res(key(c), 'calleeShare'))).join('/'));
    console.log(cells.join(' | '));
  }
  console.log('\nflags + precise-coverage start/stop in a warmed-up process, then the workload until steady again;');
  console.log('heap: live heap after a GC; excess: time above the new steady speed, summed over the rounds after the switch');
  console.log('workload | heap | start | stop | whole switch | heap growth | first round after / steady | excess wall, CPU | steady after / before | callee share after');
  for (const w of workloads) {
    for (const c of DEOPT) {
      const key = `${w}/${c}`;
      if (res.all(key).length === 0) continue;
      const runs = res.all(key);
      const total = runs.map((r) => r.totalMs);
      console.log(
        [
          w + (c.endsWith('-big') ? ' (big heap)' : ''),
          `${f0(res(key, 'heapMB'))} MB`,
          `${f2(res(key, 'startMs'))} ms`,
          `${f2(res(key, 'stopMs'))} ms`,
          `${f2(res(key, 'totalMs'))} ms [${f2(Math.min(...total))}–${f2(Math.max(...total))}], CPU ${f2(res(key, 'totalCpuMs'))} ms`,
          `${f2(res(key, 'heapGrowthMB'))} MB`,
          `${f2(median(runs.map((r) => r.firstAfterMs / r.steadyAfterMs)))}x`,
          `${f0(res(key, 'excessMs'))} ms, ${f0(res(key, 'excessCpuMs'))} ms (${f2(res(key, 'excessMs') / res(key, 'steadyAfterMs'))} rounds)`,
          `${f2(median(runs.map((r) => r.steadyAfterMs / r.steadyBeforeMs)))}x`,
          f2(res(key, 'calleeShare')),
        ].join(' | '),
      );
    }
  }
}

function parent(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const reps = Number(opt('--reps')) || 5;
  const workloads = (opt('--workloads') ?? Object.keys(ROUNDS).join(',')).split(',');
  for (const w of workloads) if (!(w in ROUNDS)) throw new Error(`unknown workload ${w}; one of ${Object.keys(ROUNDS).join(', ')}`);
  const nodes = args.flatMap((a, i) => (args[i - 1] === '--node' ? [a] : []));
  if (nodes.length === 0) nodes.push(...(process.env.TRACEMALLOC_NODE_BINARIES?.split(':').filter(Boolean) ?? [process.execPath]));
  for (const w of workloads) console.log(`${w}: ${LABELS[w]}, ${ROUNDS[w].warm} warm-up rounds, ${ROUNDS[w].timed} timed`);
  for (const node of nodes) {
    const t0 = performance.now();
    const res = runChildren(SELF, [...STEADY, ...DEOPT], workloads, reps, [], {
      execPath: node,
      argsFor: (c) => (c === 'no-inline-cli' ? NO_INLINING : c.startsWith('deopt') ? ['--expose-gc'] : []),
      timeoutMs: 180_000,
      runs: (c, w) => c !== 'deopt-noinline-big' || BIG_ON.has(w),
    });
    report(node, reps, workloads, res);
    const flushed = flushCounts(node);
    console.log(`\nbytecode flushing (--stress-flush-code, 2000 functions run once): ${flushed.without} flushed without the switch, ${flushed.with} after it`);
    console.log(`(${f0((performance.now() - t0) / 1000)} s)`);
    const json = opt('--json');
    if (json !== undefined) {
      // Every run's figures, for other summaries than the table's.
      const runs = Object.fromEntries(workloads.flatMap((w) => [...STEADY, ...DEOPT].map((c) => [`${w}/${c}`, res.all(`${w}/${c}`)])));
      appendFileSync(json, JSON.stringify({ node, reps, runs, flushed }) + '\n');
    }
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--flush-check') flushCheck(process.argv[3] === 'switch');
else parent();

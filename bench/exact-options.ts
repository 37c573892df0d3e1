/**
 * Designs for exact mode, measured side by side (issue 15): how much each
 * slows the two overhead workloads, and whether a program that keeps
 * 1,000,000 objects (about 200 MB) still exits, and how fast.
 *
 * - `inspector-tracker`: what `start({ mode: 'exact' })` does, V8's
 *   allocation tracker through the inspector, whose HeapProfiler agent then
 *   runs a full GC and heap walk every 50 ms.
 * - `launch-tracker`: the same tracker started by `node --track-heap-objects`,
 *   with no inspector timer.
 * - `sampling-1`: V8's sampling heap profiler at a 1-byte interval, which
 *   samples every allocation (exact counts, no timer).
 * - `start-exact`, `start-exact-launch` (kept-objects program only):
 *   tracemalloc's `start({ mode: 'exact' })` on the first two.
 *
 *   node dist/bench/exact-options.js [--reps 3] [--keep 1000000] [--timeout 60]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector';
import { setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { allocationHeavy, httpService } from './workloads.js';
import { median } from './children.js';
import * as tracemalloc from '../src/index.js';

const SELF = fileURLToPath(import.meta.url);
const CONFIGS = ['untraced', 'inspector-tracker', 'launch-tracker', 'sampling-1'] as const;
// tracemalloc's exact mode itself, at run time and on the tracker from launch: only on the kept-objects program.
const LIBRARY = ['start-exact', 'start-exact-launch'] as const;
type Config = (typeof CONFIGS)[number] | (typeof LIBRARY)[number];

function post(s: Session, method: string, params?: object): unknown {
  let out: unknown;
  let error: Error | null = null;
  s.post(method, params, (err, res) => {
    error = err;
    out = res;
  });
  if (error) throw error;
  return out;
}

function startCapture(config: Config): Session | null {
  if (config === 'start-exact' || config === 'start-exact-launch') {
    tracemalloc.start({ mode: 'exact' });
    return null;
  }
  if (config === 'untraced' || config === 'launch-tracker') return null;
  const s = new Session();
  s.connect();
  post(s, 'HeapProfiler.enable');
  if (config === 'inspector-tracker') {
    setFlagsFromString('--no-compact');
    post(s, 'HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  } else {
    setFlagsFromString('--no-turbo-allocation-folding');
    post(s, 'HeapProfiler.startSampling', { samplingInterval: 1, stackDepth: 128 });
  }
  return s;
}

class Kept {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly tags: number[],
  ) {}
}

/** Child: one workload under one configuration; prints one JSON line. */
async function child(config: Config, workload: string, keep: number): Promise<void> {
  if (workload === 'keep') {
    // The session is left connected: the program simply ends, as a user's would.
    startCapture(config);
    const kept: Kept[] = [];
    for (let i = 0; i < keep; i++) kept.push(new Kept(i, `k${i}`, [i & 7]));
    (globalThis as { kept?: Kept[] }).kept = kept;
    process.stdout.write(JSON.stringify({ rssMax: process.resourceUsage().maxRSS * 1024 }) + '\n');
    return;
  }
  const run = workload === 'alloc' ? async () => void allocationHeavy() : async () => void (await httpService());
  await run();
  const s = startCapture(config);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await run();
  const cpu = process.cpuUsage(cpu0);
  const out = { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
  s?.disconnect();
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

function spawnOne(config: Config, workload: string, keep: number, timeoutS: number): { wallMs: number; exited: boolean; figures: Record<string, number> } {
  const args = [...(config === 'launch-tracker' || config === 'start-exact-launch' ? ['--track-heap-objects'] : []), SELF, '--child', config, workload, String(keep)];
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: timeoutS * 1000, killSignal: 'SIGKILL' });
  const wallMs = performance.now() - t0;
  const line = run.stdout.trim().split('\n').pop();
  return { wallMs, exited: run.signal === null && run.status === 0, figures: line ? (JSON.parse(line) as Record<string, number>) : {} };
}

function parent(): void {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, keep: { type: 'string', default: '1000000' }, timeout: { type: 'string', default: '60' } }, args: process.argv.slice(2) });
  const reps = Number(values.reps);
  const keep = Number(values.keep);
  const timeoutS = Number(values.timeout);
  console.log(`node ${process.version}, ${reps} runs per configuration in rotating order, medians; ratio = traced / untraced`);
  for (const workload of ['http', 'alloc']) {
    const runs = new Map<Config, Array<Record<string, number>>>(CONFIGS.map((c) => [c, []]));
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < CONFIGS.length; i++) {
        const config = CONFIGS[(i + r) % CONFIGS.length];
        const one = spawnOne(config, workload, keep, timeoutS * 10);
        if (!one.exited) throw new Error(`${workload}/${config} did not finish`);
        runs.get(config)!.push(one.figures);
      }
    }
    const med = (c: Config, f: string) => median(runs.get(c)!.map((x) => x[f]));
    console.log(`\n${workload === 'http' ? 'loopback HTTP, 3000 JSON requests' : 'allocation loop, 2M objects'}: untraced ${med('untraced', 'ms').toFixed(0)} ms wall, ${med('untraced', 'cpuMs').toFixed(0)} ms CPU`);
    for (const c of CONFIGS.slice(1)) {
      console.log(`  ${c.padEnd(18)} wall ${(med(c, 'ms') / med('untraced', 'ms')).toFixed(2)}x  CPU ${(med(c, 'cpuMs') / med('untraced', 'cpuMs')).toFixed(2)}x`);
    }
  }
  console.log(`\nprogram keeping ${keep.toLocaleString('en')} objects then ending (one run each, killed after ${timeoutS} s):`);
  const base = spawnOne('untraced', 'keep', keep, timeoutS);
  console.log(`  ${'untraced'.padEnd(18)} exits in ${(base.wallMs / 1000).toFixed(2)} s, peak RSS ${(base.figures.rssMax / 1e6).toFixed(0)} MB`);
  for (const c of [...CONFIGS.slice(1), ...LIBRARY]) {
    const one = spawnOne(c, 'keep', keep, timeoutS);
    const extra = one.figures.rssMax ? `, peak RSS ${(one.figures.rssMax / 1e6).toFixed(0)} MB (+${((one.figures.rssMax - base.figures.rssMax) / keep).toFixed(0)} B per kept object)` : '';
    const verdict = one.exited ? `exits in ${(one.wallMs / 1000).toFixed(2)} s (${(one.wallMs / base.wallMs).toFixed(1)}x)` : `never exited (killed at ${timeoutS} s)`;
    console.log(`  ${c.padEnd(18)} ${verdict}${extra}; target ≤ ${((2 * base.wallMs) / 1000 + 1).toFixed(2)} s`);
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Config, process.argv[4], Number(process.argv[5]));
else parent();

/**
 * Tracing overhead: the same workloads untraced, in sampling mode at several
 * intervals, in exact mode, and under V8's raw allocation tracker, each in a
 * fresh child process, interleaved and repeated; prints median ratios.
 *
 *   npm run bench:overhead [-- --reps 5 --quick --configs sampling-64,sampling-64-launch --workloads http]
 *
 * Besides the medians, each configuration's CPU ratio is also given per
 * round (its child against the untraced child of the same round, which
 * ran beside it) as the median of those paired ratios with a bootstrap 95%
 * interval: on a shared machine, load drifts between rounds, and pairing
 * cancels it. Many rounds (`--reps 21`) narrow the interval.
 *
 * `sampling-64-heaponly` is the default interval without the off-heap
 * sampler (`start({ offHeap: false })`): the difference prices it.
 * `sampling-64-launch` starts tracing before the warm-up run, as `run` and
 * `--import tracemalloc/start` do: no optimised code is discarded, so it
 * prices sampling without `start()`'s re-warm-up. `sampling-64-keep` starts
 * with `keepInlining: true`: V8's inlining stays on and no code is discarded.
 * `noinline-launch` does not trace: it only turns V8's inlining off at
 * launch, as tracing from launch does, to price that part alone.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { median, runChildren } from './children.js';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { allocationHeavy, httpService } from './workloads.js';
import * as tracemalloc from '../src/index.js';
import { startAtLaunch } from '../src/tracer/tracer.js';
import { holdNoInlining } from '../src/capture/inlining.js';

type Workload = 'alloc' | 'http';
const SELF = fileURLToPath(import.meta.url);

function rawSession(): Session {
  const s = new Session();
  s.connect();
  return s;
}

async function runWorkload(workload: Workload): Promise<void> {
  if (workload === 'alloc') allocationHeavy();
  else await httpService();
}

/** Child: warm up untraced, start the configuration, time two runs of the workload. */
async function child(config: string, workload: Workload): Promise<void> {
  if (config === 'sampling-64-launch') startAtLaunch({ mode: 'sampling', samplingInterval: 64 * 1024 });
  // What tracing from launch changes in V8 without tracing: inlining off.
  if (config === 'noinline-launch') holdNoInlining(true);
  await runWorkload(workload);
  let raw: Session | null = null;
  if (config === 'sampling-64-launch' || config === 'noinline-launch') {
    // Set at launch.
  } else if (config.startsWith('sampling-')) {
    // `-heaponly`: without the off-heap sampler (start({ offHeap: false })), to price it in the same run.
    // Variants combine: `sampling-64-heaponly-keep`.
    const [kib, ...variants] = config.slice(9).split('-');
    tracemalloc.start({ mode: 'sampling', samplingInterval: Number(kib) * 1024, offHeap: !variants.includes('heaponly'), keepInlining: variants.includes('keep') });
  } else if (config === 'exact') {
    tracemalloc.start({ mode: 'exact' });
  } else if (config === 'v8-tracker') {
    raw = rawSession();
    raw.post('HeapProfiler.enable');
    raw.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  }
  // Two timed runs: the first pays for start() (the code V8 optimised before is
  // discarded and optimised again without inlining, docs/how-it-works.md); the
  // second is the steady state a long-running program sees.
  const timed = async (): Promise<{ ms: number; cpuMs: number }> => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await runWorkload(workload);
    const cpu = process.cpuUsage(cpu0);
    return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  const first = await timed();
  const steady = await timed();
  // CPU time is the overhead that matters for the HTTP workload, whose wall
  // time is mostly loopback latency and scheduling on a shared machine.
  const out: Record<string, number> = { ...steady, firstMs: first.ms, firstCpuMs: first.cpuMs };
  if (config === 'exact' && workload === 'alloc') {
    // Snapshot cost: tracemalloc's takeSnapshot (V8 serialisation + parse +
    // traces) against V8's serialisation alone, on the same heap; each twice,
    // alternating, keeping the second so neither pays for a first GC.
    // V8's serialisation the way tracemalloc asks for it: the inspector's chunks on Node 20,
    // writeHeapSnapshot to a file from Node 22 on, where in-process chunks come later (capture/heap-snapshot.ts).
    const s = rawSession();
    const viaFile = Number(process.versions.node.split('.')[0]) >= 22;
    const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-bench-'));
    let bytes = 0;
    s.on('HeapProfiler.addHeapSnapshotChunk', (m) => (bytes += m.params.chunk.length));
    for (let round = 0; round < 2; round++) {
      bytes = 0;
      const v0 = performance.now();
      if (viaFile) bytes = statSync(writeHeapSnapshot(join(dir, 'raw.heapsnapshot'))).size;
      else s.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      out.v8SnapshotMs = performance.now() - v0;
      const t1 = performance.now();
      tracemalloc.takeSnapshot();
      out.takeSnapshotMs = performance.now() - t1;
    }
    s.disconnect();
    rmSync(dir, { recursive: true, force: true });
    out.snapshotBytes = bytes;
  }
  tracemalloc.stop();
  raw?.disconnect();
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** A 95% interval of the median by resampling (2,000 resamples, a fixed seed so reruns print the same for the same data). */
function bootstrapMedian(values: readonly number[]): [number, number] {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const medians: number[] = [];
  for (let b = 0; b < 2000; b++) medians.push(median(values.map(() => values[Math.floor(random() * values.length)])));
  medians.sort((a, b) => a - b);
  return [medians[50], medians[1949]];
}

function parent(): void {
  const args = process.argv.slice(2);
  const reps = Number(args[args.indexOf('--reps') + 1]) || 5;
  const quick = args.includes('--quick');
  const intervals = quick ? [64] : [32, 64, 128, 256, 512];
  const all = ['untraced', ...intervals.map((k) => `sampling-${k}`), 'sampling-64-heaponly', 'sampling-64-launch', 'sampling-64-keep', 'noinline-launch', 'exact', 'v8-tracker'];
  // `--configs a,b`: only these (untraced always runs, as the baseline).
  const only = args.includes('--configs') ? new Set(args[args.indexOf('--configs') + 1].split(',')) : null;
  const configs = only ? ['untraced', ...only].filter((c, i, list) => list.indexOf(c) === i) : all;
  const workloads = (args.includes('--workloads') ? args[args.indexOf('--workloads') + 1].split(',') : ['http', 'alloc']) as Workload[];
  const med = runChildren(SELF, configs, workloads, reps, ['--expose-gc']);
  console.log(`node ${process.version}, ${reps} runs per configuration, medians; ratio = traced / untraced; steady: the second run after start(), first: the first`);
  for (const workload of workloads) {
    const base = med(`${workload}/untraced`);
    const baseCpu = med(`${workload}/untraced`, 'cpuMs');
    console.log(`\n${workload === 'http' ? 'realistic: loopback HTTP, 3000 JSON requests' : 'allocation-heavy loop, 2M objects'} — untraced ${base.toFixed(0)} ms wall, ${baseCpu.toFixed(0)} ms CPU`);
    const firstBaseCpu = med(`${workload}/untraced`, 'firstCpuMs');
    console.log(`  ${'config'.padEnd(20)} ${'wall'.padStart(8)} ${'ratio'.padStart(6)} ${'CPU'.padStart(8)} ${'ratio'.padStart(6)}   first run: CPU ratio`);
    for (const config of configs.slice(1)) {
      const ms = med(`${workload}/${config}`);
      const cpu = med(`${workload}/${config}`, 'cpuMs');
      const firstCpu = med(`${workload}/${config}`, 'firstCpuMs');
      console.log(
        `  ${config.padEnd(20)} ${ms.toFixed(0).padStart(6)}ms ${(ms / base).toFixed(2).padStart(5)}x ${cpu.toFixed(0).padStart(6)}ms ${(cpu / baseCpu).toFixed(2).padStart(5)}x   ${(firstCpu / firstBaseCpu).toFixed(2)}x`,
      );
    }
    console.log('  paired steady CPU ratio per round: median [bootstrap 95% interval]');
    const untraced = med.all(`${workload}/untraced`);
    for (const config of configs.slice(1)) {
      const ratios = med.all(`${workload}/${config}`).map((r, round) => r.cpuMs / untraced[round].cpuMs);
      const [low, high] = bootstrapMedian(ratios);
      console.log(`  ${config.padEnd(20)} ${median(ratios).toFixed(3)}x [${low.toFixed(3)} – ${high.toFixed(3)}]`);
    }
    if (!configs.includes('exact') || !configs.includes('v8-tracker')) continue;
    const exact = med(`${workload}/exact`);
    const tracker = med(`${workload}/v8-tracker`);
    console.log(`  exact / V8 allocation tracker alone: ${(exact / tracker).toFixed(2)}x wall, ${(med(`${workload}/exact`, 'cpuMs') / med(`${workload}/v8-tracker`, 'cpuMs')).toFixed(2)}x CPU`);
  }
  if (!configs.includes('exact')) return;
  const snap = med('alloc/exact', 'takeSnapshotMs');
  const v8 = med('alloc/exact', 'v8SnapshotMs');
  const mb = med('alloc/exact', 'snapshotBytes') / 1e6;
  console.log(`\nexact takeSnapshot(): ${snap.toFixed(0)} ms vs V8 serialisation alone ${v8.toFixed(0)} ms (${mb.toFixed(1)} MB): ${(snap / v8).toFixed(2)}x`);
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4] as Workload);
else parent();

/**
 * Line mode's overhead: the core benchmark's workloads (bench/workloads.ts)
 * untraced, in sampling mode (function level) and in line mode at several
 * sampling rates and traceback depths, each in a fresh child process,
 * interleaved and repeated; prints median ratios against untraced from the
 * same run, then the cost of one line-mode takeSnapshot().
 *
 *   npm run bench:lines [-- --reps 5] [--workloads http,alloc,keys]
 */
import { fileURLToPath } from 'node:url';
import { runChildren } from './children.js';
import { performance } from 'node:perf_hooks';
import * as tracemalloc from '../src/index.js';

type Workload = 'alloc' | 'http' | 'keys';
const SELF = fileURLToPath(import.meta.url);
const CONFIGS = ['untraced', 'sampling', 'lines-64', 'lines-128', 'lines-256', 'lines-64-f16', 'lines-128-f16'];

async function child(config: string, workload: Workload): Promise<void> {
  const lines = config.startsWith('lines-');
  if (lines) {
    const [, every, frames] = config.split('-');
    // Before the workload loads, so that it is instrumented.
    tracemalloc.start({ lines: { sampleEvery: Number(every) }, frames: frames ? Number(frames.slice(1)) : 1 });
  }
  const { allocationHeavy, httpService, keyedCache } = await import('./workloads.js');
  const run = async () => (workload === 'alloc' ? allocationHeavy() : workload === 'keys' ? keyedCache() : await httpService());
  await run(); // warm-up
  if (config === 'sampling') tracemalloc.start();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const out: Record<string, number> = { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  if (lines) {
    const s0 = performance.now();
    const snapshot = tracemalloc.takeSnapshot();
    out.snapshotMs = performance.now() - s0;
    out.traces = snapshot.traces.length;
  }
  tracemalloc.stop();
  process.stdout.write(JSON.stringify(out) + '\n');
}

function parent(): void {
  const args = process.argv.slice(2);
  const reps = Number(args[args.indexOf('--reps') + 1]) || 5;
  const workloads = (args.includes('--workloads') ? args[args.indexOf('--workloads') + 1].split(',') : ['http', 'alloc', 'keys']) as Workload[];
  const med = runChildren(SELF, CONFIGS, workloads, reps);
  console.log(`node ${process.version}, ${reps} runs per configuration, medians; ratio = traced / untraced`);
  const titles: Record<Workload, string> = {
    http: 'realistic: loopback HTTP, 3000 JSON requests',
    alloc: 'allocation-heavy loop, 2M objects',
    keys: 'Map cache keyed by built strings, 1M lookups',
  };
  for (const workload of workloads) {
    const base = med(`${workload}/untraced`);
    const baseCpu = med(`${workload}/untraced`, 'cpuMs');
    console.log(`\n${titles[workload]} — untraced ${base.toFixed(0)} ms wall, ${baseCpu.toFixed(0)} ms CPU`);
    console.log(`  ${'config'.padEnd(12)} ${'wall'.padStart(8)} ${'ratio'.padStart(6)} ${'CPU'.padStart(8)} ${'ratio'.padStart(6)} ${'snapshot'.padStart(9)}`);
    for (const config of CONFIGS.slice(1)) {
      const ms = med(`${workload}/${config}`);
      const cpu = med(`${workload}/${config}`, 'cpuMs');
      const snap = config.startsWith('lines-') ? `${med(`${workload}/${config}`, 'snapshotMs').toFixed(0)}ms` : '';
      console.log(
        `  ${config.padEnd(12)} ${ms.toFixed(0).padStart(6)}ms ${(ms / base).toFixed(2).padStart(5)}x ${cpu.toFixed(0).padStart(6)}ms ${(cpu / baseCpu).toFixed(2).padStart(5)}x ${snap.padStart(9)}`,
      );
    }
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4] as Workload);
else parent();

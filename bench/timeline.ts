/**
 * The cost of one memory-timeline read (`run`'s timeline and `run --live`)
 * against a plain full GC of the same heap, at several heap sizes: a read
 * forces a full GC, then lists V8's live samples with their tracebacks.
 * Each size runs in a fresh child; medians of 7 reads, after 2 unmeasured.
 * The ratio says how much the timeline adds to the GC it cannot avoid; the
 * milliseconds give the read interval the default 2% budget allows.
 *
 *   npm run bench:timeline
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const SELF = fileURLToPath(import.meta.url);
const SIZES_MB = [10, 50, 200];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function child(mb: number): Promise<void> {
  const tracemalloc = await import('../src/index.js');
  const { readLiveSamples } = await import('../src/tracer/tracer.js');
  tracemalloc.start();
  // Records of about 100 bytes (an object, a string, a small array) built in a function, so they are optimised code's allocations.
  const keep: object[] = [];
  const fill = (n: number) => {
    for (let i = 0; i < n; i++) keep.push({ i, name: `record-${i}`, list: [i, i + 1] });
  };
  fill(Math.round((mb * 1024 * 1024) / 100));
  const gc = globalThis.gc!;
  const gcMs: number[] = [];
  const readMs: number[] = [];
  let samples = 0;
  for (let round = 0; round < 9; round++) {
    let t = performance.now();
    gc();
    const g = performance.now() - t;
    t = performance.now();
    samples = readLiveSamples()!.samples!.length;
    const r = performance.now() - t;
    if (round >= 2) {
      gcMs.push(g);
      readMs.push(r);
    }
  }
  const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  process.stdout.write(JSON.stringify({ heapMb, samples, gcMs: median(gcMs), readMs: median(readMs), kept: keep.length }) + '\n');
}

function main(): void {
  console.log(`Node ${process.version}: one timeline read against a full GC of the same heap (medians of 7)`);
  console.log('heap used  live samples  full GC  timeline read  ratio  default interval (2% budget)');
  for (const mb of SIZES_MB) {
    const run = spawnSync(process.execPath, ['--expose-gc', SELF, String(mb)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.status !== 0) throw new Error(`child for ${mb} MB failed: ${run.stderr}`);
    const r = JSON.parse(run.stdout) as { heapMb: number; samples: number; gcMs: number; readMs: number };
    const interval = Math.max(1, r.readMs / 0.02 / 1000);
    console.log(
      `${r.heapMb.toFixed(0).padStart(6)} MB  ${String(r.samples).padStart(12)}  ${r.gcMs.toFixed(1).padStart(5)} ms  ${r.readMs.toFixed(1).padStart(10)} ms  ${(r.readMs / r.gcMs).toFixed(2).padStart(4)}×  ${interval.toFixed(1)} s`,
    );
  }
}

if (process.argv[2]) await child(Number(process.argv[2]));
else main();

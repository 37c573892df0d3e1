// Heap snapshot engine benchmark: this parser vs memlab on generated snapshots.
//
//   node dist/bench/heap.js [--sizes 300,740] [--keep] [--dir DIR] [--only ours|memlab]
//   env TRACEMALLOC_BENCH_SIZES=300 works like --sizes.
//
// Every measurement runs in a fresh child process so that its peak RSS
// (VmHWM) belongs to that measurement alone. Snapshots are generated under a
// temporary directory and deleted afterwards unless --keep is given.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

interface Measurement {
  seconds: number;
  peakRss: number;
  nodes?: number;
  rootRetained?: number;
}

function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

// ---- child: generate a snapshot of about `mb` megabytes ----

function generate(file: string, mb: number): void {
  // Measured on Node 20: the file is about 1.8x the used heap for this mix.
  const targetHeap = (mb * 1024 * 1024) / 1.8;
  const keep: unknown[] = [];
  class Record {
    id: number;
    name: string;
    tags: string[];
    next: Record | null;
    values: number[];
    constructor(i: number, prev: Record | null) {
      this.id = i;
      this.name = `record-${i}`;
      this.tags = i % 3 === 0 ? ['a', `t${i % 1000}`] : [];
      this.next = prev;
      this.values = [i, i + 1, i * 0.5];
    }
  }
  let prev: Record | null = null;
  let i = 0;
  for (;;) {
    for (let j = 0; j < 10000; j++, i++) {
      const r: Record = new Record(i, i % 100 === 0 ? null : prev);
      prev = r;
      if (i % 100 === 99) keep.push(r);
      if (i % 50 === 0) keep.push(new Map([[`k${i}`, { v: i }]]));
      if (i % 7 === 0) keep.push(`string-${i}-${'x'.repeat(i % 64)}`);
    }
    if (process.memoryUsage().heapUsed >= targetHeap) break;
  }
  (globalThis as { keep?: unknown }).keep = keep;
  import('node:v8').then((v8) => {
    v8.writeHeapSnapshot(file);
  });
}

// ---- child: one measurement ----

async function measure(tool: string, mode: string, file: string): Promise<void> {
  const t0 = performance.now();
  let nodes = 0;
  let rootRetained = 0;
  if (tool === 'ours') {
    const { readHeapSnapshot } = await import('../src/heap/index.js');
    const snap = await readHeapSnapshot(file);
    nodes = snap.nodeCount;
    if (mode === 'full') rootRetained = snap.retainedSize(snap.rootIndex);
  } else {
    type Heap = { nodes: { length: number } };
    if (mode === 'full') {
      const analysis = (await import('@memlab/heap-analysis')) as unknown as { getFullHeapFromFile: (f: string) => Promise<Heap> };
      nodes = (await analysis.getFullHeapFromFile(file)).nodes.length;
    } else {
      type Utils = { getSnapshotFromFile: (f: string, o: object) => Promise<Heap> };
      const core = (await import('@memlab/core')) as unknown as { utils?: Utils; default?: { utils: Utils } };
      const utils = core.utils ?? core.default!.utils;
      nodes = (await utils.getSnapshotFromFile(file, { buildNodeIdIndex: false })).nodes.length;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const out: Measurement = { seconds, peakRss: peakRss(), nodes, rootRetained };
  process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`);
}

// ---- parent ----

function runChild(args: string[], heapMb: number): string {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, self, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function runMeasure(tool: string, mode: string, file: string): Measurement | string {
  try {
    const out = runChild(['--measure', tool, mode, file], 16000);
    const line = out.split('\n').find((l) => l.startsWith('@@RESULT '));
    if (!line) return 'no result';
    return JSON.parse(line.slice(9)) as Measurement;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

const fmtMB = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MB`;

function main(): void {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (arg('--sizes') ?? process.env.TRACEMALLOC_BENCH_SIZES ?? '300,740').split(',').map(Number).filter((x) => x > 0);
  const only = arg('--only');
  const keep = argv.includes('--keep');
  const dir = arg('--dir') ?? mkdtempSync(join(tmpdir(), 'tracemalloc-heap-bench-'));
  console.log(`node ${process.version}, dir ${dir}`);
  const tools = only ? [only] : ['ours', 'memlab'];
  try {
    for (const mb of sizes) {
      const file = join(dir, `bench-${mb}.heapsnapshot`);
      if (!existsSync(file)) {
        const t0 = performance.now();
        runChild(['--generate', String(mb), file], Math.max(4096, mb * 8));
        console.log(`generated ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      const size = statSync(file).size;
      console.log(`\n== ${fmtMB(size)} snapshot (${size} bytes) ==`);
      const results: Record<string, Measurement | string> = {};
      for (const tool of tools) {
        for (const mode of ['parse', 'full']) {
          const r = runMeasure(tool, mode, file);
          results[`${tool}/${mode}`] = r;
          const label = `${tool.padEnd(6)} ${mode === 'parse' ? 'parse             ' : 'parse+dominators  '}`;
          if (typeof r === 'string') console.log(`${label} FAILED: ${r}`);
          else {
            console.log(
              `${label} ${r.seconds.toFixed(2).padStart(7)} s  ${(size / 1024 / 1024 / r.seconds).toFixed(0).padStart(5)} MB/s  peak RSS ${fmtMB(r.peakRss).padStart(8)} (${(r.peakRss / size).toFixed(2)}x file)  nodes ${r.nodes}`,
            );
          }
        }
      }
      for (const mode of ['parse', 'full']) {
        const a = results[`ours/${mode}`];
        const b = results[`memlab/${mode}`];
        if (typeof a === 'object' && typeof b === 'object') {
          console.log(`ratio ${mode}: memlab time / ours = ${(b.seconds / a.seconds).toFixed(1)}x, memlab peak / ours = ${(b.peakRss / a.peakRss).toFixed(1)}x`);
        }
      }
    }
  } finally {
    if (!keep && !arg('--dir')) rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--generate') generate(argv[2]!, Number(argv[1]));
else if (argv[0] === '--measure') await measure(argv[1]!, argv[2]!, argv[3]!);
else main();


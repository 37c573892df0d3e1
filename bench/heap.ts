// Heap snapshot engine benchmark: this engine vs memlab and the DevTools
// loader (heap-snapshot-toolkit), both installed into ~/.cache on first run
// and never by `npm ci`, on generated snapshots, with ratios from the same run.
//
//   node dist/bench/heap.js [--sizes 300,740] [--keep] [--dir DIR] [--only ours|memlab|devtools]
//   env TRACEMALLOC_BENCH_SIZES=300 works like --sizes.
//
// Every measurement runs in a fresh child process so that its peak RSS
// (VmHWM) belongs to that measurement alone. Snapshots are generated under a
// temporary directory and deleted afterwards unless --keep is given.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hugePagesEnv } from '../src/cli/huge-pages.js';

const self = fileURLToPath(import.meta.url);

interface Measurement {
  seconds: number;
  peakRss: number;
  nodes?: number;
  rootRetained?: number;
  /** Seconds per stage (ours only). */
  stages?: Record<string, number>;
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

/** A comparison tool, installed into ~/.cache/tracemalloc-bench/ when the benchmark first needs it. */
interface CachedTool {
  label: string;
  /** Exact versions, so that runs compare the same code. */
  specs: string[];
  dir: string;
}

const cacheDir = (name: string): string => join(homedir(), '.cache', 'tracemalloc-bench', name);
const CACHED: Record<string, CachedTool> = {
  devtools: { label: 'the DevTools loader', specs: ['heap-snapshot-toolkit@1.1.3'], dir: cacheDir('heap-snapshot-toolkit-1.1.3') },
  // The versions package-lock.json had while memlab was a dev dependency.
  memlab: { label: 'memlab', specs: ['@memlab/heap-analysis@2.0.5', '@memlab/core@2.0.5'], dir: cacheDir('memlab-2.0.5') },
};

const packageName = (spec: string): string => spec.slice(0, spec.lastIndexOf('@'));

/** Entry file of `name` as installed under `dir`. */
function resolveIn(dir: string, name: string): string {
  return createRequire(join(dir, 'package.json')).resolve(name);
}

/** The tool's install directory, installing it first if needed; null (after one line saying why) when that fails. */
function installTool(tool: CachedTool): string | null {
  const installed = (): boolean => {
    try {
      for (const spec of tool.specs) resolveIn(tool.dir, packageName(spec));
      return true;
    } catch {
      return false;
    }
  };
  if (installed()) return tool.dir;
  console.log(`installing ${tool.specs.join(' ')} into ${tool.dir} (${tool.label}, for comparison only)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // --ignore-scripts: memlab's puppeteer would download a browser and its
  // `sleep` dependency build a native addon; reading snapshots needs neither.
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', tool.dir, ...tool.specs];
  const r = spawnSync(npm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !installed()) {
    // npm's last line only points at its log; the reason is earlier.
    const lines = (r.stderr ?? '').split('\n').map((l) => l.replace(/^npm error\s*/, '').trim()).filter((l) => l && !l.startsWith('at ') && !l.includes('complete log'));
    const why = r.status === 0 ? 'npm succeeded but the package does not resolve' : (lines.find((l) => /Error:|^404 /.test(l)) ?? lines[0] ?? r.error?.message ?? `npm exited ${r.status ?? r.signal}`);
    console.log(`could not install ${tool.label}, skipping it: ${why}`);
    return null;
  }
  return tool.dir;
}

/** Imports package `name` from a cached tool's directory. */
async function importFrom<T>(dir: string, name: string): Promise<T> {
  return (await import(pathToFileURL(resolveIn(dir, name)).href)) as T;
}

async function measure(tool: string, mode: string, file: string, toolDir?: string): Promise<void> {
  const t0 = performance.now();
  let nodes = 0;
  let rootRetained = 0;
  const stages: Record<string, number> = {};
  // Each stage's time and MB/s, so that a slow stage shows itself.
  const lap = (name: string, since: number): number => {
    const now = performance.now();
    stages[name] = (now - since) / 1000;
    return now;
  };
  if (tool === 'ours') {
    const { census, readHeapSnapshot } = await import('../src/heap/index.js');
    const snap = await readHeapSnapshot(file);
    let t = lap('parse', t0);
    nodes = snap.nodeCount;
    if (mode === 'full') {
      // What `tracemalloc heap` does: retained sizes, the census and the
      // retainer paths of the biggest objects.
      await snap.prepare();
      rootRetained = snap.retainedSize(snap.rootIndex);
      t = lap('dominators+distances', t);
      const c = census(snap, { top: 20 });
      t = lap('census', t);
      for (const o of c.topObjects.slice(0, 5)) snap.retainerPath(o.nodeIndex);
      lap('paths', t);
    }
  } else if (tool === 'memlab') {
    type Heap = { nodes: { length: number } };
    if (mode === 'full') {
      const analysis = await importFrom<{ getFullHeapFromFile: (f: string) => Promise<Heap> }>(toolDir!, '@memlab/heap-analysis');
      nodes = (await analysis.getFullHeapFromFile(file)).nodes.length;
    } else {
      type Utils = { getSnapshotFromFile: (f: string, o: object) => Promise<Heap> };
      const core = await importFrom<{ utils?: Utils; default?: { utils: Utils } }>(toolDir!, '@memlab/core');
      const utils = core.utils ?? core.default!.utils;
      nodes = (await utils.getSnapshotFromFile(file, { buildNodeIdIndex: false })).nodes.length;
    }
  } else {
    // The DevTools loader computes everything (retainers, distances,
    // dominators, retained sizes, statistics) while it loads.
    const { parse } = await importFrom<{ parse: (s: NodeJS.ReadableStream) => Promise<{ nodeCount: number; retainedSizes: Float64Array }> }>(toolDir!, 'heap-snapshot-toolkit');
    const snap = await parse(createReadStream(file, 'utf-8'));
    nodes = snap.nodeCount;
    rootRetained = snap.retainedSizes[0];
  }
  const seconds = (performance.now() - t0) / 1000;
  const out: Measurement = { seconds, peakRss: peakRss(), nodes, rootRetained, stages };
  process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`);
}

// ---- parent ----

function runChild(args: string[], heapMb: number, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, self, ...args], {
    encoding: 'utf8',
    env: env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function runMeasure(tool: string, mode: string, file: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Measurement | string {
  try {
    const out = runChild(['--measure', tool, mode, file, ...extra], 16000, env);
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
  const wanted = only ? [only] : ['ours', 'memlab', 'devtools'];
  // Installed up front, so that a failed install drops the tool from every size.
  const toolDirs = new Map<string, string>();
  for (const tool of wanted) {
    const installed = CACHED[tool] ? installTool(CACHED[tool]) : null;
    if (installed) toolDirs.set(tool, installed);
  }
  const tools = wanted.filter((t) => !CACHED[t] || toolDirs.has(t));
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
      // `tracemalloc heap` re-runs itself with huge pages where that helps
      // (src/cli/huge-pages.ts): ours runs as it would, and once more
      // without them, to show what they are worth.
      const hugePages = hugePagesEnv(size);
      if (hugePages) console.log(`ours with GLIBC_TUNABLES=${hugePages.GLIBC_TUNABLES}, as \`tracemalloc heap\` runs on this machine`);
      // [result key, tool, mode, environment, label]
      const runs: [string, string, string, NodeJS.ProcessEnv | undefined, string][] = [];
      for (const tool of tools) {
        // The DevTools loader has one mode: it always computes retained sizes.
        for (const mode of tool === 'devtools' ? ['full'] : ['parse', 'full']) {
          const label = `${tool.padEnd(8)} ${mode === 'parse' ? 'parse           ' : 'full (retained) '}`;
          runs.push([`${tool}/${mode}`, tool, mode, tool === 'ours' ? (hugePages ?? undefined) : undefined, label]);
          if (tool === 'ours' && mode === 'full' && hugePages) runs.push(['ours/full-4k', 'ours', 'full', undefined, 'ours     full, 4 KiB pages']);
        }
      }
      for (const [key, tool, mode, env, label] of runs) {
        const toolDir = toolDirs.get(tool);
        const r = runMeasure(tool, mode, file, toolDir ? [toolDir] : [], env);
        results[key] = r;
        if (typeof r === 'string') console.log(`${label} FAILED: ${r}`);
        else {
          console.log(
            `${label} ${r.seconds.toFixed(2).padStart(7)} s  ${(size / 1024 / 1024 / r.seconds).toFixed(0).padStart(5)} MB/s  peak RSS ${fmtMB(r.peakRss).padStart(8)} (${(r.peakRss / size).toFixed(2)}x file)  nodes ${r.nodes}`,
          );
          if (r.stages && Object.keys(r.stages).length > 0) {
            const parts = Object.entries(r.stages).map(([k, v]) => `${k} ${v.toFixed(2)} s (${(size / 1024 / 1024 / v).toFixed(0)} MB/s)`);
            console.log(`${' '.repeat(26)}${parts.join(', ')}`);
          }
        }
      }
      const ours = results['ours/full'];
      if (typeof ours === 'object') {
        for (const [name, key] of [['memlab', 'memlab/full'], ['DevTools loader', 'devtools/full']] as const) {
          const b = results[key];
          if (typeof b === 'object') {
            console.log(`ratio full: ${name} time / ours = ${(b.seconds / ours.seconds).toFixed(1)}x, ${name} peak / ours = ${(b.peakRss / ours.peakRss).toFixed(1)}x`);
            const small = results['ours/full-4k'];
            if (typeof small === 'object') console.log(`ratio full: ${name} time / ours with 4 KiB pages = ${(b.seconds / small.seconds).toFixed(1)}x`);
          }
        }
        console.log(`ours full: peak RSS ${(ours.peakRss / size).toFixed(2)}x the file`);
      }
    }
  } finally {
    if (!keep && !arg('--dir')) rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--generate') generate(argv[2]!, Number(argv[1]));
else if (argv[0] === '--measure') await measure(argv[1]!, argv[2]!, argv[3]!, argv[4]);
else main();


/**
 * `npm test`: the compiled suite under this Node, then under each Node listed
 * in TRACEMALLOC_NODE_BINARIES (colon-separated; `.ci/run` installs 22, 24
 * and 26), one after another: the tests spawn children and time them, so two
 * suites at once on a 2-core machine would measure each other.
 *
 *   node dist/test/run-all.js                      every test file
 *   node dist/test/run-all.js dist/test/cli.test.js  some files, still on every Node
 *
 * Prints each Node's own test runner output (TAP, the same on every version),
 * a line per Node with its counts and time, and last the totals as TAP
 * comments. Exits 1 when any run fails or reports no tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const;
type Counts = Record<(typeof COUNTS)[number], number>;

interface Run {
  version: string;
  binary: string;
  code: number | null;
  seconds: number;
  counts: Counts | null;
}

/** This Node first, then the listed ones; the same binary (even through a symlink) runs once. */
function binaries(): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const binary of [process.execPath, ...(process.env.TRACEMALLOC_NODE_BINARIES ?? '').split(':').filter(Boolean)]) {
    let key: string;
    try {
      key = realpathSync(binary);
    } catch {
      key = binary; // missing: its run fails and says so
    }
    if (!seen.has(key)) {
      seen.add(key);
      out.push(binary);
    }
  }
  return out;
}

/** The closing `# tests N` … lines of node's TAP reporter; null when the run never got there. */
function summaryOf(tail: string): Counts | null {
  const counts = {} as Counts;
  for (const name of COUNTS) {
    const m = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tail);
    if (!m) return null;
    counts[name] = Number(m[1]);
  }
  return counts;
}

function runSuite(binary: string, files: string[]): Promise<Run> {
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'unknown version';
  process.stdout.write(`\n# ==== tests on Node ${version} (${binary}) ====\n`);
  const started = performance.now();
  const child = spawn(binary, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Stopping the driver stops the suite it runs, not only itself.
  const stop = (signal: NodeJS.Signals) => {
    child.kill(signal);
    process.exit(1);
  };
  process.once('SIGTERM', stop).once('SIGINT', stop);
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    process.stdout.write(text);
    tail = (tail + text).slice(-4096);
  });
  return new Promise((resolve) => {
    const done = (code: number | null) => resolve({ version, binary, code, seconds: (performance.now() - started) / 1000, counts: summaryOf(tail) });
    child.on('error', (err) => {
      process.stdout.write(`# could not run ${binary}: ${err.message}\n`);
      done(null);
    });
    child.on('close', (code) => {
      process.off('SIGTERM', stop).off('SIGINT', stop);
      done(code);
    });
  });
}

function failed(run: Run): boolean {
  return run.code !== 0 || run.counts === null || run.counts.tests === 0;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // Only files whose source still exists: tsc leaves the output of deleted tests behind.
  const sources = join(here, '../../test');
  const files = args.length > 0 ? args : readdirSync(here).filter((f) => f.endsWith('.test.js') && existsSync(join(sources, f.replace(/\.js$/, '.ts')))).sort().map((f) => join(here, f));
  const runs: Run[] = [];
  for (const binary of binaries()) {
    const run = await runSuite(binary, files);
    runs.push(run);
    const c = run.counts;
    const result = c ? `${c.tests} tests, ${c.pass} pass, ${c.fail} fail, ${c.cancelled} cancelled, ${c.skipped} skipped` : `no test summary (exit ${run.code ?? 'error'})`;
    process.stdout.write(`# ==== Node ${run.version}: ${result}, ${Math.round(run.seconds)} s${failed(run) ? ', FAILED' : ''} ====\n`);
  }
  process.stdout.write('\n# ==== every Node ====\n');
  for (const run of runs) process.stdout.write(`# ${run.version}: ${failed(run) ? 'FAILED' : 'ok'} in ${Math.round(run.seconds)} s\n`);
  // Totals over every Node, in the runner's own closing format.
  // A run that never printed its summary counts as one failure.
  for (const name of COUNTS) process.stdout.write(`# ${name} ${runs.reduce((n, r) => n + (r.counts?.[name] ?? (name === 'fail' ? 1 : 0)), 0)}\n`);
  process.stdout.write(`# duration_ms ${Math.round(runs.reduce((n, r) => n + r.seconds, 0) * 1000)}\n`);
  process.exitCode = runs.some(failed) ? 1 : 0;
}

await main();

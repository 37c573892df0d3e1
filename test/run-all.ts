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
 *
 * A failed test runs once more, alone, on the same Node (at most
 * {@link MAX_RERUNS} per Node; more failures than that are a broken build,
 * not chance). One that passes then is listed as FLAKY in the summary and
 * does not fail the run; one that fails again does. The tests spawn real
 * programs under a real JIT on a shared 2-core machine, and a rare failure
 * must be seen, not hidden: the FLAKY lines name it and its first output.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COUNTS, failuresOf, summaryOf, type Counts, type Failure } from './tap.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Run {
  version: string;
  binary: string;
  code: number | null;
  seconds: number;
  counts: Counts | null;
  /** Top-level tests reported `not ok`, with the file they are in. */
  failures: Failure[];
}

const MAX_RERUNS = 3;

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
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    process.stdout.write(text);
    output += text;
  });
  return new Promise((resolve) => {
    const done = (code: number | null) =>
      resolve({ version, binary, code, seconds: (performance.now() - started) / 1000, counts: summaryOf(output.slice(-4096)), failures: failuresOf(output) });
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

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Run one failed test again, alone; true when it passes. */
function rerun(binary: string, failure: Failure): Promise<boolean> {
  const file = failure.file!;
  const args = ['--test', '--test-concurrency=1', '--test-reporter=tap'];
  // A whole file that failed runs whole again; a test runs by its exact name.
  if (failure.name !== file) args.push(`--test-name-pattern=^${escapeRegExp(failure.name)}$`);
  process.stdout.write(`\n# ==== rerun on ${binary}: ${failure.name} ====\n`);
  const child = spawn(binary, [...args, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    process.stdout.write(text);
    output += text;
  });
  return new Promise((resolve) => {
    child.on('error', () => resolve(false));
    child.on('close', (code) => {
      const counts = summaryOf(output.slice(-4096));
      resolve(code === 0 && counts !== null && counts.pass > 0 && counts.fail === 0);
    });
  });
}

/** Reruns each failure once when there are few; returns the names that passed on their rerun, or null when the run still fails. */
async function retried(run: Run): Promise<string[] | null> {
  const c = run.counts;
  if (c === null || c.tests === 0 || c.fail === 0 || run.failures.length !== c.fail || run.failures.length > MAX_RERUNS) return null;
  if (run.failures.some((f) => f.file === null)) return null;
  const flaky: string[] = [];
  for (const failure of run.failures) {
    if (!(await rerun(run.binary, failure))) return null;
    flaky.push(failure.name);
  }
  return flaky;
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
  const flakyOn = new Map<Run, string[]>();
  for (const binary of binaries()) {
    const run = await runSuite(binary, files);
    runs.push(run);
    const c = run.counts;
    const result = c ? `${c.tests} tests, ${c.pass} pass, ${c.fail} fail, ${c.cancelled} cancelled, ${c.skipped} skipped` : `no test summary (exit ${run.code ?? 'error'})`;
    process.stdout.write(`# ==== Node ${run.version}: ${result}, ${Math.round(run.seconds)} s${failed(run) ? ', FAILED' : ''} ====\n`);
    if (failed(run)) {
      const flaky = await retried(run);
      if (flaky) flakyOn.set(run, flaky);
    }
  }
  const stillFailed = (run: Run) => failed(run) && !flakyOn.has(run);
  process.stdout.write('\n# ==== every Node ====\n');
  for (const run of runs) {
    const flaky = flakyOn.get(run);
    process.stdout.write(`# ${run.version}: ${stillFailed(run) ? 'FAILED' : flaky ? 'ok after reruns' : 'ok'} in ${Math.round(run.seconds)} s\n`);
    for (const name of flaky ?? []) process.stdout.write(`# FLAKY on ${run.version}: ${name} (failed, then passed alone; its first output is above)\n`);
  }
  // Totals over every Node, in the runner's own closing format.
  // A run that never printed its summary counts as one failure.
  // Tests that passed on their rerun count as passed, and are counted apart as flaky.
  const flakyCount = (r: Run) => flakyOn.get(r)?.length ?? 0;
  const total = (name: (typeof COUNTS)[number], r: Run) => {
    const n = r.counts?.[name] ?? (name === 'fail' ? 1 : 0);
    return name === 'fail' ? n - flakyCount(r) : name === 'pass' ? n + flakyCount(r) : n;
  };
  for (const name of COUNTS) process.stdout.write(`# ${name} ${runs.reduce((n, r) => n + total(name, r), 0)}\n`);
  process.stdout.write(`# flaky ${runs.reduce((n, r) => n + flakyCount(r), 0)}\n`);
  process.stdout.write(`# duration_ms ${Math.round(runs.reduce((n, r) => n + r.seconds, 0) * 1000)}\n`);
  process.exitCode = runs.some(stillFailed) ? 1 : 0;
}

await main();

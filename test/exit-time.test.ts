import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from './helpers.js';
import { Snapshot } from '../src/index.js';

// Issue 7: a traced program ends within a second of its untraced run, the
// same way (code or signal). The only timed test: the bound is wide on
// purpose (2-core CI machines are noisy); the measured figures are printed.
const START = fileURLToPath(new URL('../src/agent/start.js', import.meta.url));
const ENDINGS = ['natural', 'exit', 'throw', 'sigint', 'sigterm'] as const;
const CONFIGS = [{ name: 'untraced' }, { name: 'sampling' }, { name: 'exact' }] as const;

interface Ended {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runEnding(how: string, mode: string | null, env: NodeJS.ProcessEnv = {}): Promise<Ended> {
  const args = mode ? ['--import', START, fixture('exit-program.js'), how] : [fixture('exit-program.js'), how];
  const traced = mode ? { NODE_TRACEMALLOC: '4', NODE_TRACEMALLOC_MODE: mode } : {};
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...traced, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (d.includes('ready')) child.kill(how === 'sigint' ? 'SIGINT' : 'SIGTERM');
  });
  // Only a hang guard, far above any healthy run.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ ms: performance.now() - started, code, signal, stderr });
    }),
  );
}

// On this Node; `npm test` runs the suite on every supported Node (test/run-all.ts).
test(`Node ${process.version}: a traced program ends within a second of its untraced run, the same way`, async () => {
  const rows: string[] = [];
  for (const how of ENDINGS) {
    // Runs one after another, untraced first: concurrent runs would measure each other.
    const results: Record<string, Ended> = {};
    for (const config of CONFIGS) results[config.name] = await runEnding(how, config.name === 'untraced' ? null : config.name);
    const base = results.untraced;
    for (const mode of ['sampling', 'exact']) {
      const r = results[mode];
      assert.equal(r.signal, base.signal, `${how}, ${mode}: same signal (${r.stderr})`);
      assert.equal(r.code, base.code, `${how}, ${mode}: same exit code (${r.stderr})`);
      assert.ok(r.ms - base.ms < 1000, `${how}, ${mode}: ${Math.round(r.ms)} ms traced vs ${Math.round(base.ms)} ms untraced`);
    }
    rows.push(`${how}: untraced ${Math.round(base.ms)} ms, sampling +${Math.round(results.sampling.ms - base.ms)} ms, exact +${Math.round(results.exact.ms - base.ms)} ms`);
  }
  console.log(`exit times on Node ${process.version}:\n  ${rows.join('\n  ')}`);
});

test('NODE_TRACEMALLOC_DUMP: the final snapshot is written on every ending, or on a signal one line says why not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-exit-'));
  try {
    const runs = ENDINGS.flatMap((how) =>
      ['sampling', 'exact'].map(async (mode) => {
        const file = join(dir, `${how}-${mode}.snap`);
        // A 4 KiB interval: `work` keeps about 220 KB, which the default 64 KiB interval
        // misses entirely in about 3% of sampling runs (this test is about the dump, not the estimate).
        const r = await runEnding(how, mode, { NODE_TRACEMALLOC_DUMP: file, NODE_TRACEMALLOC_INTERVAL: '4096' });
        return { how, mode, file, r };
      }),
    );
    for (const { how, mode, file, r } of await Promise.all(runs)) {
      if (how === 'sigint' || how === 'sigterm') {
        assert.equal(r.signal, how.toUpperCase(), `${how}, ${mode}: still dies of the signal`);
        // The dump is written when it fits in the time a signal allows (src/agent/signals.ts):
        // always in sampling mode, which reads no heap snapshot; exact mode's heap
        // snapshot fits or not by the heap's size on this Node, and one line says so.
        if (mode === 'sampling' || existsSync(file)) {
          assert.ok(existsSync(file), `${how}, ${mode}: dumped (${r.stderr})`);
          assert.ok(Snapshot.load(file).statistics('lineno').some((s) => s.traceback.at(0)!.functionName === 'work'));
          assert.equal(r.stderr, '');
        } else {
          assert.match(r.stderr, new RegExp(`^tracemalloc: no snapshot dumped to .*: ${how.toUpperCase()} ends the process and writing it would take about [\\d.]+ s\n$`));
        }
      } else {
        assert.equal(r.code, how === 'throw' ? 1 : 0, `${how}, ${mode}: ${r.stderr}`);
        assert.ok(existsSync(file), `${how}, ${mode}: dumped (${r.stderr})`);
        const kept = Snapshot.load(file).statistics('lineno').find((s) => s.traceback.at(0)!.functionName === 'work');
        assert.ok(kept && kept.count > 0, `${how}, ${mode}: the program’s site is in the dump`);
        if (how !== 'throw') assert.equal(r.stderr, '');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a program that handles SIGTERM itself and exits still gets its dump', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-exit-'));
  try {
    const file = join(dir, 'handled.snap');
    const program = "process.on('SIGTERM', () => process.exit(3)); setInterval(() => {}, 1000); console.log('ready');";
    const child = spawn(process.execPath, ['--import', START, '-e', program], {
      env: { ...process.env, NODE_TRACEMALLOC: '1', NODE_TRACEMALLOC_DUMP: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && child.kill('SIGTERM'));
    const [code] = await new Promise<[number | null]>((resolve) => child.on('close', (c) => resolve([c])));
    assert.equal(code, 3);
    assert.ok(existsSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

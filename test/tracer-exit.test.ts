import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimateCovers, fixture, runNode } from './helpers.js';
import { Snapshot } from '../src/index.js';

// Exact tracing used to keep a finished program alive for minutes; these
// runs only fail on a hang (spawn limit) or a wrong exit, not on speed.
for (const how of ['natural', 'exit', 'throw']) {
  test(`a program that ends (${how}) while exact tracing ends by itself`, () => {
    const run = runNode([fixture('ends-while-tracing.js'), how], { hangLimitMs: 60_000 });
    assert.equal(run.signal, null, `the child hung and was killed: ${run.stderr}`);
    assert.equal(run.status, how === 'throw' ? 1 : 0);
    if (how === 'throw') assert.match(run.stderr, /boom from the traced program/);
  });
}

test('--import tracemalloc/start traces from the first line and dumps at exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-start-'));
  try {
    const file = join(dir, 'exit-%p.snap');
    const run = runNode(['--import', 'tracemalloc/start', fixture('plain-program.js')], {
      env: { NODE_TRACEMALLOC: '4', NODE_TRACEMALLOC_MODE: 'sampling', NODE_TRACEMALLOC_INTERVAL: '16384', NODE_TRACEMALLOC_DUMP: file },
      hangLimitMs: 60_000,
    });
    assert.equal(run.signal, null, run.stderr);
    assert.equal(run.status, 0, run.stderr);
    const pid = Number(run.stdout.trim());
    const dumped = file.replace('%p', String(pid));
    assert.ok(existsSync(dumped), 'the exit snapshot was written');
    const snapshot = Snapshot.load(dumped);
    assert.equal(snapshot.tracebackLimit, 4);
    const top = snapshot.statistics('lineno').find((s) => s.traceback.at(0)!.functionName === 'buildTable');
    assert.ok(top, 'the program’s own site is in the exit snapshot');
    // 100,000 objects; the estimate must cover them (estimateCovers).
    const e = top!.estimate!;
    assert.ok(estimateCovers(top!.count, e.countLow, e.countHigh, 100_000), `count ${top!.count} [${e.countLow}, ${e.countHigh}]`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad NODE_TRACEMALLOC prints one line and leaves the program running untraced', () => {
  const run = runNode(['--import', 'tracemalloc/start', fixture('plain-program.js')], { env: { NODE_TRACEMALLOC: '500' } });
  assert.equal(run.status, 0);
  assert.match(run.stdout, /^\d+\n$/);
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.match(run.stderr, /^tracemalloc: not tracing: frames must be an integer from 1 to 128, got 500/);
});

test('works from CommonJS through require()', () => {
  const run = runNode(['-e', "const t = require('tracemalloc'); t.start(); const s = t.takeSnapshot(); t.stop(); console.log(typeof s.statistics, t.isTracing())"]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'function false');
});

test('importing tracemalloc loads no HTTP client or server into the program (no undici, whose llhttp memory would show as traced)', () => {
  const run = runNode(['--input-type=module', '-e', "await import('tracemalloc'); console.log(JSON.stringify(process.moduleLoadList.filter((m) => /undici|http/.test(m))))"]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), []);
});

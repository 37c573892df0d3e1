import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tracemalloc from '../src/index.js';

afterEach(() => tracemalloc.stop());

const retained: unknown[] = [];
function allocateMegabytes(mb: number): void {
  // About 1 KiB each: a 128-slot array of numbers.
  for (let i = 0; i < mb * 1024; i++) retained.push(new Array(128).fill(i));
}

test('takeSnapshot() without start() says what to do', () => {
  assert.equal(tracemalloc.isTracing(), false);
  assert.throws(() => tracemalloc.takeSnapshot(), /must be tracing memory allocations to take a snapshot; call start\(\) first/);
});

test('frames must be an integer from 1 to 128', () => {
  for (const frames of [0, 129, 1.5, -1, Number.NaN, '3' as unknown as number]) {
    assert.throws(() => tracemalloc.start({ frames }), RangeError);
  }
  assert.equal(tracemalloc.isTracing(), false, 'a rejected start() does not trace');
  assert.throws(() => tracemalloc.start({ mode: 'fast' as 'exact' }), /mode must be 'sampling' or 'exact'/);
  assert.throws(() => tracemalloc.start({ samplingInterval: 0 }), /samplingInterval/);
});

test('a second start() keeps tracing and only changes the traceback limit', () => {
  tracemalloc.start({ frames: 3 });
  allocateMegabytes(2);
  tracemalloc.start({ frames: 7 });
  assert.equal(tracemalloc.isTracing(), true);
  assert.equal(tracemalloc.getTracebackLimit(), 7);
  const snapshot = tracemalloc.takeSnapshot();
  assert.equal(snapshot.tracebackLimit, 7);
  assert.ok(snapshot.statistics('filename').some((s) => s.traceback.at(0)!.filename.endsWith('tracer-api.test.ts')), 'earlier traces kept');
  tracemalloc.stop();
  assert.equal(tracemalloc.isTracing(), true, 'one stop() per start(): the first starter still traces');
  tracemalloc.stop();
  assert.equal(tracemalloc.isTracing(), false);
  assert.equal(tracemalloc.getTracebackLimit(), 7, 'the limit stays readable after stop()');
});

test('stop() is idempotent and forgets everything', () => {
  tracemalloc.stop();
  tracemalloc.start();
  tracemalloc.stop();
  tracemalloc.stop();
  assert.equal(tracemalloc.isTracing(), false);
  assert.deepEqual(tracemalloc.getTracedMemory(), { current: 0, peak: 0 });
  assert.equal(tracemalloc.getTracemallocMemory(), 0);
});

test('traced memory, peak, resetPeak and clearTraces in sampling mode', () => {
  tracemalloc.start({ samplingInterval: 4096 });
  allocateMegabytes(8);
  const grown = tracemalloc.getTracedMemory();
  assert.ok(grown.current > 4 * 2 ** 20, `about 8 MiB traced, got ${grown.current}`);
  assert.ok(grown.peak >= grown.current);
  assert.ok(tracemalloc.getTracemallocMemory() > 0);
  retained.length = 0;
  (globalThis as { gc?: () => void }).gc?.();
  tracemalloc.resetPeak();
  const after = tracemalloc.getTracedMemory();
  assert.ok(after.peak >= after.current);
  assert.ok(after.peak < grown.peak / 2, `the peak restarts from the current, smaller size: ${after.peak} vs ${grown.peak}`);
  allocateMegabytes(1);
  tracemalloc.clearTraces();
  assert.ok(tracemalloc.isTracing());
  const cleared = tracemalloc.takeSnapshot();
  assert.ok(!cleared.statistics('filename').some((s) => s.size > 2 ** 19), 'traces before clearTraces() are gone');
  retained.length = 0;
});

test('statistics in sampling mode are marked as estimates', () => {
  tracemalloc.start({ samplingInterval: 4096, frames: 4 });
  allocateMegabytes(4);
  const snapshot = tracemalloc.takeSnapshot();
  assert.equal(snapshot.meta.mode, 'sampling');
  const top = snapshot.statistics('lineno')[0];
  assert.ok(top.estimate, 'carries its error bounds');
  assert.match(String(top), /size=\d+(\.\d)? [KM]iB, count=\d+, average=/);
  retained.length = 0;
});

test('a real snapshot survives dump and load', () => {
  tracemalloc.start({ samplingInterval: 4096, frames: 5 });
  allocateMegabytes(2);
  const snapshot = tracemalloc.takeSnapshot();
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-'));
  try {
    const file = join(dir, 'snap.tracemalloc');
    snapshot.dump(file);
    const loaded = tracemalloc.Snapshot.load(file);
    assert.deepEqual(loaded.statistics('traceback').map(String), snapshot.statistics('traceback').map(String));
    assert.equal(loaded.tracebackLimit, 5);
    assert.deepEqual(loaded.meta, snapshot.meta);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    retained.length = 0;
  }
});

/** Wait for V8's next statistics updates (every 50 ms while the loop turns) until `done`. */
async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
  return done();
}

test('exact mode: traced memory follows live allocations, not the older heap', async () => {
  tracemalloc.start({ mode: 'exact' });
  // V8's first statistics update sets the baseline (documented).
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(tracemalloc.getTracedMemory().current < 2 ** 20, 'the heap before start() is not traced');
  allocateMegabytes(5);
  assert.ok(await until(() => tracemalloc.getTracedMemory().current > 4 * 2 ** 20), 'about 5 MiB traced');
  retained.length = 0;
  (globalThis as { gc?: () => void }).gc?.();
  assert.ok(await until(() => tracemalloc.getTracedMemory().current < 2 ** 20), 'freed memory leaves the count');
  assert.ok(tracemalloc.getTracedMemory().peak > 4 * 2 ** 20, 'the peak remembers');
  tracemalloc.resetPeak();
  const { current, peak } = tracemalloc.getTracedMemory();
  assert.equal(peak, current);
});

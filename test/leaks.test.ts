import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLeaks, measureGrowth, runLeakScenario, GROWTH_RULE } from '../src/leaks/index.js';
import { parseByteLimit } from '../src/leaks/limit.js';
import * as tracemalloc from '../src/index.js';
import { fixture } from './helpers.js';

const line = (perStep: number, n: number, from = 100) => Array.from({ length: n }, (_, i) => from + perStep * i);

test('growth rule: a steady rise is a leak; flat, one-off jumps, sawtooth and tiny slopes are not', () => {
  const steady = measureGrowth(line(200, 9), 1);
  assert.equal(steady.steady, true);
  assert.equal(steady.slope, 200);
  assert.equal(steady.growingIntervals, 8);
  assert.ok(steady.r2 > 0.999);

  assert.equal(measureGrowth(line(0, 9), 1).steady, false, 'flat');
  assert.equal(measureGrowth([100, 100, 100, 100, 900, 900, 900, 900, 900], 1).steady, false, 'one-off jump');
  assert.equal(measureGrowth([100, 300, 100, 300, 100, 300, 100, 300, 100], 1).steady, false, 'sawtooth');
  assert.equal(measureGrowth(line(0.5, 9), 1).steady, false, 'below the minimum per iteration');
  // One interval that loses a few objects (lost traces, a reallocated container) does not hide a leak.
  const dip = line(200, 9);
  dip[5] -= 150;
  assert.equal(measureGrowth(dip, 1).steady, true);
  // Growth in only half the intervals is a staircase, not a steady leak.
  assert.equal(measureGrowth([0, 0, 400, 400, 800, 800, 1200, 1200, 1600], 1).growingIntervals < Math.ceil(8 * GROWTH_RULE.minGrowingShare), true);
  assert.equal(measureGrowth([0, 0, 400, 400, 800, 800, 1200, 1200, 1600], 1).steady, false);
  assert.throws(() => measureGrowth([1, 2, 3], 1), /^RangeError: tracemalloc: a growth series needs at least 4 values, got 3$/);
});

test('bad input is refused with one-line errors before anything is traced', async () => {
  await assert.rejects(findLeaks(42 as never), /^TypeError: tracemalloc: findLeaks\(\) needs a function to run, got number$/);
  await assert.rejects(findLeaks(() => {}, { iterations: 2 }), /^RangeError: tracemalloc: iterations must be an integer from 4 to 10000, got 2$/);
  await assert.rejects(findLeaks(() => {}, { mode: 'fast' as never }), /^TypeError: tracemalloc: mode must be 'exact' or 'sampling', got fast$/);
  await assert.rejects(findLeaks(() => {}, { sample: 0 }), /sample must be an integer from 1/);
  await assert.rejects(runLeakScenario('/no/such/scenario.js'), /^Error: tracemalloc leaks: cannot find the scenario module \/no\/such\/scenario\.js$/);
  await assert.rejects(runLeakScenario(fixture('plain-program.js')), /must export a scenario function/);
  assert.equal(tracemalloc.isTracing(), false);
  assert.throws(() => parseByteLimit(-1), /memory limit must be a positive number/);
  assert.equal(parseByteLimit('1.5 KiB'), 1536);
  assert.equal(parseByteLimit('24 MB'), 24e6);
});

test('findLeaks refuses to run while start() is tracing, and leaves that tracing alone', async () => {
  tracemalloc.start({ mode: 'sampling' });
  try {
    await assert.rejects(findLeaks(() => {}), /^Error: tracemalloc: findLeaks\(\) traces on its own; call stop\(\) before it$/);
    assert.equal(tracemalloc.isTracing(), true);
  } finally {
    tracemalloc.stop();
  }
});

test('onProgress sees each warm-up and iteration in order, then the reading of the heap when there are findings', async () => {
  const kept: object[] = [];
  const steps: string[] = [];
  const report = await findLeaks(
    () => {
      for (let i = 0; i < 200; i++) kept.push({ i });
    },
    { warmup: 2, iterations: 4, onProgress: (stage, step, of) => steps.push(`${stage} ${step}/${of}`) },
  );
  assert.ok(report.findings.length > 0, 'the scenario leaks');
  assert.deepEqual(steps, ['warm-up 1/2', 'warm-up 2/2', 'iteration 1/4', 'iteration 2/4', 'iteration 3/4', 'iteration 4/4', 'explain 1/1']);
  await assert.rejects(findLeaks(() => {}, { onProgress: 'yes' as never }), /^TypeError: tracemalloc: onProgress must be a function, got string$/);
});

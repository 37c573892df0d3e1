// Python-exact formatting: expected strings were printed by CPython 3.11's
// tracemalloc._format_size, Statistic.__str__ and StatisticDiff.__str__.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Frame, Statistic, StatisticDiff, Trace, Traceback, formatFixed, formatInt, formatSize } from '../src/model/index.js';

const tb = (file = 'app.ts', line = 10) => new Traceback([new Frame(file, line)]);

test('formatSize matches Python _format_size (unsigned and signed)', () => {
  const table: Array<[number, string, string]> = [
    [0, '0 B', '+0 B'],
    [1, '1 B', '+1 B'],
    [99, '99 B', '+99 B'],
    [100, '100 B', '+100 B'],
    [1023, '1023 B', '+1023 B'],
    [1024, '1024 B', '+1024 B'],
    [10239, '10239 B', '+10239 B'],
    [10240, '10.0 KiB', '+10.0 KiB'],
    [10291, '10.0 KiB', '+10.0 KiB'],
    [102399, '100.0 KiB', '+100.0 KiB'],
    [102400, '100 KiB', '+100 KiB'],
    [102911, '100 KiB', '+100 KiB'],
    [1048576, '1024 KiB', '+1024 KiB'],
    [10485759, '10240 KiB', '+10240 KiB'],
    [10485760, '10.0 MiB', '+10.0 MiB'],
    [5905580032, '5632 MiB', '+5632 MiB'],
    [1099511627776, '1024 GiB', '+1024 GiB'],
    [1125899906842624, '1024 TiB', '+1024 TiB'],
    [13573471044894720, '12345 TiB', '+12345 TiB'],
    [1.099511627776e34, '10000000000000000000000 TiB', '+10000000000000000000000 TiB'],
    [272884, '266 KiB', '+266 KiB'],
    [102348.8, '100.0 KiB', '+100.0 KiB'],
    [102338.56, '99.9 KiB', '+99.9 KiB'],
    [358.4, '358 B', '+358 B'],
    [-1, '-1 B', '-1 B'],
    [-10240, '-10.0 KiB', '-10.0 KiB'],
    [Infinity, 'inf TiB', '+inf TiB'],
    [NaN, 'nan TiB', '+nan TiB'],
  ];
  for (const [size, plain, signed] of table) {
    assert.equal(formatSize(size), plain, `formatSize(${size})`);
    assert.equal(formatSize(size, true), signed, `formatSize(${size}, true)`);
  }
});

test('formatSize rounds exact ties half to even like Python, unlike toFixed', () => {
  const table: Array<[number, string]> = [
    [0.5, '0 B'],
    [1.5, '2 B'],
    [2.5, '2 B'],
    [3.5, '4 B'],
    [28.5, '28 B'],
    [100.5, '100 B'],
    [10238.5, '10238 B'],
    [10239.5, '10240 B'], // below 10 KiB so whole bytes, rounded to even
    [-2.5, '-2 B'],
    [10496, '10.2 KiB'], // 10.25 KiB
    [11008, '10.8 KiB'], // 10.75 KiB
    [101632, '99.2 KiB'], // 99.25 KiB
    [102144, '99.8 KiB'], // 99.75 KiB
    [-10496, '-10.2 KiB'],
    [-11008, '-10.8 KiB'],
    [12845056, '12.2 MiB'], // 12.25 MiB
    [10.35 * 1024, '10.3 KiB'], // 10.35 is below .35 in binary
    [10.45 * 1024, '10.4 KiB'],
    [10.15 * 1024, '10.2 KiB'], // 10.15 is above .15 in binary
    [104960, '102 KiB'], // 102.5 KiB
    [103936, '102 KiB'], // 101.5 KiB
  ];
  for (const [size, expected] of table) assert.equal(formatSize(size), expected, `formatSize(${size})`);
  // The JavaScript behaviour being corrected, so this test means something.
  assert.equal((2.5).toFixed(0), '3');
  assert.equal((0.25).toFixed(1), '0.3');
});

test('formatFixed is printf %.0f / %.1f, including signs of zero', () => {
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(3.5, 0), '4');
  assert.equal(formatFixed(0.25, 1), '0.2');
  assert.equal(formatFixed(0.75, 1), '0.8');
  assert.equal(formatFixed(0.35, 1), '0.3');
  assert.equal(formatFixed(0.15, 1), '0.1');
  assert.equal(formatFixed(2.675, 1), '2.7');
  assert.equal(formatFixed(0, 0, true), '+0');
  assert.equal(formatFixed(-0, 0, true), '-0');
  assert.equal(formatFixed(-0, 0), '-0');
  assert.equal(formatFixed(-0.3, 0), '-0');
  assert.equal(formatFixed(-0.3, 0, true), '-0');
  assert.equal(formatSize(-0), '-0 B');
  assert.equal(formatSize(-0.3, true), '-0 B');
  assert.equal(formatFixed(1e22, 1), '10000000000000000000000.0');
  assert.equal(formatFixed(-Infinity, 0, true), '-inf');
});

test('formatInt is %i / %+i', () => {
  assert.equal(formatInt(0, true), '+0');
  assert.equal(formatInt(-0, true), '+0');
  assert.equal(formatInt(9743, true), '+9743');
  assert.equal(formatInt(-7, true), '-7');
  assert.equal(formatInt(-7), '-7');
  assert.equal(formatInt(12), '12');
  assert.equal(formatInt(2.9), '2');
  assert.equal(formatInt(-2.9), '-2');
  assert.equal(formatInt(1e22), '10000000000000000000000');
});

test('String(Statistic) is Python text; average only when count != 0', () => {
  assert.equal(String(new Statistic(tb(), 272484, 9743)), 'app.ts:10: size=266 KiB, count=9743, average=28 B');
  assert.equal(String(new Statistic(tb(), 0, 0)), 'app.ts:10: size=0 B, count=0');
  // 'filename' statistics print line 0 as Python does.
  assert.equal(String(new Statistic(tb('lib.ts', 0), 3500, 5)), 'lib.ts:0: size=3500 B, count=5, average=700 B');
  const s = new Statistic(tb(), 10, 1);
  assert.equal(s.isEstimate, false);
  assert.equal(s.estimate, undefined);
});

test('String(StatisticDiff) is Python text, freed sites have no average', () => {
  assert.equal(
    String(new StatisticDiff(tb(), 272484, 272484, 9743, 9743)),
    'app.ts:10: size=266 KiB (+266 KiB), count=9743 (+9743), average=28 B',
  );
  assert.equal(String(new StatisticDiff(tb(), 0, -5000, 0, -7)), 'app.ts:10: size=0 B (-5000 B), count=0 (-7)');
  assert.equal(String(new StatisticDiff(tb(), 100, 0, 3, 0)), 'app.ts:10: size=100 B (+0 B), count=3 (+0), average=33 B');
  assert.equal(String(new StatisticDiff(tb(), 10240, -20480, 1, -1)), 'app.ts:10: size=10.0 KiB (-20.0 KiB), count=1 (-1), average=10.0 KiB');
});

test('String(Trace) is Python text: oldest frame and size', () => {
  const t = new Trace(new Traceback([new Frame('a.ts', 1), new Frame('b.ts', 3)]), 56, 2);
  assert.equal(String(t), 'a.ts:1: 56 B');
  assert.equal(t.count, 2);
  assert.equal(new Trace(t.traceback, 8).count, 1, 'count defaults to one block, as Python');
});

test('sampling statistics carry 95% intervals and say they are estimates', () => {
  // size 1000 with variance 2500 (sd 50): half width 98 B = 9.8%.
  const s = new Statistic(tb(), 1000, 10, { samples: 4, sizeVariance: 2500, countVariance: 4 });
  assert.equal(s.isEstimate, true);
  const e = s.estimate!;
  assert.equal(e.samples, 4);
  assert.equal(e.confidence, 0.95);
  assert.ok(Math.abs(e.sizeLow - 902) < 1e-9 && Math.abs(e.sizeHigh - 1098) < 1e-9);
  assert.ok(Math.abs(e.countLow - 6.08) < 1e-9 && Math.abs(e.countHigh - 13.92) < 1e-9);
  assert.equal(String(s), 'app.ts:10: size=1000 B, count=10, average=100 B (estimate, ±9.8% at 95%, 4 samples)');
  // Lower bounds are clamped at zero for sizes and counts.
  const wide = new Statistic(tb(), 100, 1, { samples: 1, sizeVariance: 1e6, countVariance: 1 });
  assert.equal(wide.estimate!.sizeLow, 0);
  assert.equal(wide.estimate!.countLow, 0);
  assert.equal(wide.estimate!.sizeHigh, 100 + 1960);
  assert.equal(String(wide), 'app.ts:10: size=100 B, count=1, average=100 B (estimate, ±1960% at 95%, 1 sample)');
});

test('sampling diffs use the variance sum of both sides and are not clamped', () => {
  const d = new StatisticDiff(tb(), 1000, -500, 10, -5, {
    samples: 3,
    sizeVariance: 900,
    countVariance: 1,
    oldSamples: 5,
    oldSizeVariance: 1600,
    oldCountVariance: 3,
  });
  const e = d.estimate!;
  assert.equal(d.isEstimate, true);
  assert.equal(e.sizeDiffVariance, 2500);
  assert.equal(e.countDiffVariance, 4);
  assert.ok(Math.abs(e.sizeDiffLow - -598) < 1e-9 && Math.abs(e.sizeDiffHigh - -402) < 1e-9);
  assert.ok(Math.abs(e.countDiffLow - -8.92) < 1e-9 && Math.abs(e.countDiffHigh - -1.08) < 1e-9);
  // The new size's own interval uses only the new side's variance (sd 30).
  assert.ok(Math.abs(e.sizeLow - 941.2) < 1e-9);
  assert.equal(e.samples, 3);
  assert.equal(e.oldSamples, 5);
  assert.equal(String(d), 'app.ts:10: size=1000 B (-500 B), count=10 (-5), average=100 B (estimate, ±98 B at 95%, 3 samples now, 5 before)');
});

test('constructors reject nonsense with clear errors', () => {
  assert.throws(() => new Statistic(tb(), -1, 0), /Statistic size must be a finite number >= 0, not -1/);
  assert.throws(() => new Statistic(tb(), NaN, 0), /Statistic size/);
  assert.throws(() => new StatisticDiff(tb(), 1, Infinity, 1, 0), /sizeDiff must be a finite number/);
  assert.throws(() => new Trace(tb(), 1, 1, { samples: -1, sizeVariance: 0, countVariance: 0 }), /estimate.samples must be a finite number >= 0/);
  assert.throws(() => new Trace({} as Traceback, 1), /Trace traceback must be a Traceback/);
});

// Grouping, sort orders, cumulative mode and compareTo. Expected strings were
// printed by CPython 3.11's tracemalloc for the same traces (each Trace with
// count N given to Python as N traces of size/N bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Frame, Snapshot, Statistic, StatisticDiff, Trace, Traceback, type TraceEstimate } from '../src/model/index.js';

type Spec = Array<[frames: Array<[string, number, string?]>, size: number, count: number, estimate?: TraceEstimate]>;

function snapshot(spec: Spec, mode: 'exact' | 'sampling' = 'exact'): Snapshot {
  const traces = spec.map(
    ([frames, size, count, estimate]) =>
      new Trace(new Traceback(frames.map(([file, line, fn]) => new Frame(file, line, 1, fn ?? ''))), size, count, estimate),
  );
  return new Snapshot(traces, 5, { mode, timestamp: 1, ...(mode === 'sampling' ? { samplingInterval: 512 } : {}) });
}

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≉ ${expected}`);
const texts = (stats: Array<Statistic | StatisticDiff>) => stats.map(String);

const NEW: Spec = [
  [[['main.ts', 1, 'main'], ['app.ts', 10, 'makeGlobals']], 3000, 3],
  [[['main.ts', 1, 'main'], ['app.ts', 20, 'other']], 500, 1],
  [[['main.ts', 5, 'boot'], ['app.ts', 10, 'makeGlobals']], 600, 2],
  [[['lib.ts', 7]], 3500, 5],
  // Same (file, line) as the first trace, another function name: Python groups them.
  [[['main.ts', 1, 'main'], ['app.ts', 10, 'arrow']], 100, 1],
  [[['b.ts', 2]], 100, 1],
  [[['b.ts', 1]], 100, 1],
  [[['a.ts', 3]], 100, 1],
];
const OLD: Spec = [
  [[['main.ts', 1], ['app.ts', 10]], 1000, 1],
  [[['main.ts', 1], ['app.ts', 20]], 500, 1],
  [[['old.ts', 4, 'gone']], 4096, 4],
  [[['lib.ts', 7]], 3500, 5],
  [[['b.ts', 2]], 100, 1],
];

test("statistics('filename') groups by the most recent frame's file, line 0", () => {
  const stats = snapshot(NEW).statistics('filename');
  assert.deepEqual(texts(stats), [
    'app.ts:0: size=4200 B, count=7, average=600 B',
    'lib.ts:0: size=3500 B, count=5, average=700 B',
    'b.ts:0: size=200 B, count=2, average=100 B',
    'a.ts:0: size=100 B, count=1, average=100 B',
  ]);
  assert.equal(stats[0].traceback.length, 1);
  assert.equal(stats[0].traceback.at(0)!.lineno, 0);
  assert.equal(stats[0].traceback.at(0)!.functionName, '');
});

test("statistics('lineno') groups by the most recent (file, line), sorted by size, count, traceback", () => {
  const stats = snapshot(NEW).statistics('lineno');
  assert.deepEqual(texts(stats), [
    'app.ts:10: size=3700 B, count=6, average=617 B',
    'lib.ts:7: size=3500 B, count=5, average=700 B',
    'app.ts:20: size=500 B, count=1, average=500 B',
    'b.ts:2: size=100 B, count=1, average=100 B',
    'b.ts:1: size=100 B, count=1, average=100 B',
    'a.ts:3: size=100 B, count=1, average=100 B',
  ]);
  // The first function name seen names the group.
  assert.equal(stats[0].traceback.mostRecent.functionName, 'makeGlobals');
  assert.equal(stats[0].isEstimate, false);
});

test("statistics('traceback') groups whole tracebacks and prints the oldest frame", () => {
  const stats = snapshot(NEW).statistics('traceback');
  assert.deepEqual(texts(stats), [
    'lib.ts:7: size=3500 B, count=5, average=700 B',
    'main.ts:1: size=3100 B, count=4, average=775 B',
    'main.ts:5: size=600 B, count=2, average=300 B',
    'main.ts:1: size=500 B, count=1, average=500 B',
    'b.ts:2: size=100 B, count=1, average=100 B',
    'b.ts:1: size=100 B, count=1, average=100 B',
    'a.ts:3: size=100 B, count=1, average=100 B',
  ]);
  assert.deepEqual(stats[1].traceback.frames.map(String), ['main.ts:1', 'app.ts:10']);
  assert.deepEqual(stats[3].traceback.frames.map(String), ['main.ts:1', 'app.ts:20']);
});

test('ties on size and count are broken by traceback, descending', () => {
  const stats = snapshot([
    [[['a.ts', 1]], 10, 1],
    [[['c.ts', 1]], 10, 1],
    [[['b.ts', 9]], 10, 1],
    [[['b.ts', 10]], 10, 1],
    [[['b.ts', 10]], 0, 1],
    [[['z.ts', 1]], 10, 2],
  ]).statistics('lineno');
  assert.deepEqual(
    stats.map((s) => String(s.traceback)),
    ['z.ts:1', 'b.ts:10', 'c.ts:1', 'b.ts:9', 'a.ts:1'],
  );
  assert.equal(stats[1].count, 2);
});

test('cumulative statistics credit every frame (Python output for traces without recursion)', () => {
  const snap = snapshot(NEW);
  assert.deepEqual(texts(snap.statistics('filename', { cumulative: true })), [
    'main.ts:0: size=4200 B, count=7, average=600 B',
    'app.ts:0: size=4200 B, count=7, average=600 B',
    'lib.ts:0: size=3500 B, count=5, average=700 B',
    'b.ts:0: size=200 B, count=2, average=100 B',
    'a.ts:0: size=100 B, count=1, average=100 B',
  ]);
  assert.deepEqual(texts(snap.statistics('lineno', { cumulative: true })), [
    'app.ts:10: size=3700 B, count=6, average=617 B',
    'main.ts:1: size=3600 B, count=5, average=720 B',
    'lib.ts:7: size=3500 B, count=5, average=700 B',
    'main.ts:5: size=600 B, count=2, average=300 B',
    'app.ts:20: size=500 B, count=1, average=500 B',
    'b.ts:2: size=100 B, count=1, average=100 B',
    'b.ts:1: size=100 B, count=1, average=100 B',
    'a.ts:3: size=100 B, count=1, average=100 B',
  ]);
});

test('cumulative mode credits a recursive frame once per trace (Python would count it 2x)', () => {
  const snap = snapshot([
    [[['main.ts', 1, 'main'], ['rec.ts', 5, 'walk'], ['rec.ts', 5, 'walk'], ['rec.ts', 9, 'leaf']], 900, 3],
    [[['other.ts', 2]], 50, 1],
  ]);
  assert.deepEqual(texts(snap.statistics('lineno', { cumulative: true })), [
    'rec.ts:9: size=900 B, count=3, average=300 B',
    'rec.ts:5: size=900 B, count=3, average=300 B',
    'main.ts:1: size=900 B, count=3, average=300 B',
    'other.ts:2: size=50 B, count=1, average=50 B',
  ]);
  assert.deepEqual(texts(snap.statistics('filename', { cumulative: true })), [
    'rec.ts:0: size=900 B, count=3, average=300 B',
    'main.ts:0: size=900 B, count=3, average=300 B',
    'other.ts:0: size=50 B, count=1, average=50 B',
  ]);
  // The sum over files equals the memory of traces touching them: nothing counted twice.
  const total = snap.statistics('filename', { cumulative: true }).find((s) => String(s.traceback) === 'rec.ts:0')!;
  assert.equal(total.size, 900);
});

test('keyType errors are clear', () => {
  const snap = snapshot(NEW);
  assert.throws(() => snap.statistics('traceback', { cumulative: true }), {
    name: 'RangeError',
    message: "cumulative mode cannot be used with keyType 'traceback' (use 'filename' or 'lineno')",
  });
  assert.throws(() => snap.statistics('line' as 'lineno'), {
    name: 'RangeError',
    message: `unknown keyType: "line" (expected 'filename', 'lineno' or 'traceback')`,
  });
  assert.throws(() => snap.compareTo(snap, 'traceback', { cumulative: true }), /cumulative mode cannot be used/);
  assert.throws(() => snap.compareTo(snap, 'files' as 'filename'), /unknown keyType: "files"/);
  assert.throws(() => snap.compareTo({} as Snapshot, 'lineno'), /compareTo expects a Snapshot/);
});

test("compareTo('lineno') matches Python, including freed sites", () => {
  const diffs = snapshot(NEW).compareTo(snapshot(OLD), 'lineno');
  assert.deepEqual(texts(diffs), [
    'old.ts:4: size=0 B (-4096 B), count=0 (-4)',
    'app.ts:10: size=3700 B (+2700 B), count=6 (+5), average=617 B',
    'b.ts:1: size=100 B (+100 B), count=1 (+1), average=100 B',
    'a.ts:3: size=100 B (+100 B), count=1 (+1), average=100 B',
    'lib.ts:7: size=3500 B (+0 B), count=5 (+0), average=700 B',
    'app.ts:20: size=500 B (+0 B), count=1 (+0), average=500 B',
    'b.ts:2: size=100 B (+0 B), count=1 (+0), average=100 B',
  ]);
  const freed = diffs[0];
  assert.equal(freed.size, 0);
  assert.equal(freed.sizeDiff, -4096);
  assert.equal(freed.countDiff, -4);
  assert.equal(freed.traceback.mostRecent.functionName, 'gone', 'freed sites keep the old key');
});

test("compareTo('filename'), ('traceback') and cumulative match Python", () => {
  const now = snapshot(NEW);
  const old = snapshot(OLD);
  assert.deepEqual(texts(now.compareTo(old, 'filename')), [
    'old.ts:0: size=0 B (-4096 B), count=0 (-4)',
    'app.ts:0: size=4200 B (+2700 B), count=7 (+5), average=600 B',
    'b.ts:0: size=200 B (+100 B), count=2 (+1), average=100 B',
    'a.ts:0: size=100 B (+100 B), count=1 (+1), average=100 B',
    'lib.ts:0: size=3500 B (+0 B), count=5 (+0), average=700 B',
  ]);
  assert.deepEqual(texts(now.compareTo(old, 'traceback')), [
    'old.ts:4: size=0 B (-4096 B), count=0 (-4)',
    'main.ts:1: size=3100 B (+2100 B), count=4 (+3), average=775 B',
    'main.ts:5: size=600 B (+600 B), count=2 (+2), average=300 B',
    'b.ts:1: size=100 B (+100 B), count=1 (+1), average=100 B',
    'a.ts:3: size=100 B (+100 B), count=1 (+1), average=100 B',
    'lib.ts:7: size=3500 B (+0 B), count=5 (+0), average=700 B',
    'main.ts:1: size=500 B (+0 B), count=1 (+0), average=500 B',
    'b.ts:2: size=100 B (+0 B), count=1 (+0), average=100 B',
  ]);
  assert.deepEqual(texts(now.compareTo(old, 'lineno', { cumulative: true })), [
    'old.ts:4: size=0 B (-4096 B), count=0 (-4)',
    'app.ts:10: size=3700 B (+2700 B), count=6 (+5), average=617 B',
    'main.ts:1: size=3600 B (+2100 B), count=5 (+3), average=720 B',
    'main.ts:5: size=600 B (+600 B), count=2 (+2), average=300 B',
    'b.ts:1: size=100 B (+100 B), count=1 (+1), average=100 B',
    'a.ts:3: size=100 B (+100 B), count=1 (+1), average=100 B',
    'lib.ts:7: size=3500 B (+0 B), count=5 (+0), average=700 B',
    'app.ts:20: size=500 B (+0 B), count=1 (+0), average=500 B',
    'b.ts:2: size=100 B (+0 B), count=1 (+0), average=100 B',
  ]);
});

test('diff sort order: |sizeDiff|, size, |countDiff|, count, traceback, all descending', () => {
  const now = snapshot([
    [[['a.ts', 1]], 100, 1], // +100 (new)
    [[['b.ts', 1]], 300, 3], // +100, bigger size
    [[['c.ts', 1]], 300, 5], // +100, same size, bigger |countDiff|
    [[['d.ts', 1]], 300, 5], // same as c.ts, traceback decides
    [[['e.ts', 1]], 50, 1], // -150: biggest |sizeDiff|
  ]);
  const old = snapshot([
    [[['b.ts', 1]], 200, 2],
    [[['c.ts', 1]], 200, 1],
    [[['d.ts', 1]], 200, 1],
    [[['e.ts', 1]], 200, 2],
  ]);
  assert.deepEqual(
    now.compareTo(old, 'lineno').map((d) => `${d.traceback} ${d.sizeDiff} ${d.countDiff}`),
    ['e.ts:1 -150 -1', 'd.ts:1 100 4', 'c.ts:1 100 4', 'b.ts:1 100 1', 'a.ts:1 100 1'],
  );
});

test('sampling statistics merge estimates: samples and variances add up', () => {
  const snap = snapshot(
    [
      [[['app.ts', 10]], 4000, 4, { samples: 3, sizeVariance: 1000, countVariance: 2 }],
      [[['main.ts', 1], ['app.ts', 10]], 6000, 6, { samples: 5, sizeVariance: 1500, countVariance: 3 }],
      [[['lib.ts', 2]], 100, 1, { samples: 1, sizeVariance: 10, countVariance: 1 }],
    ],
    'sampling',
  );
  assert.equal(snap.isEstimate, true);
  const [top, lib] = snap.statistics('lineno');
  assert.equal(top.isEstimate, true);
  assert.equal(top.size, 10000);
  assert.equal(top.estimate!.samples, 8);
  assert.equal(top.estimate!.sizeVariance, 2500);
  assert.equal(top.estimate!.countVariance, 5);
  near(top.estimate!.sizeLow, 10000 - 98);
  near(top.estimate!.sizeHigh, 10000 + 98);
  assert.match(String(top), /^app\.ts:10: size=10000 B, count=10, average=1000 B \(estimate, ±1\.0% at 95%, 8 samples\)$/);
  assert.equal(lib.estimate!.samples, 1);
});

test('sampling compareTo combines both sides; a freed site keeps the old variance', () => {
  const old = snapshot(
    [
      [[['app.ts', 10]], 1000, 1, { samples: 2, sizeVariance: 400, countVariance: 1 }],
      [[['gone.ts', 3]], 500, 1, { samples: 1, sizeVariance: 100, countVariance: 1 }],
    ],
    'sampling',
  );
  const now = snapshot(
    [
      [[['app.ts', 10]], 3000, 3, { samples: 6, sizeVariance: 500, countVariance: 2 }],
      [[['new.ts', 1]], 200, 1, { samples: 1, sizeVariance: 25, countVariance: 1 }],
    ],
    'sampling',
  );
  const diffs = now.compareTo(old, 'lineno');
  assert.deepEqual(diffs.map((d) => String(d.traceback)), ['app.ts:10', 'gone.ts:3', 'new.ts:1']);
  const [app, gone, added] = diffs;
  assert.equal(app.estimate!.sizeDiffVariance, 900);
  near(app.estimate!.sizeDiffLow, 2000 - 58.8);
  assert.equal(app.estimate!.samples, 6);
  assert.equal(app.estimate!.oldSamples, 2);
  assert.equal(gone.estimate!.sizeDiffVariance, 100);
  near(gone.estimate!.sizeDiffHigh, -500 + 19.6);
  assert.equal(gone.estimate!.samples, 0);
  assert.equal(gone.estimate!.oldSamples, 1);
  assert.equal(added.estimate!.sizeDiffVariance, 25);
  assert.equal(String(gone), 'gone.ts:3: size=0 B (-500 B), count=0 (-1) (estimate, ±20 B at 95%, 0 samples now, 1 before)');
});

test('compareTo refuses snapshots of different modes', () => {
  const exact = snapshot(OLD);
  const sampled = snapshot([[[['app.ts', 10]], 10, 1, { samples: 1, sizeVariance: 0, countVariance: 0 }]], 'sampling');
  assert.throws(() => sampled.compareTo(exact, 'lineno'), {
    message: 'cannot compare snapshots taken in different modes (this one sampling, the old one exact): take both in the same mode',
  });
  assert.throws(() => exact.compareTo(sampled, 'lineno'), /this one exact, the old one sampling/);
});

test('Snapshot keeps its traces, limit and meta, and validates them', () => {
  const snap = snapshot(NEW);
  assert.equal(snap.traces.length, NEW.length);
  assert.equal(snap.tracebackLimit, 5);
  assert.deepEqual(snap.meta, { mode: 'exact', timestamp: 1 });
  assert.equal(snap.isEstimate, false);
  assert.ok(Object.isFrozen(snap.traces));
  assert.equal(new Snapshot([], 1).meta.mode, 'exact');
  assert.deepEqual(new Snapshot([], 1).statistics('lineno'), []);
  assert.throws(() => new Snapshot([], 0), /Snapshot tracebackLimit must be an integer >= 1, not 0/);
  assert.throws(() => new Snapshot([{} as Trace], 1), /Snapshot traces must be Trace instances/);
  assert.throws(() => new Snapshot([], 1, { mode: 'fast' as 'exact', timestamp: 0 }), /meta.mode must be 'exact' or 'sampling'/);
  assert.throws(() => new Snapshot([], 1, { mode: 'exact', timestamp: NaN }), /meta.timestamp must be a finite number/);
});

test("'traceback' statistics group by frames only and keep the first traceback whole", () => {
  const frames = [new Frame('main.ts', 1, 1, 'main'), new Frame('app.ts', 10, 1, 'alloc')];
  const first = new Traceback(frames, 9);
  const snap = new Snapshot(
    [new Trace(first, 100, 1), new Trace(new Traceback(frames, 4), 50, 2), new Trace(new Traceback([frames[1]], 1), 10, 1)],
    2,
  );
  const [top, single] = snap.statistics('traceback');
  assert.equal(top.traceback, first, 'Python drops total_nframe here; we keep the first traceback');
  assert.equal(top.traceback.totalFrames, 9);
  assert.equal(top.size, 150);
  assert.equal(top.count, 3);
  assert.equal(String(single), 'app.ts:10: size=10 B, count=1, average=10 B');
  // 'lineno' key tracebacks are one frame with no totalFrames, like Python's.
  const [line] = snap.statistics('lineno');
  assert.equal(line.traceback.length, 1);
  assert.equal(line.traceback.totalFrames, undefined);
  assert.equal(line.count, 4);
});

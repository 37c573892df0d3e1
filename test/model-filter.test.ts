// fnmatch and Filter semantics; expected results were computed with CPython
// 3.11's fnmatch.fnmatchcase and Snapshot.filter_traces on the same data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filter, Frame, Snapshot, Trace, Traceback, fnmatch, passesFilters } from '../src/model/index.js';

test('fnmatch follows Python (POSIX: case-sensitive, * crosses /)', () => {
  const table: Array<[string, string, boolean]> = [
    ['/a/b/app.ts', '*.ts', true],
    ['/a/b/app.ts', '*/app.ts', true],
    ['/a/b/app.ts', '/a/*', true],
    ['app.ts', 'app.?s', true],
    ['app.ts', 'APP.ts', false],
    ['app.ts', '[ab]pp.ts', true],
    ['app.ts', '[!a]pp.ts', false],
    ['bpp.ts', '[!a]pp.ts', true],
    ['app.ts', '[a-c]pp.ts', true],
    ['-pp.ts', '[a-]pp.ts', true],
    ['-pp.ts', '[-a]pp.ts', true],
    [']pp.ts', '[]]pp.ts', true],
    ['[pp.ts', '[pp.ts', true],
    ['x', '[z-a]', false],
    ['x', '[!z-a]', true],
    ['b', '[a-c-e]', true],
    ['-', '[a-c-e]', true],
    ['d', '[a-c-e]', false],
    ['a\nb', 'a*b', true],
    ['a.ts', 'a.ts*', true],
    ['ab', 'a**b', true],
    ['a\\b', 'a\\b', true],
    ['a.b', 'a.b', true],
    ['axb', 'a.b', false],
    ['^x', '[^]x', true],
    ['x', '[\\]', false],
    ['\\', '[\\]', true],
    ['é.ts', '?.ts', true],
    ['😀.ts', '?.ts', true],
    ['b', '[a-c][a-c]*', false],
    ['', '*', true],
    ['ab', 'a[!b]', false],
    ['app.ts', 'app.ts', true],
    ['app.tsx', 'app.ts', false],
    ['x(y)+', 'x(y)+', true],
    ['xyy', 'x(y)+', false],
  ];
  for (const [name, pattern, expected] of table) {
    assert.equal(fnmatch(name, pattern), expected, `fnmatch(${JSON.stringify(name)}, ${JSON.stringify(pattern)})`);
  }
});

const TRACES = [
  [['main.ts', 1], ['app.ts', 10]],
  [['main.ts', 1], ['lib/util.ts', 7]],
  [['lib/util.ts', 3], ['app.ts', 12]],
  [['node:internal/x.js', 4]],
].map((frames, i) => new Trace(new Traceback(frames.map(([f, l]) => new Frame(f as string, l as number))), 100 * (i + 1)));
const SNAP = new Snapshot(TRACES, 5, { mode: 'exact', timestamp: 7, pid: 3 });

/** Trace numbers (1-based) kept by filterTraces. */
const kept = (filters: Filter[]) => SNAP.filterTraces(filters).traces.map((t) => t.size / 100);

test('filterTraces matches Python: most recent frame, lineno, allFrames, OR of includes, AND of excludes', () => {
  const F = (inclusive: boolean, pattern: string, options?: ConstructorParameters<typeof Filter>[2]) => new Filter(inclusive, pattern, options);
  assert.deepEqual(kept([F(true, 'app.ts')]), [1, 3]);
  assert.deepEqual(kept([F(false, 'app.ts')]), [2, 4]);
  assert.deepEqual(kept([F(true, 'app.ts', { lineno: 10 })]), [1]);
  assert.deepEqual(kept([F(false, 'app.ts', { lineno: 10 })]), [2, 3, 4]);
  assert.deepEqual(kept([F(true, 'lib/*', { allFrames: true })]), [2, 3]);
  assert.deepEqual(kept([F(false, 'lib/*', { allFrames: true })]), [1, 4]);
  assert.deepEqual(kept([F(true, 'app.ts'), F(true, 'lib/*')]), [1, 2, 3]);
  assert.deepEqual(kept([F(true, '*.ts'), F(false, 'lib/*', { allFrames: true })]), [1]);
  assert.deepEqual(kept([F(false, 'node:*'), F(false, 'app.ts', { lineno: 12 })]), [1, 2]);
  assert.deepEqual(kept([F(true, 'main.ts')]), [], 'only the most recent frame counts without allFrames');
  assert.deepEqual(kept([F(true, 'main.ts', { lineno: 1, allFrames: true })]), [1, 2]);
  assert.deepEqual(kept([F(true, 'app.ts', { lineno: null })]), [1, 3]);
  assert.deepEqual(kept([]), [1, 2, 3, 4]);
});

test('filterTraces returns a new snapshot with the same limit and meta', () => {
  const filtered = SNAP.filterTraces([new Filter(true, 'app.ts')]);
  assert.notEqual(filtered, SNAP);
  assert.equal(filtered.tracebackLimit, 5);
  assert.deepEqual(filtered.meta, SNAP.meta);
  assert.equal(SNAP.traces.length, 4, 'the original is untouched');
  assert.deepEqual(filtered.statistics('lineno').map(String), ['app.ts:12: size=300 B, count=1, average=300 B', 'app.ts:10: size=100 B, count=1, average=100 B']);
  // Any iterable of filters works.
  assert.equal(SNAP.filterTraces(new Set([new Filter(false, '*')])).traces.length, 0);
});

test('Filter fields, single-filter matching, and argument errors', () => {
  const f = new Filter(false, '<unknown>', { lineno: 0 });
  assert.equal(f.inclusive, false);
  assert.equal(f.filenamePattern, '<unknown>');
  assert.equal(f.lineno, 0);
  assert.equal(f.allFrames, false);
  assert.equal(new Filter(true, 'x').lineno, undefined);
  assert.equal(f.match(new Trace(new Traceback([new Frame('<unknown>', 0)]), 1)), false);
  assert.equal(f.match(TRACES[0]), true);
  assert.equal(passesFilters(TRACES[0], [f, new Filter(true, 'nothing')]), false);
  assert.throws(() => new Filter('yes' as unknown as boolean, '*'), /Filter inclusive must be a boolean/);
  assert.throws(() => new Filter(true, 3 as unknown as string), /Filter filenamePattern must be a string/);
  assert.throws(() => new Filter(true, '*', { lineno: 1.5 }), /Filter lineno must be an integer or null/);
  assert.throws(() => SNAP.filterTraces(null as unknown as Filter[]), /filterTraces expects a list of Filter/);
  assert.throws(() => SNAP.filterTraces(['*.ts'] as unknown as Filter[]), /filterTraces expects a list of Filter/);
});

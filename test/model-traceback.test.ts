import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Frame, Traceback, clearSourceCache, compareCodePoints, formatFrameWithFunction, getSourceLine } from '../src/model/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-model-tb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('Frame prints file:line like Python and compares by (filename, lineno)', () => {
  const f = new Frame('app.ts', 10, 3, 'makeGlobals');
  assert.equal(String(f), 'app.ts:10');
  assert.equal(`${f}`, 'app.ts:10');
  assert.equal(f.column, 3);
  assert.equal(f.functionName, 'makeGlobals');
  assert.equal(new Frame('x.ts', 1).column, 0);
  assert.equal(new Frame('x.ts', 1).functionName, '');
  // Same file and line, other function: equal for Python, same grouping key.
  const g = new Frame('app.ts', 10, 40, 'other');
  assert.ok(f.equals(g));
  assert.equal(f.key, g.key);
  assert.notEqual(f.key, new Frame('app.ts', 11).key);
  assert.notEqual(new Frame('a:1', 2).key, new Frame('a', 12).key);
  assert.ok(new Frame('a.ts', 9).compare(new Frame('a.ts', 10)) < 0);
  assert.ok(new Frame('b.ts', 1).compare(new Frame('a.ts', 10)) > 0);
  assert.equal(f.compare(g), 0);
  assert.ok(Object.isFrozen(f));
});

test('formatFrameWithFunction puts the function beside file:line', () => {
  assert.equal(formatFrameWithFunction(new Frame('app.ts', 10, 1, 'makeGlobals')), 'app.ts:10 (in makeGlobals)');
  assert.equal(formatFrameWithFunction(new Frame('app.ts', 10)), 'app.ts:10');
});

test('Frame rejects bad fields', () => {
  assert.throws(() => new Frame(1 as unknown as string, 1), /Frame filename must be a string/);
  assert.throws(() => new Frame('a', -1), /Frame lineno must be an integer >= 0, not -1/);
  assert.throws(() => new Frame('a', 1.5), /lineno/);
  assert.throws(() => new Frame('a', 1, -2), /Frame column/);
});

test('strings compare by code point like Python', () => {
  // U+1F600 (surrogates D83D DE00) sorts after U+FF5E in Python; UTF-16 order says otherwise.
  assert.ok('\u{1F600}' < '\uFF5E');
  assert.ok(compareCodePoints('\u{1F600}', '\uFF5E') > 0);
  assert.ok(compareCodePoints('a', 'ab') < 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
});

test('Traceback is oldest first with sequence access', () => {
  const frames = [new Frame('main.ts', 1, 1, 'main'), new Frame('lib.ts', 5, 1, 'helper'), new Frame('app.ts', 10, 1, 'alloc')];
  const tb = new Traceback(frames, 7);
  assert.equal(tb.length, 3);
  assert.equal(tb.totalFrames, 7);
  assert.equal(tb.at(0), frames[0]);
  assert.equal(tb.at(-1), frames[2]);
  assert.equal(tb.mostRecent, frames[2]);
  assert.equal(tb.at(5), undefined);
  assert.deepEqual([...tb], frames);
  // Python: str(traceback) is str(traceback[0]), the OLDEST frame.
  assert.equal(String(tb), 'main.ts:1');
  assert.equal(new Traceback([frames[0]]).totalFrames, undefined);
  assert.ok(Object.isFrozen(tb.frames));
});

test('Traceback equality and ordering follow Python tuples of frames', () => {
  const a = new Traceback([new Frame('a.ts', 1), new Frame('b.ts', 2)]);
  const a2 = new Traceback([new Frame('a.ts', 1, 5, 'f'), new Frame('b.ts', 2, 9, 'g')], 4);
  const b = new Traceback([new Frame('a.ts', 1), new Frame('b.ts', 3)]);
  const prefix = new Traceback([new Frame('a.ts', 1)]);
  assert.ok(a.equals(a2));
  assert.equal(a.key, a2.key);
  assert.ok(!a.equals(b));
  assert.ok(a.compare(b) < 0);
  assert.ok(b.compare(a) > 0);
  assert.ok(prefix.compare(a) < 0, 'a shorter prefix sorts first');
  assert.equal(a.compare(a2), 0);
});

test('Traceback rejects bad input', () => {
  assert.throws(() => new Traceback([]), /a Traceback needs at least one frame/);
  assert.throws(() => new Traceback([new Frame('a', 1)], 0), /totalFrames must be an integer >= 1/);
  assert.throws(() => new Traceback([{} as Frame]), /Traceback frames must be Frame instances/);
});

test('Traceback.format prints Python lines plus function names and source', () => {
  const file = join(dir, 'app.ts');
  writeFileSync(file, ['function main() {', '  run();', '}', '\tconst x = makeGlobals();   ', ''].join('\n'));
  clearSourceCache();
  const tb = new Traceback([new Frame(file, 1, 1, 'main'), new Frame(file, 2), new Frame(file, 4, 3, 'makeGlobals')], 3);
  assert.deepEqual(tb.format(), [
    `  File "${file}", line 1, in main`,
    '    function main() {',
    `  File "${file}", line 2`,
    '    run();',
    `  File "${file}", line 4, in makeGlobals`,
    '    const x = makeGlobals();',
  ]);
  assert.deepEqual(tb.format({ mostRecentFirst: true }), [
    `  File "${file}", line 4, in makeGlobals`,
    '    const x = makeGlobals();',
    `  File "${file}", line 2`,
    '    run();',
    `  File "${file}", line 1, in main`,
    '    function main() {',
  ]);
  // Positive limit: the most recent frames; negative: the oldest ones; 0: none.
  assert.deepEqual(tb.format({ limit: 1 }), [`  File "${file}", line 4, in makeGlobals`, '    const x = makeGlobals();']);
  assert.deepEqual(tb.format({ limit: -1 }), [`  File "${file}", line 1, in main`, '    function main() {']);
  assert.deepEqual(tb.format({ limit: 2, mostRecentFirst: true }).filter((l) => l.startsWith('  File')), [
    `  File "${file}", line 4, in makeGlobals`,
    `  File "${file}", line 2`,
  ]);
  assert.deepEqual(tb.format({ limit: -2, mostRecentFirst: true }).filter((l) => l.startsWith('  File')), [
    `  File "${file}", line 2`,
    `  File "${file}", line 1, in main`,
  ]);
  assert.deepEqual(tb.format({ limit: 0 }), []);
  assert.deepEqual(tb.format({ limit: 10 }).length, 6);
  assert.deepEqual(tb.format({ limit: null }).length, 6);
  assert.throws(() => tb.format({ limit: 1.5 }), /format limit must be an integer or null/);
});

test('Traceback.format: blank, missing and unreadable lines print no source line', () => {
  const file = join(dir, 'blank.ts');
  writeFileSync(file, 'first\r\n   \r\nthird\rfourth');
  clearSourceCache();
  const tb = new Traceback([
    new Frame(file, 2),
    new Frame(file, 99),
    new Frame(join(dir, 'missing.ts'), 1),
    new Frame('node:internal/modules/cjs/loader', 3, 1, 'load'),
    new Frame('<unknown>', 0),
    new Frame(dir, 1),
  ]);
  assert.deepEqual(tb.format(), [
    `  File "${file}", line 2`,
    `  File "${file}", line 99`,
    `  File "${join(dir, 'missing.ts')}", line 1`,
    '  File "node:internal/modules/cjs/loader", line 3, in load',
    '  File "<unknown>", line 0',
    `  File "${dir}", line 1`,
  ]);
  // Universal newlines, as linecache.
  assert.equal(getSourceLine(file, 3), 'third');
  assert.equal(getSourceLine(file, 4), 'fourth');
  assert.equal(getSourceLine(file, 0), '');
});

test('source lines are cached, accept file:// URLs and can be cleared', () => {
  const file = join(dir, 'cached.ts');
  writeFileSync(file, 'old line\n');
  clearSourceCache();
  assert.equal(getSourceLine(file, 1), 'old line');
  writeFileSync(file, 'new line\n');
  assert.equal(getSourceLine(file, 1), 'old line', 'read once, then cached');
  clearSourceCache(file);
  assert.equal(getSourceLine(file, 1), 'new line');
  const url = pathToFileURL(file).href;
  assert.equal(getSourceLine(url, 1), 'new line');
  const tb = new Traceback([new Frame(url, 1, 1, 'f')]);
  assert.deepEqual(tb.format(), [`  File "${url}", line 1, in f`, '    new line']);
});

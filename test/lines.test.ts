import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimateCovers, fixture, runJson, runNode, writeStandInTsx } from './helpers.js';
import { Snapshot } from '../src/index.js';

interface FrameJson { file: string; line: number; fn: string; atLine: boolean }
interface StatJson {
  frames: FrameJson[];
  size: number;
  count: number;
  estimate?: { sizeLow: number; sizeHigh: number; countLow: number; countHigh: number; sizeVariance: number };
}
interface Result { lineSampleEvery: number; stats: StatJson[] }

const START = fileURLToPath(new URL('../src/agent/start.js', import.meta.url));
const SOURCE = fileURLToPath(new URL('../../test/fixtures/lines-multi.ts', import.meta.url));

/** 1-based line of the `// @marker` comment in the fixture's TypeScript source. */
function lineOf(marker: string, source = SOURCE): number {
  const at = readFileSync(source, 'utf8').split('\n').findIndex((l) => l.includes(`// @${marker}`));
  assert.notEqual(at, -1, `marker @${marker}`);
  return at + 1;
}

function runLines(every: number, frames: number, n = 3000, interval = 64 * 1024, script = fixture('lines-multi.js'), mode = 'sampling'): Result {
  return runJson<Result>(['--import', START, script, String(n)], {
    env: {
      NODE_TRACEMALLOC_MODE: mode,
      NODE_TRACEMALLOC_LINES: '1',
      NODE_TRACEMALLOC_LINES_EVERY: String(every),
      NODE_TRACEMALLOC: String(frames),
      NODE_TRACEMALLOC_INTERVAL: String(interval),
    },
  });
}

const atLine = (stats: StatJson[], line: number) => stats.filter((s) => s.frames.at(-1)!.atLine && s.frames.at(-1)!.line === line);

test('line mode reports each allocating line of a function with its own count and size, at the .ts line', () => {
  const { stats, lineSampleEvery } = runLines(1, 1);
  assert.equal(lineSampleEvery, 1);
  const objects = atLine(stats, lineOf('objects'));
  const arrays = atLine(stats, lineOf('arrays'));
  assert.equal(objects.length, 1, JSON.stringify(stats));
  assert.equal(arrays.length, 1, JSON.stringify(stats));
  const [o] = objects;
  const [a] = arrays;
  assert.ok(o.frames[0].file.endsWith('lines-multi.ts'), o.frames[0].file);
  assert.equal(o.frames[0].fn, 'build');
  // Every allocation sampled: the counts are exact. Counts are heap blocks, as V8's
  // (and Python's) are: an array is the array object and its elements store.
  assert.equal(o.count, 3000);
  assert.equal(a.count, 2 * 3000);
  // {a, b, c}: a header and three fields; new Array(50): the array and its 50-slot store.
  const objectSize = o.size / 3000;
  const arraySize = a.size / 3000;
  assert.ok(Number.isInteger(objectSize) && objectSize >= 24 && objectSize <= 64, `object of ${objectSize} B`);
  assert.ok(Number.isInteger(arraySize) && arraySize >= 50 * 8 && arraySize <= 50 * 8 + 96, `array of ${arraySize} B`);
});

test('line mode: outer frames carry the calling line', () => {
  const { stats } = runLines(1, 4);
  const [o] = atLine(stats, lineOf('objects'));
  assert.ok(o, JSON.stringify(stats));
  const caller = o.frames.at(-2)!;
  assert.equal(caller.line, lineOf('call'));
  assert.equal(caller.fn, 'outer');
  assert.equal(caller.atLine, true);
  assert.ok(caller.file.endsWith('lines-multi.ts'), caller.file);
});

test("line mode: per function, the lines and V8's remainder add up to V8's function figure, and the lines explain most of it", () => {
  // A dense V8 interval, so that V8's own estimate of build() is within a few percent.
  const { stats } = runLines(1, 1, 6000, 4096);
  const objects = atLine(stats, lineOf('objects'))[0];
  const arrays = atLine(stats, lineOf('arrays'))[0];
  // What V8 saw in build() that no instrumented line explains (keep's own store grows by push).
  const rest = stats.filter((s) => !s.frames.at(-1)!.atLine && s.frames.at(-1)!.fn === 'build');
  const lines = objects.size + arrays.size;
  const remainder = rest.reduce((sum, s) => sum + s.size, 0);
  const functionLevel = lines + remainder;
  // keep's store (12,000 slots of 8 bytes, at most doubled by growth) plus V8's sampling
  // error: 4 standard deviations, which a correct estimate exceeds once in 30,000 runs.
  const sd = Math.sqrt(rest.reduce((sum, s) => sum + s.estimate!.sizeVariance, 0));
  assert.ok(remainder <= 12_000 * 8 * 2 + 4 * sd, `remainder ${remainder} (sd ${Math.round(sd)}) of ${functionLevel}`);
  assert.ok(lines > 0.8 * functionLevel, `lines ${lines} of ${functionLevel}`);
  for (const s of rest) assert.ok(s.estimate, 'the remainder is an estimate from V8 samples');
});

test("line mode over exact mode: exact lines, and the function's remainder is only what push grew", () => {
  const { stats } = runLines(1, 1, 3000, 64 * 1024, fixture('lines-multi.js'), 'exact');
  const [o] = atLine(stats, lineOf('objects'));
  const [a] = atLine(stats, lineOf('arrays'));
  assert.equal(o.count, 3000);
  assert.equal(a.count, 6000);
  assert.equal(o.estimate, undefined, 'exact figures carry no estimate');
  const rest = stats.filter((s) => !s.frames.at(-1)!.atLine && s.frames.at(-1)!.fn === 'build');
  const remainder = rest.reduce((sum, s) => sum + s.size, 0);
  // keep's store: 6,000 slots of 8 bytes, at most doubled by growth; nothing else is unexplained.
  assert.ok(remainder <= 6000 * 8 * 2 + 64, `remainder ${remainder}`);
});

test('line mode with sampling: estimates cover the exact counts', () => {
  const { stats } = runLines(16, 1, 6000);
  for (const [marker, blocks] of [['objects', 6000], ['arrays', 12_000]] as const) {
    const [s] = atLine(stats, lineOf(marker));
    assert.ok(s, `${marker}: ${JSON.stringify(stats)}`);
    const e = s.estimate!;
    assert.ok(e, 'sampled lines carry an estimate');
    // Each execution of the line is sampled with p = 1/16 and counts `per` blocks: the
    // estimate's true standard deviation is per * 16 * sqrt(n p (1 - p)). Five of them
    // fail a correct estimator once in 1.7 million runs (the estimate's own bounds
    // shrink with a low draw, so they make a flaky yardstick).
    const per = blocks / 6000;
    const sd = per * 16 * Math.sqrt(6000 * (1 / 16) * (15 / 16));
    assert.ok(Math.abs(s.count - blocks) <= 5 * sd, `${marker}: count ${s.count}, sd ${sd}`);
    // The stated 95% bounds are about 1.96 true deviations each side: honest, and informative.
    const half = (e.countHigh - e.countLow) / 2;
    assert.ok(half > 1.2 * sd && half < 2.8 * sd, `${marker}: bounds [${e.countLow}, ${e.countHigh}] against sd ${sd}`);
  }
});

// Per Node (`npm test` runs the suite on each): registerHooks instead of
// register + _compile, and, from 22.18, the .ts file run directly through type stripping.
const [major, minor] = process.versions.node.split('.').map(Number);
const strips = major > 22 || (major === 22 && minor >= 18);
test(`line mode on ${process.version}: tsc output${strips ? ' and the .ts file through type stripping' : ''} give the .ts lines`, () => {
  const scripts = [fixture('lines-multi.js'), ...(strips ? [SOURCE] : [])];
  for (const script of scripts) {
    const { stats } = runLines(1, 2, 3000, 64 * 1024, script);
    const [o] = atLine(stats, lineOf('objects'));
    const [a] = atLine(stats, lineOf('arrays'));
    assert.ok(o && a, `${script}: ${JSON.stringify(stats)}`);
    assert.equal(o.count, 3000);
    assert.equal(a.count, 6000);
    assert.ok(o.frames.at(-1)!.file.endsWith('lines-multi.ts'));
    assert.equal(o.frames.at(-2)!.line, lineOf('call'), 'the caller at its calling line');
  }
});

// Node 22+ hands the load hook no format for a .js file that require() loads
// from a package.json without "type" (most of npm): such files must be instrumented too.
const UNTYPED = fileURLToPath(new URL('../../test/fixtures-lines/untyped/', import.meta.url));
test(`line mode on ${process.version}: a .js file require()d from a package without "type" is instrumented`, () => {
  const out = mkdtempSync(join(tmpdir(), 'tm-lines-'));
  try {
    const dump = join(out, 'exit.tracemalloc');
    const env = { NODE_TRACEMALLOC_LINES: '1', NODE_TRACEMALLOC_LINES_EVERY: '1', NODE_TRACEMALLOC_LINES_INCLUDE: `${UNTYPED}**`, NODE_TRACEMALLOC_DUMP: dump };
    const run = runNode(['--import', START, join(UNTYPED, 'main.js'), '500'], { env });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    const lib = join(UNTYPED, 'lib.js');
    const line = lineOf('untyped', lib);
    const sites = Snapshot.load(dump).traces.filter((t) => {
      const f = t.traceback.frames.at(-1)!;
      return f.atLine && f.filename === lib && f.lineno === line;
    });
    assert.equal(sites.reduce((n, t) => n + t.count, 0), 500, JSON.stringify(sites));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('tracemalloc run --lines on a .ts file: top shows allocating lines, and an excluded module keeps its function start, marked', () => {
  const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const app = fileURLToPath(new URL('../../test/fixtures/lines-app.ts', import.meta.url));
  const out = mkdtempSync(join(tmpdir(), 'tm-lines-'));
  // On a Node without type stripping, run loads the project's tsx (a stand-in here). Line mode
  // instruments the files under the working directory by default: the fixtures are elsewhere.
  const project = mkdtempSync(join(tmpdir(), 'tm-lines-project-'));
  writeStandInTsx(project);
  try {
    const env = { NO_COLOR: '1', NODE_TRACEMALLOC_LINES_INCLUDE: `${dirname(app)}/**`, NODE_TRACEMALLOC_LINES_EXCLUDE: '**/lines-lib.*' };
    const run = runNode([CLI, 'run', '--lines', '--line-sample-every', '4', '--out', out, '--', app], { env, cwd: project });
    assert.equal(run.status, 0, run.stderr);
    const snap = readdirSync(out).find((f) => f.endsWith('-exit.snap'))!;
    const top = runNode([CLI, 'top', join(out, snap), '--key', 'lineno', '--limit', '0'], { env });
    assert.equal(top.status, 0, top.stderr);
    for (const marker of ['tags', 'entry']) {
      assert.match(top.stdout, new RegExp(`lines-app\\.ts:${lineOf(marker, app)} \\(in register\\): size=`), top.stdout);
    }
    // The excluded library: V8's function-level figure, marked as a function start.
    assert.match(top.stdout, /lines-lib\.(ts|js):2 \(function start of makeRecords\): size=/, top.stdout);
    assert.match(top.stdout, /Note: line mode/);
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  }
});

test('line mode leaves tricky syntax behaving the same: await/yield in literals, getters, super, private and static fields, decorators, optional chains, new.target, labels', async () => {
  const script = fixture('lines-tricky.js');
  const plain = runNode([script]);
  const traced = runNode(['--import', START, script], { env: { NODE_TRACEMALLOC_LINES: '1', NODE_TRACEMALLOC_LINES_EVERY: '1', NODE_TRACEMALLOC: '4' } });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(traced.status, 0, traced.stderr);
  assert.equal(traced.stderr, '', 'no warning or error');
  assert.equal(traced.stdout, plain.stdout);
  // And the file was instrumented: most of its allocation expressions are sites.
  const { instrument } = await import('../src/lines/transform/index.js');
  const code = readFileSync(script, 'utf8');
  const result = instrument(code, { url: script, sourceType: 'module', inputMap: readFileSync(`${script}.map`, 'utf8') });
  // tsc's decorator helpers have no original position and stay at the .js file.
  const inTs = result.sites.filter((s) => s.file.endsWith('lines-tricky.ts'));
  assert.ok(inTs.length >= 30, `${inTs.length} of ${result.sites.length} sites in the .ts file`);
});

const STRINGS = fileURLToPath(new URL('../../test/fixtures/lines-strings.ts', import.meta.url));

test('line mode: strings kept on their own count at the line that built them (optimized code), dead ones not at all', () => {
  const n = 20_000;
  const run = (every: number, what: string) =>
    runJson<Result & { kept: number }>(['--import', START, fixture('lines-strings.js'), String(n), what], {
      env: { NODE_TRACEMALLOC_LINES: '1', NODE_TRACEMALLOC_LINES_EVERY: String(every), NODE_TRACEMALLOC: '1' },
    });
  const line = lineOf('label', STRINGS);
  // Every string sampled: each kept string is found, by its content, once.
  const exact = atLine(run(1, 'keep').stats, line);
  assert.equal(exact.length, 1, JSON.stringify(exact));
  const perString = exact[0].size / n;
  // `item 123 of kind odd: 861`: a concatenated string and its parts, at least the characters.
  assert.ok(exact[0].count >= n && perString >= 16 + 25 && perString <= 200, `${exact[0].count} blocks, ${perString} B per string`);
  // Sampled: an estimate whose bounds cover the exact figure.
  const [sampled] = atLine(run(16, 'keep').stats, line);
  assert.ok(sampled?.estimate, 'a sampled line carries an estimate');
  assert.ok(estimateCovers(sampled.size, sampled.estimate.sizeLow, sampled.estimate.sizeHigh, exact[0].size), `${sampled.size} [${sampled.estimate.sizeLow}, ${sampled.estimate.sizeHigh}] against ${exact[0].size}`);
  // Built and dropped: nothing alive at the line.
  const dropped = atLine(run(1, 'drop').stats, line).reduce((s, x) => s + x.size, 0);
  assert.ok(dropped <= 0.01 * exact[0].size, `${dropped} B reported for dead strings`);
});

for (const [what, right] of [['map', 'key'], ['names', 'name']] as const) {
  const copies = what === 'names' || Number(process.versions.v8.split('.')[0]) >= 14;
  const title = what === 'map' ? "a Map's keys (V8 14 copies a key where a Map first takes it)" : "an object's property names (V8 copies a name where it is stored)";
  test(`line mode on ${process.version}: strings kept as ${title} count where the live copy was made`, () => {
    const n = 20_000;
    const run = (every: number) =>
      runJson<Result & { kept: number }>(['--import', START, fixture('lines-strings.js'), String(n), what], {
        env: { NODE_TRACEMALLOC_LINES: '1', NODE_TRACEMALLOC_LINES_EVERY: String(every), NODE_TRACEMALLOC: '1' },
      });
    const [at, not] = copies ? [lineOf(right, STRINGS), lineOf('label', STRINGS)] : [lineOf('label', STRINGS), lineOf(right, STRINGS)];
    const sizeAt = (stats: StatJson[], line: number) => atLine(stats, line).reduce((s, x) => s + x.size, 0);
    const every = run(1).stats;
    const kept = sizeAt(every, at);
    // The characters of 20,000 labels at least, and each counted once.
    assert.ok(kept >= n * (16 + 25) && kept <= n * 200, `${kept} B at line ${at}`);
    assert.ok(atLine(every, at).reduce((s, x) => s + x.count, 0) >= n);
    assert.ok(sizeAt(every, not) <= 0.01 * kept, `${sizeAt(every, not)} B at line ${not}`);
    // What V8 saw fill allocate and no line explains stays at fill's start: the Map's table or the
    // object's dictionary, about as big as the copies (0.9 MB). Counted at a line and again there,
    // the copies would double it.
    const fillStart = every.filter((s) => !s.frames.at(-1)!.atLine && s.frames.at(-1)!.fn === 'fill').reduce((s, x) => s + x.size, 0);
    assert.ok(fillStart <= 1.5 * kept, `${fillStart} B at fill's start besides ${kept} B at its lines`);
    // Sampled: the bounds cover the figure of every string.
    const sampled = atLine(run(16).stats, at);
    const size = sampled.reduce((s, x) => s + x.size, 0);
    const half = 1.96 * Math.sqrt(sampled.reduce((s, x) => s + (x.estimate?.sizeVariance ?? 0), 0));
    assert.ok(estimateCovers(size, size - half, size + half, kept), `${size} ± ${half} against ${kept}`);
  });
}

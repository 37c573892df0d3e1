import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DUMP_FORMAT, DUMP_VERSION, Frame, Snapshot, Trace, Traceback, decodeSnapshot, encodeSnapshot } from '../src/model/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-model-dump-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const main = new Frame('/src/main.ts', 1, 1, 'main');
const alloc = new Frame('file:///src/app.ts', 10, 17, 'makeGlobals');
const other = new Frame('/src/app.ts', 10, 40, 'arrow'); // same line, other function: kept distinct
const unknown = new Frame('<unknown>', 0);
const shared = new Traceback([main, alloc], 12);

function sampled(): Snapshot {
  return new Snapshot(
    [
      new Trace(shared, 272484, 9743, { samples: 37, sizeVariance: 1234.5, countVariance: 0.1 + 0.2 }),
      new Trace(shared, 10, 1, { samples: 1, sizeVariance: 0, countVariance: 0 }),
      new Trace(new Traceback([main, other]), 1e15 + 1, 3, { samples: 2, sizeVariance: 1e30, countVariance: 7 }),
      new Trace(new Traceback([unknown]), 0, 0, { samples: 0, sizeVariance: 0, countVariance: 0 }),
    ],
    25,
    { mode: 'sampling', samplingInterval: 524288, timestamp: 1764000000123.5, pid: 4242, nodeVersion: 'v20.19.0' },
  );
}

function same(a: Snapshot, b: Snapshot): void {
  assert.equal(b.tracebackLimit, a.tracebackLimit);
  assert.deepEqual(b.meta, a.meta);
  assert.equal(b.traces.length, a.traces.length);
  a.traces.forEach((t, i) => {
    const u = b.traces[i];
    assert.equal(u.size, t.size);
    assert.equal(u.count, t.count);
    assert.deepEqual(u.estimate, t.estimate);
    assert.equal(u.traceback.totalFrames, t.traceback.totalFrames);
    assert.deepEqual(u.traceback.frames.map((f) => f.toJSON()), t.traceback.frames.map((f) => f.toJSON()));
  });
}

test('dump/load round-trips every field of a sampling snapshot', () => {
  const path = join(dir, 'sampled.tmsnap');
  const snap = sampled();
  snap.dump(path);
  const loaded = Snapshot.load(path);
  same(snap, loaded);
  assert.equal(loaded.traces[0].estimate!.countVariance, 0.1 + 0.2, 'floats survive bit for bit');
  // Shared tracebacks come back shared, and statistics are unchanged.
  assert.equal(loaded.traces[0].traceback, loaded.traces[1].traceback);
  assert.deepEqual(loaded.statistics('traceback').map(String), snap.statistics('traceback').map(String));
  assert.deepEqual(loaded.compareTo(snap, 'lineno').map(String), snap.compareTo(snap, 'lineno').map(String));
});

test('dump/load round-trips an exact snapshot without optional fields', () => {
  const path = join(dir, 'exact.tmsnap');
  const snap = new Snapshot([new Trace(new Traceback([main]), 64, 2)], 1, { mode: 'exact', timestamp: 5 });
  snap.dump(path);
  const loaded = Snapshot.load(path);
  same(snap, loaded);
  assert.deepEqual(loaded.meta, { mode: 'exact', timestamp: 5 });
  assert.equal(loaded.traces[0].estimate, undefined);
  assert.equal(loaded.traces[0].traceback.totalFrames, undefined);
});

test('the dump is gzip JSON in the documented shape, deduplicated, with nothing else', () => {
  const path = join(dir, 'shape.tmsnap');
  sampled().dump(path);
  const raw = readFileSync(path);
  assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b]);
  const doc = JSON.parse(gunzipSync(raw).toString('utf8'));
  assert.deepEqual(Object.keys(doc).sort(), ['format', 'frames', 'meta', 'tracebackLimit', 'tracebacks', 'traces', 'version'].sort());
  assert.equal(doc.format, 'tracemalloc-snapshot');
  assert.equal(doc.version, 2);
  assert.deepEqual(doc.frames, [
    ['/src/main.ts', 1, 1, 'main'],
    ['file:///src/app.ts', 10, 17, 'makeGlobals'],
    ['/src/app.ts', 10, 40, 'arrow'],
    ['<unknown>', 0, 0, ''],
  ]);
  assert.deepEqual(doc.tracebacks, [[12, 0, 1], [null, 0, 2], [null, 3]]);
  assert.deepEqual(doc.traces, [
    [0, 272484, 9743, 37, 1234.5, 0.30000000000000004],
    [0, 10, 1, 1, 0, 0],
    [1, 1e15 + 1, 3, 2, 1e30, 7],
    [2, 0, 0, 0, 0, 0],
  ]);
  assert.deepEqual(doc.meta, { mode: 'sampling', samplingInterval: 524288, timestamp: 1764000000123.5, pid: 4242, nodeVersion: 'v20.19.0' });
  assert.equal(DUMP_FORMAT, doc.format);
  assert.equal(DUMP_VERSION, doc.version);
});

test('equal tracebacks held by distinct objects are stored once', () => {
  const a = new Traceback([main, alloc], 2);
  const b = new Traceback([main, alloc], 2);
  const doc = encodeSnapshot(new Snapshot([new Trace(a, 1), new Trace(b, 2)], 2));
  assert.equal(doc.tracebacks.length, 1);
  assert.equal(doc.frames.length, 2);
  assert.deepEqual(doc.traces, [[0, 1, 1], [0, 2, 1]]);
});

test('dump is atomic: replaces an existing file, leaves no temporary file', () => {
  const sub = join(dir, 'atomic');
  mkdirSync(sub);
  const path = join(sub, 'snap.gz');
  writeFileSync(path, 'previous contents');
  sampled().dump(path);
  assert.deepEqual(readdirSync(sub), ['snap.gz']);
  assert.equal(Snapshot.load(path).traces.length, 4);
});

test('dump errors are one clear line and leave nothing behind', () => {
  const missingDir = join(dir, 'no', 'such', 'dir', 'x.gz');
  assert.throws(() => sampled().dump(missingDir), (err: Error) => {
    assert.match(err.message, /^cannot dump snapshot to .*x\.gz: ENOENT/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  const sub = join(dir, 'dump-onto-dir');
  mkdirSync(join(sub, 'target'), { recursive: true });
  assert.throws(() => sampled().dump(join(sub, 'target')), /^Error: cannot dump snapshot to .*target: /);
  assert.deepEqual(readdirSync(sub), ['target'], 'the temporary file is removed');
});

/** Write `doc` as a gzip'd JSON dump and return the load error message. */
function loadError(name: string, content: Buffer | string | object): string {
  const path = join(dir, name);
  const data = Buffer.isBuffer(content) ? content : typeof content === 'string' ? Buffer.from(content) : gzipSync(JSON.stringify(content));
  writeFileSync(path, data);
  try {
    Snapshot.load(path);
  } catch (err) {
    assert.ok(err instanceof Error && !(err instanceof TypeError), `a plain Error, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.ok(err.message.startsWith(`cannot load snapshot from ${path}: `), err.message);
    return err.message.slice(`cannot load snapshot from ${path}: `.length);
  }
  assert.fail(`loading ${name} should fail`);
}

const good = () => encodeSnapshot(sampled()) as unknown as Record<string, unknown>;

test('load: unreadable, not gzip, corrupt gzip, not JSON, not ours, other version', () => {
  assert.throws(() => Snapshot.load(join(dir, 'missing.gz')), /^Error: cannot load snapshot from .*missing\.gz: ENOENT: no such file or directory/);
  assert.throws(() => Snapshot.load(dir), /^Error: cannot load snapshot from .*: EISDIR/);
  assert.equal(loadError('plain.json', '{"format":"tracemalloc-snapshot"}'), 'not a gzip file (a tracemalloc dump is gzip-compressed JSON)');
  assert.equal(loadError('empty', ''), 'not a gzip file (a tracemalloc dump is gzip-compressed JSON)');
  assert.match(loadError('truncated.gz', gzipSync('{"a": 1}').subarray(0, 12)), /^corrupt gzip data \(/);
  assert.equal(loadError('text.gz', gzipSync('hello')), 'not a tracemalloc snapshot dump (contents are not JSON)');
  assert.equal(loadError('other.gz', { format: 'pprof', version: 1 }), 'not a tracemalloc snapshot dump');
  assert.equal(loadError('array.gz', [1, 2]), 'not a tracemalloc snapshot dump');
  assert.equal(loadError('null.gz', gzipSync('null')), 'not a tracemalloc snapshot dump');
  assert.equal(loadError('v7.gz', { ...good(), version: 7 }), 'unsupported dump version 7 (this tracemalloc reads versions 1 to 2)');
  assert.equal(loadError('vnone.gz', { ...good(), version: undefined }), 'unsupported dump version undefined (this tracemalloc reads versions 1 to 2)');
});

test('load: malformed contents name the bad entry', () => {
  const cases: Array<[string, Record<string, unknown>, string | RegExp]> = [
    ['meta', { meta: null }, 'malformed contents: meta: snapshot meta must be an object'],
    ['mode', { meta: { mode: 'fast', timestamp: 1 } }, `malformed contents: meta: snapshot meta.mode must be 'exact' or 'sampling', not "fast"`],
    ['interval', { meta: { mode: 'sampling', timestamp: 1, samplingInterval: -4 } }, 'malformed contents: meta: snapshot meta.samplingInterval must be a positive number'],
    ['limit', { tracebackLimit: 0 }, 'malformed contents: "tracebackLimit" must be an integer >= 1'],
    ['frames', { frames: {} }, 'malformed contents: "frames" must be an array'],
    ['frame-shape', { frames: [['a.ts', 1]] }, 'malformed contents: frames[0]: expected [filename, lineno, column, functionName] or [..., 1]'],
    ['frame-line', { frames: [['a.ts', -1, 0, '']] }, 'malformed contents: frames[0]: Frame lineno must be an integer >= 0, not -1'],
    ['frame-name', { frames: [[7, 1, 0, '']] }, 'malformed contents: frames[0]: Frame filename must be a string, not number'],
    ['tracebacks', { tracebacks: 'x' }, 'malformed contents: "tracebacks" must be an array'],
    ['tb-empty', { tracebacks: [[null]] }, 'malformed contents: tracebacks[0]: expected [totalFrames, frameIndex, ...]'],
    ['tb-index', { tracebacks: [[null, 99]] }, 'malformed contents: tracebacks[0]: frame index 99 out of range'],
    ['tb-index-type', { tracebacks: [[null, '0']] }, 'malformed contents: tracebacks[0]: frame index "0" out of range'],
    ['tb-total', { tracebacks: [[1, 0, 1]] }, /^malformed contents: tracebacks\[0\]: Traceback totalFrames must be an integer >= 2/],
    ['tb-total-type', { tracebacks: [['3', 0]] }, 'malformed contents: tracebacks[0]: totalFrames must be a number or null'],
    ['traces', { traces: null }, 'malformed contents: "traces" must be an array'],
    ['trace-shape', { traces: [[0, 1]] }, /^malformed contents: traces\[0\]: expected \[traceback, size, count\]/],
    ['trace-index', { traces: [[5, 1, 1]] }, 'malformed contents: traces[0]: traceback index 5 out of range'],
    ['trace-size', { traces: [[0, -5, 1]] }, 'malformed contents: traces[0]: Trace size must be a finite number >= 0, not -5'],
    ['trace-count', { traces: [[0, 5, null]] }, 'malformed contents: traces[0]: Trace count must be a finite number >= 0, not null'],
    ['trace-var', { traces: [[0, 5, 1, 2, 'big', 0]] }, 'malformed contents: traces[0]: Trace estimate.sizeVariance must be a finite number >= 0, not big'],
  ];
  for (const [name, patch, expected] of cases) {
    const message = loadError(`bad-${name}.gz`, { ...good(), ...patch });
    if (typeof expected === 'string') assert.equal(message, expected, name);
    else assert.match(message, expected, name);
  }
});

test('decodeSnapshot is the in-memory inverse of encodeSnapshot', () => {
  const snap = sampled();
  const parts = decodeSnapshot(JSON.parse(JSON.stringify(encodeSnapshot(snap))));
  same(snap, new Snapshot(parts.traces, parts.tracebackLimit, parts.meta));
  assert.throws(() => decodeSnapshot({ format: 'tracemalloc-snapshot', version: 3 }), /^Error: unsupported dump version 3/);
});

test('line mode frames keep their atLine flag and lineSampleEvery through dump/load', () => {
  const at = new Frame('/app/handler.ts', 12, 5, 'handle', true);
  const start = new Frame('/app/handler.ts', 12, 1, 'handle');
  const snap = new Snapshot(
    [new Trace(new Traceback([at]), 640, 10), new Trace(new Traceback([start]), 64, 1)],
    1,
    { mode: 'sampling', samplingInterval: 65536, lineSampleEvery: 64, timestamp: 1 },
  );
  const doc = encodeSnapshot(snap);
  assert.deepEqual(doc.frames, [['/app/handler.ts', 12, 5, 'handle', 1], ['/app/handler.ts', 12, 1, 'handle']]);
  const back = decodeSnapshot(JSON.parse(JSON.stringify(doc)));
  assert.deepEqual(back.traces.map((t) => t.traceback.mostRecent.atLine), [true, false]);
  assert.equal(back.meta.lineSampleEvery, 64);
  assert.throws(() => decodeSnapshot({ ...doc, frames: [['/a.ts', 1, 1, 'f', 2]] }), /frames\[0\]: expected/);
});

test('off-heap sizes round-trip in version 2, and a version 1 dump still loads with none', () => {
  const tb = new Traceback([main, alloc]);
  const snap = new Snapshot(
    [
      new Trace(tb, 131_072_000 + 96, 2001, { samples: 1262, sizeVariance: 4e12, countVariance: 300 }, 131_072_000),
      new Trace(new Traceback([main]), 4096, 2, undefined, 4096),
      new Trace(new Traceback([main, other]), 64, 2),
    ],
    4,
    { mode: 'sampling', samplingInterval: 65536, timestamp: 7 },
  );
  const doc = encodeSnapshot(snap);
  assert.equal(doc.version, 2);
  assert.deepEqual(
    doc.traces.map((t) => t.length),
    [7, 4, 3],
    'the off-heap size is appended only to traces that have one',
  );
  const back = decodeSnapshot(JSON.parse(JSON.stringify(doc)));
  assert.deepEqual(
    back.traces.map((t) => t.offHeapSize),
    [131_072_000, 4096, 0],
  );
  const stat = new Snapshot(back.traces, back.tracebackLimit, back.meta).statistics('lineno')[0];
  assert.equal(stat.offHeapSize, 131_072_000);
  assert.match(String(stat), /, off-heap=125 MiB \(estimate/);

  // A version 1 file (written before off-heap sizes existed) loads unchanged.
  const v1 = { ...doc, version: 1, traces: [[0, 64, 2], [0, 10, 1, 1, 0, 0]] };
  const path = join(dir, 'v1.tmsnap');
  writeFileSync(path, gzipSync(JSON.stringify(v1)));
  const old = Snapshot.load(path);
  assert.deepEqual(old.traces.map((t) => [t.size, t.offHeapSize]), [[64, 0], [10, 0]]);
  // Version 1 has no 4- or 7-element traces.
  writeFileSync(path, gzipSync(JSON.stringify({ ...v1, traces: [[0, 64, 2, 64]] })));
  assert.throws(() => Snapshot.load(path), /traces\[0\]: expected \[traceback, size, count\]/);
  // Off-heap bytes cannot exceed the trace's size.
  assert.throws(() => decodeSnapshot({ ...doc, traces: [[0, 64, 2, 65]] }), /offHeapSize \(65\) must not exceed size \(64\)/);
});

test('diffs carry the off-heap size and its change', () => {
  const tb = new Traceback([alloc]);
  const before = new Snapshot([new Trace(tb, 1000, 2, undefined, 800)], 1, { mode: 'exact', timestamp: 1 });
  const now = new Snapshot([new Trace(tb, 5000, 4, undefined, 4000)], 1, { mode: 'exact', timestamp: 2 });
  const [diff] = now.compareTo(before, 'lineno');
  assert.equal(diff.offHeapSize, 4000);
  assert.equal(diff.offHeapSizeDiff, 3200);
  assert.match(String(diff), /, average=1250 B, off-heap=4000 B \(\+3200 B\)$/);
  const [gone] = new Snapshot([], 1, { mode: 'exact', timestamp: 3 }).compareTo(before, 'lineno');
  assert.equal(gone.offHeapSizeDiff, -800);
});

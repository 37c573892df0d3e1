import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeapSnapshot, HeapSnapshotError, HeapSnapshotParser, NO_DISTANCE, census, diffSnapshots, preview, readHeapSnapshot } from '../src/heap/index.js';
import fc from 'fast-check';
import { EXPECTED, GRAPH, LONG, UNICODE, tinySnapshotJson } from './fixtures-heap/tiny.js';

function parseChunked(text: string | Uint8Array, size: number, asString = false): HeapSnapshot {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const p = new HeapSnapshotParser();
  // String chunks (as the inspector delivers them) hold whole characters; byte chunks split anywhere.
  const decoder = new TextDecoder();
  for (let i = 0; i < bytes.length; i += size) {
    const piece = bytes.subarray(i, Math.min(bytes.length, i + size));
    p.write(asString ? decoder.decode(piece, { stream: true }) : piece);
  }
  return p.end();
}

/** Everything observable, for comparing parses. */
function digest(s: HeapSnapshot): unknown {
  const nodes = [];
  for (let k = 0; k < s.nodeCount; k++) {
    nodes.push([s.nodeType(k), s.nodeName(k), s.nodeId(k), s.selfSize(k), s.traceNodeId(k), s.edges(k).map((e) => [e.type, e.name, e.to])]);
  }
  return {
    nodes,
    strings: s.data.strings.toArray(),
    dom: Array.from(s.dominators().dominator),
    ret: Array.from(s.dominators().retainedSize),
    dist: Array.from(s.distances()),
    traces: [Array.from(s.data.traceTree.id), Array.from(s.data.traceTree.parent)],
    samples: Array.from(s.data.samples),
    locations: Array.from(s.data.locations),
  };
}

function expectError(input: string | Uint8Array, pattern: RegExp, offset?: number): HeapSnapshotError {
  const p = new HeapSnapshotParser();
  let err: unknown;
  try {
    p.write(input);
    p.end();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof HeapSnapshotError, `expected HeapSnapshotError, got ${String(err)}`);
  assert.match(err.message, pattern);
  assert.ok(!err.message.includes('\n'), 'one-line message');
  if (offset !== undefined) assert.equal(err.offset, offset);
  return err;
}

describe('heap parser: hand-made snapshot', () => {
  const text = tinySnapshotJson();
  const whole = parseChunked(text, text.length);

  it('reads nodes, edges and strings', () => {
    assert.equal(whole.nodeCount, GRAPH.length);
    assert.equal(whole.edgeCount, GRAPH.reduce((n, g) => n + g.edges.length, 0));
    assert.equal(whole.nodeName(3), 'Alpha');
    assert.equal(whole.nodeType(3), 'object');
    assert.equal(whole.nodeId(3), 7);
    assert.equal(whole.selfSize(6), 50);
    assert.equal(whole.nodeName(12), UNICODE);
    assert.deepEqual(whole.edges(2).map((e) => [e.type, e.name, e.to]), [['property', 'a', 3], ['property', 'b', 4], ['weak', 'w', 8]]);
    assert.deepEqual(whole.edges(0)[0], { index: 0, type: 'element', name: '1', from: 0, to: 1 });
    assert.equal(whole.findNodeById(21), 10);
    assert.equal(whole.findNodeById(22), -1);
  });

  it('caps long strings and keeps their length', () => {
    assert.equal(whole.nodeName(13).length, 1024);
    assert.equal(whole.nodeName(13), LONG.slice(0, 1024));
    assert.equal(whole.stringLength(whole.data.nodeName[13]), 5000);
  });

  it('keeps memory bounded for a huge string (10 MB, escapes, chunked)', () => {
    const doc = JSON.parse(tinySnapshotJson()) as { strings: string[] };
    const huge = `${'\u00e9"\\'.repeat(10)}${'z'.repeat(10_000_000)}`;
    doc.strings[doc.strings.indexOf(LONG)] = huge;
    const s = parseChunked(JSON.stringify(doc), 1 << 16);
    assert.equal(s.nodeName(13).length, 1024);
    assert.equal(s.nodeName(13), huge.slice(0, 1024));
    assert.equal(s.stringLength(s.data.nodeName[13]), huge.length);
  });

  it('gives identical results for chunk sizes 1, 7 and whole, bytes or strings', () => {
    const want = digest(whole);
    assert.deepEqual(digest(parseChunked(text, 1)), want);
    assert.deepEqual(digest(parseChunked(text, 7)), want);
    assert.deepEqual(digest(parseChunked(text, 7, true)), want);
    assert.deepEqual(digest(parseChunked(text, 4096, true)), want);
  });

  // Strings are kept as bytes and decoded on first use: whatever they hold
  // and wherever the chunks split them, they read back as JSON.parse gives
  // them (cut to maxStringLength), and indexOf agrees with an array's.
  it('keeps any strings table as JSON.parse reads it, chunked anywhere', () => {
    const doc = JSON.parse(tinySnapshotJson()) as { strings: string[] };
    const fixed = doc.strings;
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', 'é', '😀', 'a', '/'), maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(text, { maxLength: 12 }), fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(1 << 20)), fc.integer({ min: 16, max: 24 }), fc.array(text, { maxLength: 3 }), (extra, chunk, max, probes) => {
        const strings = [...fixed, ...extra];
        const p = new HeapSnapshotParser({ maxStringLength: max });
        const bytes = Buffer.from(JSON.stringify({ ...doc, strings }), 'utf8');
        for (let i = 0; i < bytes.length; i += chunk) p.write(bytes.subarray(i, i + chunk));
        const table = p.end().data.strings;
        const cut = (x: string): string => (x.length > max ? x.slice(0, x.charCodeAt(max - 1) >= 0xd800 && x.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max) : x);
        assert.deepEqual(table.toArray(), strings.map(cut));
        assert.equal(table.get(strings.length), undefined);
        for (const x of [...probes, ...extra, 'Alpha', '']) {
          if (x.length <= max) assert.equal(table.indexOf(x), strings.indexOf(x), JSON.stringify(x));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decodes \\u escapes and surrogate pairs split across chunks', () => {
    const escaped = tinySnapshotJson({ escapeUnicode: true });
    assert.ok(escaped.includes('\\ud83d\\ude00'));
    for (const size of [1, 3, 7, escaped.length]) {
      assert.equal(parseChunked(escaped, size).nodeName(12), UNICODE);
    }
  });

  it('tolerates unknown keys and any key order', () => {
    const reordered = tinySnapshotJson({ order: ['strings', 'edges', 'trace_tree', 'nodes', 'samples', 'snapshot', 'locations', 'trace_function_infos'], unknownKey: true });
    const want = digest(whole);
    assert.deepEqual(digest(parseChunked(reordered, reordered.length)), want);
    assert.deepEqual(digest(parseChunked(reordered, 7)), want);
    const unknown = tinySnapshotJson({ unknownKey: true });
    assert.deepEqual(digest(parseChunked(unknown, 1)), want);
  });

  it('computes dominators and retained sizes (diamond, weak and shortcut edges)', () => {
    const { dominator, retainedSize } = whole.dominators();
    assert.deepEqual(Array.from(dominator), EXPECTED.dominator);
    assert.deepEqual(Array.from(retainedSize), EXPECTED.retained);
    assert.equal(whole.retainedSize(0), whole.totalSize);
  });

  it('computes distances like DevTools (user roots at 1, weak edges not followed)', () => {
    const d = Array.from(whole.distances()).map((x) => (x === NO_DISTANCE ? -1 : x));
    assert.deepEqual(d, EXPECTED.distance);
  });

  it('finds shortest retainer paths', () => {
    const path = whole.retainerPath(6)!;
    assert.deepEqual(path.map((s) => [s.edge, s.node]), [['global', 'Global @5'], ['a', 'Alpha @7'], ['c', 'Gamma @11'], ['d', 'Delta @13']]);
    assert.deepEqual(whole.retainerPath(9)!.map((s) => s.edge), ['1', '1']);
    assert.equal(whole.retainerPath(8), null);
    assert.deepEqual(whole.retainerPath(0), []);
    // A string at the end of a path: its contents only on request.
    assert.match(whole.retainerPath(7)!.at(-1)!.node, /^string \(11 chars, #[0-9a-f]{8}\) @15$/);
    assert.equal(whole.retainerPath(7, { includeStrings: true })!.at(-1)!.node, 'string "hello world" @15');
  });

  it('lists retainers', () => {
    assert.deepEqual(whole.retainers(5).map((e) => [e.from, e.name]), [[3, 'c'], [4, 'c']]);
    assert.deepEqual(whole.retainers(10).map((e) => [e.from, e.type]), [[4, 'shortcut'], [8, 'property']]);
  });

  it('resolves allocation traces innermost first', () => {
    assert.ok(whole.hasAllocationTraces);
    assert.deepEqual(whole.nodeAllocationFrames(3), [
      { functionName: 'inner', scriptName: 'file:///app/a.js', scriptId: 7, line: 5, column: 3 },
      { functionName: 'outer', scriptName: 'file:///app/a.js', scriptId: 7, line: 1, column: 1 },
    ]);
    assert.deepEqual(whole.nodeAllocationFrames(4).map((f) => f.functionName), ['outer']);
    assert.deepEqual(whole.nodeAllocationFrames(5), []);
    assert.deepEqual(Array.from(whole.data.traceTree.count), [5, 4, 3]);
    assert.deepEqual(Array.from(whole.data.samples), [100, 5, 200, 27]);
    assert.deepEqual(whole.location(3), { scriptId: 7, line: 4, column: 2 });
    assert.equal(whole.location(4), null);
  });

  it('takes a census', () => {
    const c = census(whole);
    const by = new Map(c.groups.map((g) => [g.name, g]));
    assert.equal(by.get('Alpha')!.count, 1);
    assert.equal(by.get('Alpha')!.retainedSize, 36);
    // Two "hello world" strings: one dominated by Alpha, one by Gamma; 4 strings reachable.
    assert.deepEqual({ ...by.get('(string)')! }, { name: '(string)', count: 4, selfSize: 16 + 16 + 24 + 5000, retainedSize: 16 + 16 + 24 + 5000 });
    assert.equal(by.has('Weakling'), false, 'unreachable objects are not live');
    assert.equal(c.totalCount, GRAPH.length - 2); // all but the root and the weakly held Weakling
    assert.equal(c.topObjects[0].name, 'Delta');
    assert.equal(c.topObjects[0].retainedSize, 5074);
    // Contents only on request; otherwise a length and a tag, equal for equal strings.
    assert.deepEqual(census(whole, { includeStrings: true }).duplicatedStrings, [{ value: 'hello world', included: true, length: 11, count: 2, totalSize: 32 }]);
    assert.equal(c.duplicatedStrings.length, 1);
    assert.match(c.duplicatedStrings[0].value, /^string \(11 chars, #[0-9a-f]{8}\)$/);
    assert.equal(c.duplicatedStrings[0].included, false);
    assert.doesNotMatch(JSON.stringify(c), /hello world|LLLL/);
  });
});

describe('heap parser: bad input', () => {
  it('rejects empty input', () => {
    expectError('', /not a V8 heap snapshot: empty input/, 0);
  });
  it('rejects non-JSON and non-objects', () => {
    expectError('hello', /not a V8 heap snapshot: expected '\{' at byte 0/, 0);
    expectError('  [1,2]', /expected '\{' at byte 2/, 2);
    expectError('{}', /no "snapshot" header/);
    expectError('{"snapshot":{"title":"x"}}', /no "meta"/);
  });
  it('reports truncation with the section and offset, for every prefix', () => {
    const text = tinySnapshotJson();
    const bytes = Buffer.from(text);
    const nodesAt = text.indexOf('"nodes":') + 8;
    const e = expectError(bytes.subarray(0, nodesAt + 10), /truncated heap snapshot: ended at byte \d+ inside "nodes"/);
    assert.equal(e.offset, nodesAt + 10);
    for (let cut = 0; cut < bytes.length; cut++) {
      const p = new HeapSnapshotParser();
      assert.throws(() => {
        p.write(bytes.subarray(0, cut));
        p.end();
      }, HeapSnapshotError);
    }
  });
  it('reports corrupt bytes with their offset', () => {
    const text = tinySnapshotJson();
    const at = text.indexOf('"edges":[') + 9;
    const bad = `${text.slice(0, at)}x${text.slice(at + 1)}`;
    expectError(bad, /unexpected 'x' at byte \d+ inside "edges"/, at);
    const trailing = `${text} x`;
    expectError(trailing, /after the end of the snapshot/, Buffer.byteLength(text) + 1);
  });
  it('detects inconsistent counts and targets', () => {
    const doc = JSON.parse(tinySnapshotJson()) as { edges: number[]; nodes: number[] };
    doc.edges[2] = 9999 * 7;
    const text = JSON.stringify(doc);
    expectError(text, /edge 0 points to node 9999 but there are 14 nodes \("edges" at byte \d+\)/, text.indexOf('"edges":') + 8);
    const doc2 = JSON.parse(tinySnapshotJson()) as { edges: number[]; nodes: number[] };
    doc2.nodes.push(1);
    expectError(JSON.stringify(doc2), /not a multiple of 7/);
    const doc3 = JSON.parse(tinySnapshotJson()) as { edges: number[]; nodes: number[] };
    doc3.edges.push(1, 1, 0);
    expectError(JSON.stringify(doc3), /declare \d+ edges but "edges" \(at byte \d+\) holds 17/);
  });
  it('reads files and rejects empty or truncated ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-heap-parser-'));
    try {
      const text = tinySnapshotJson();
      writeFileSync(join(dir, 'ok.heapsnapshot'), text);
      writeFileSync(join(dir, 'empty.heapsnapshot'), '');
      writeFileSync(join(dir, 'cut.heapsnapshot'), text.slice(0, text.indexOf('"strings"') + 20));
      const snap = await readHeapSnapshot(join(dir, 'ok.heapsnapshot'), { chunkSize: 4096 });
      assert.equal(snap.nodeCount, GRAPH.length);
      // On two threads (as files of 32 MB or more are read), chunk by chunk: the same snapshot.
      for (const chunkSize of [64, 100, 4096]) {
        assert.deepEqual(digest(await readHeapSnapshot(join(dir, 'ok.heapsnapshot'), { chunkSize, parallel: true })), digest(snap), `chunks of ${chunkSize}`);
      }
      await assert.rejects(readHeapSnapshot(join(dir, 'empty.heapsnapshot')), (e: unknown) => e instanceof HeapSnapshotError && /empty input/.test(e.message) && e.offset === 0);
      await assert.rejects(readHeapSnapshot(join(dir, 'cut.heapsnapshot')), (e: unknown) => e instanceof HeapSnapshotError && /truncated heap snapshot: ended at byte \d+ inside "strings"/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('rejects random binary data quickly', () => {
    const junk = Buffer.alloc(1 << 20);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
    expectError(junk, /not a V8 heap snapshot/);
    expectError(Buffer.concat([Buffer.from('{"nodes":['), junk]), /inside "nodes"/);
  });
  it('stays failed after an error', () => {
    const p = new HeapSnapshotParser();
    assert.throws(() => p.write('nope'), HeapSnapshotError);
    assert.throws(() => p.write('{'), HeapSnapshotError);
    assert.throws(() => p.end(), HeapSnapshotError);
  });
  it('reports progress', () => {
    const seen: number[] = [];
    const p = new HeapSnapshotParser({ onProgress: (b) => seen.push(b) });
    const text = tinySnapshotJson();
    p.write(text.slice(0, 100));
    p.write(text.slice(100));
    p.end();
    assert.deepEqual(seen, [100, Buffer.byteLength(text)]);
  });
});

describe('heap census helpers on the hand-made snapshot', () => {
  const snap = new HeapSnapshotParser();
  snap.write(tinySnapshotJson());
  const s = snap.end();
  it('previews fields with short strings only, and strings only on request', () => {
    const on = { includeStrings: true };
    assert.equal(preview(s, 6, on), `Delta {u: ${JSON.stringify(UNICODE)}, long: "${'L'.repeat(40)}…"}`);
    assert.equal(preview(s, 3, on), 'Alpha {c: Gamma @11, s2: "hello world"}');
    assert.match(preview(s, 6), /^Delta \{u: string \(\d+ chars, #[0-9a-f]{8}\), long: string \(5000 chars, #[0-9a-f]{8}\)\}$/);
    // Both "hello world" nodes get the same tag, another string another one.
    const tag = (k: number) => /#([0-9a-f]{8})/.exec(preview(s, k))![1];
    assert.equal(preview(s, 3), `Alpha {c: Gamma @11, s2: string (11 chars, #${tag(7)})}`);
    assert.notEqual(tag(7), tag(6));
  });
  it('diffs a snapshot against itself as all surviving', () => {
    const d = diffSnapshots(s, s);
    assert.equal(d.totals.added + d.totals.removed, 0);
    assert.equal(d.totals.surviving, GRAPH.length - 2);
    assert.deepEqual(d.byConstructor, []);
  });
});

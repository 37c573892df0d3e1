// Property-based tests over every reader of untrusted input: heap snapshots,
// dump files, source maps and the CLI on hostile files. Each property says
// "either it works or it fails with the documented one-line error"; fast-check
// prints the seed and the shrunk input when it does not hold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { HeapSnapshotError, HeapSnapshotParser, census, diffSnapshots, preview, readHeapSnapshot, type HeapSnapshot } from '../src/heap/index.js';
import { Snapshot } from '../src/model/index.js';
import { SourceMapResolver } from '../src/sourcemap/resolver.js';
import { EDGE_FIELDS, EDGE_TYPES, NODE_FIELDS, NODE_TYPES, tinySnapshotJson } from './fixtures-heap/tiny.js';

// Show the property's own error, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true });

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** FUZZ_SCALE=10 runs ten times as many cases, for a deeper local search. */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE) || 1);
const runs = (n: number): { numRuns: number } => ({ numRuns: Math.round(n * SCALE) });

// A generous hang guard for the whole file, not a timing assertion.
const GUARD = { timeout: 300_000 * SCALE };

// ---------------------------------------------------------------- heap snapshots

interface GenNode {
  type: number;
  name: number;
  size: number;
  edges: { type: number; name: number; to: number }[];
}

interface GenDoc {
  snapshot: { meta: Record<string, unknown>; node_count: unknown; edge_count: unknown; [k: string]: unknown };
  nodes: unknown[];
  edges: unknown[];
  strings: unknown[];
  [k: string]: unknown;
}

/** A valid snapshot document in V8's layout, built from a small random graph. */
function buildDoc(graph: GenNode[], strings: string[]): GenDoc {
  const nodes: number[] = [];
  const edges: number[] = [];
  graph.forEach((n, k) => {
    nodes.push(n.type, n.name, k * 2 + 1, n.size, n.edges.length, 0, 0);
    for (const e of n.edges) edges.push(e.type, e.name, e.to * NODE_FIELDS.length);
  });
  return {
    snapshot: {
      meta: {
        node_fields: [...NODE_FIELDS],
        node_types: [[...NODE_TYPES], 'string', 'number', 'number', 'number', 'number', 'number'],
        edge_fields: [...EDGE_FIELDS],
        edge_types: [[...EDGE_TYPES], 'string_or_number', 'node'],
        trace_function_info_fields: ['function_id', 'name', 'script_name', 'script_id', 'line', 'column'],
        trace_node_fields: ['id', 'function_info_index', 'count', 'size', 'children'],
        sample_fields: ['timestamp_us', 'last_assigned_id'],
        location_fields: ['object_index', 'script_id', 'line', 'column'],
      },
      node_count: graph.length,
      edge_count: edges.length / 3,
      trace_function_count: 0,
    },
    nodes,
    edges,
    trace_function_infos: [],
    trace_tree: [],
    samples: [],
    locations: [],
    strings,
  };
}

const arbGraph: fc.Arbitrary<{ graph: GenNode[]; strings: string[] }> = fc
  .record({ n: fc.integer({ min: 1, max: 8 }), strings: fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 8 }) })
  .chain(({ n, strings }) =>
    fc.record({
      strings: fc.constant(['', ...strings]),
      graph: fc.array(
        fc.record({
          type: fc.integer({ min: 0, max: NODE_TYPES.length - 1 }),
          name: fc.integer({ min: 0, max: strings.length }),
          size: fc.nat(200),
          edges: fc.array(
            fc.record({
              type: fc.integer({ min: 0, max: EDGE_TYPES.length - 1 }),
              name: fc.integer({ min: 0, max: strings.length }),
              to: fc.integer({ min: 0, max: n - 1 }),
            }),
            { maxLength: 4 },
          ),
        }),
        { minLength: n, maxLength: n },
      )
        // Only native memory (an ArrayBuffer's backing store) can reach 4 GiB.
        .map((graph) => graph.map((node, k) => (node.type === NODE_TYPES.indexOf('native') && k % 2 === 1 ? { ...node, size: 2 ** 32 + 5 } : node))),
    }),
  );

const HOSTILE_NUMBERS = [0, -1, 1.5, 1e12, 4294967296, 2 ** 53 + 2, -1e300, 1e308, 'x', null, [], {}];

/** Structural lies on a valid document: the header, the field lists, indexes. */
const arbDocMutation: fc.Arbitrary<(d: GenDoc) => void> = fc.oneof(
  fc.constantFrom(...HOSTILE_NUMBERS).map((v) => (d: GenDoc) => void (d.snapshot.node_count = v)),
  fc.constantFrom(...HOSTILE_NUMBERS).map((v) => (d: GenDoc) => void (d.snapshot.edge_count = v)),
  fc
    .record({ key: fc.constantFrom('node_fields', 'edge_fields', 'node_types', 'edge_types', 'trace_node_fields', 'location_fields', 'trace_function_info_fields'), value: fc.jsonValue({ maxDepth: 2 }) })
    .map(({ key, value }) => (d: GenDoc) => void ((d.snapshot.meta ??= {})[key] = value)),
  fc
    .record({ key: fc.constantFrom('node_fields', 'edge_fields'), op: fc.constantFrom('dup', 'drop', 'extra', 'reverse'), at: fc.nat() })
    .map(({ key, op, at }) => (d: GenDoc) => {
      const old = d.snapshot.meta?.[key];
      if (!Array.isArray(old) || old.length === 0) return;
      const list = [...(old as string[])];
      const i = at % list.length;
      if (op === 'dup') list.splice(i, 0, list[i]);
      else if (op === 'drop') list.splice(i, 1);
      else if (op === 'extra') list.splice(i, 0, 'zz_extra');
      else list.reverse();
      d.snapshot.meta[key] = list;
    }),
  fc
    .record({ section: fc.constantFrom('nodes', 'edges', 'trace_function_infos', 'samples', 'locations'), at: fc.nat(), value: fc.constantFrom(...HOSTILE_NUMBERS, 99999, 7, 3) })
    .map(({ section, at, value }) => (d: GenDoc) => {
      const list = d[section] as unknown[];
      if (list.length === 0) list.push(value, value, value, value);
      else list[at % list.length] = value;
    }),
  fc.record({ count: fc.nat(5) }).map(({ count }) => (d: GenDoc) => void d.strings?.splice(count)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => (d: GenDoc) => void (d.trace_tree = v)),
  fc
    .record({ fn: fc.array(fc.integer({ min: -3, max: 20 }), { maxLength: 12 }), tree: fc.array(fc.integer({ min: -3, max: 20 }), { maxLength: 8 }), trace: fc.integer({ min: 0, max: 6 }) })
    .map(({ fn, tree, trace }) => (d: GenDoc) => {
      // An allocation trace tree with arbitrary (possibly dangling) indexes.
      d.trace_function_infos = fn;
      d.trace_tree = [tree.length > 0 ? tree[0] : 1, tree[1] ?? 0, 1, 1, [2, tree[2] ?? 1, 1, 1, []]];
      if (d.nodes.length >= 7) d.nodes[5] = trace;
    }),
  fc.constantFrom<(d: GenDoc) => void>(
    (d) => void delete (d.snapshot as Record<string, unknown>).meta,
    (d) => void delete (d as Record<string, unknown>).strings,
    (d) => void (d.snapshot = [] as never),
    (d) => void (d.edges = d.edges.concat([0, 0, 0])),
    (d) => void (d.nodes = []),
  ),
);

/** Byte-level damage: truncation, flips, deleted and duplicated spans, number tokens replaced. */
const arbByteMutation: fc.Arbitrary<(b: Buffer) => Buffer> = fc.oneof(
  fc.nat().map((at) => (b: Buffer) => Buffer.from(b.subarray(0, at % (b.length + 1)))),
  fc.record({ at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }).map(({ at, v }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length > 0) c[at % c.length] = v;
    return c;
  }),
  fc.record({ at: fc.nat(), len: fc.nat(64) }).map(({ at, len }) => (b: Buffer) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), b.subarray(i + len)]);
  }),
  fc.record({ at: fc.nat(), len: fc.nat(64) }).map(({ at, len }) => (b: Buffer) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i + len), b.subarray(i)]);
  }),
  fc
    .record({ k: fc.nat(), token: fc.constantFrom('99999999999999999999999', '-1', '-0', 'NaN', '1e12', '4294967296', '1.5', '', '-', '--1', 'null', '18446744073709551616', '9007199254740993', '\\u0000', '"') })
    .map(({ k, token }) => (b: Buffer) => {
      const text = b.toString('latin1');
      const numbers = [...text.matchAll(/\d+/g)];
      if (numbers.length === 0) return b;
      const m = numbers[k % numbers.length];
      return Buffer.from(text.slice(0, m.index) + token + text.slice(m.index! + m[0].length), 'latin1');
    }),
);

const arbSplits = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 12 });

/** Feeds `bytes` in pieces of the given sizes (then the rest at once). */
function feed(p: HeapSnapshotParser, bytes: Buffer, splits: number[]): void {
  let i = 0;
  for (const s of splits) {
    if (i >= bytes.length) break;
    p.write(bytes.subarray(i, i + s));
    i += s;
  }
  if (i < bytes.length) p.write(bytes.subarray(i));
}

function assertDocumented(err: unknown, what: string): void {
  if (!(err instanceof HeapSnapshotError)) throw new Error(`${what} threw ${(err as Error)?.name ?? typeof err} instead of HeapSnapshotError: ${(err as Error)?.message ?? String(err)}`);
  assert.ok(err.message.length > 0 && !err.message.includes('\n'), `one-line message: ${JSON.stringify(err.message)}`);
  assert.ok(Number.isInteger(err.offset) && err.offset >= -1, `offset ${err.offset}`);
}

/** Runs the graph algorithms over a parsed snapshot; they must not throw on anything the parser accepted. */
function exercise(snap: HeapSnapshot): void {
  const n = snap.nodeCount;
  assert.ok(n > 0);
  snap.dominators();
  snap.distances();
  const c = census(snap, { top: 5 });
  for (const g of c.groups) assert.equal(typeof g.name, 'string');
  for (let k = 0; k < Math.min(n, 8); k++) {
    preview(snap, k);
    snap.retainerPath(k);
    snap.retainers(k);
    snap.describeNode(k);
    snap.nodeAllocationFrames(k);
    snap.location(k);
    assert.ok(Number.isFinite(snap.retainedSize(k)));
  }
  diffSnapshots(snap, snap);
}

/**
 * The heap property: parse, then either a consistent graph or the documented
 * error; and never a big allocation (a lying header must not preallocate).
 */
function checkHeap(bytes: Buffer, splits: number[], sized: boolean): void {
  const before = process.memoryUsage().arrayBuffers;
  const p = new HeapSnapshotParser(sized ? { inputBytes: bytes.length } : {});
  let snap: HeapSnapshot;
  try {
    feed(p, bytes, splits);
    snap = p.end();
  } catch (err) {
    assertDocumented(err, 'parser');
    return;
  } finally {
    // Checked while the parser is alive, so its arrays still count.
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < (sized ? 16 : 64) * 1024 * 1024, `input of ${bytes.length} bytes allocated ${grown} bytes of typed arrays`);
  }
  try {
    exercise(snap);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assertDocumented(err, 'graph algorithms');
  }
}

describe('fuzz: heap snapshot parser', GUARD, () => {
  it('random bytes fail with HeapSnapshotError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }).map((s) => Buffer.from(`{"snapshot":${s}`))), arbSplits, fc.boolean(), (bytes, splits, sized) => {
        checkHeap(Buffer.from(bytes), splits, sized);
      }),
      runs(400),
    );
  });

  it('valid generated snapshots parse and every algorithm runs', () => {
    fc.assert(
      fc.property(arbGraph, arbSplits, ({ graph, strings }, splits) => {
        const bytes = Buffer.from(JSON.stringify(buildDoc(graph, strings)));
        const snap = new HeapSnapshotParser();
        feed(snap, bytes, splits);
        const s = snap.end();
        assert.equal(s.nodeCount, graph.length);
        exercise(s);
      }),
      runs(150),
    );
  });

  it('structurally lying snapshots parse consistently or fail with HeapSnapshotError', () => {
    fc.assert(
      fc.property(arbGraph, fc.array(arbDocMutation, { minLength: 1, maxLength: 3 }), arbSplits, fc.boolean(), ({ graph, strings }, mutations, splits, sized) => {
        const doc = buildDoc(graph, strings);
        for (const m of mutations) m(doc);
        checkHeap(Buffer.from(JSON.stringify(doc)), splits, sized);
      }),
      runs(500),
    );
  });

  const tiny = Buffer.from(tinySnapshotJson());
  it('byte-damaged snapshots parse consistently or fail with HeapSnapshotError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(tiny), arbGraph.map(({ graph, strings }) => Buffer.from(JSON.stringify(buildDoc(graph, strings))))),
        fc.array(arbByteMutation, { minLength: 1, maxLength: 4 }),
        arbSplits,
        fc.boolean(),
        (base, mutations, splits, sized) => {
          let bytes: Buffer = base;
          for (const m of mutations) bytes = m(bytes);
          checkHeap(bytes, splits, sized);
        },
      ),
      runs(500),
    );
  });

  // The number loops have a fast path for whole records when a chunk holds
  // enough bytes; fed one byte at a time, only the byte loops run. Whatever
  // the bytes, both must agree, errors and offsets included.
  it('fast paths and byte loops agree on any bytes (whole input vs one byte at a time)', () => {
    const outcome = (bytes: Buffer, step: number): unknown => {
      const p = new HeapSnapshotParser();
      try {
        for (let i = 0; i < bytes.length; i += step) p.write(bytes.subarray(i, i + step));
        const d = p.end().data;
        return [d.nodeType, d.nodeName, d.nodeId, d.nodeSelfSize, d.firstEdge, d.edgeType, d.edgeNameOrIndex, d.edgeTo, d.locations].map((a) => Array.from(a));
      } catch (err) {
        assertDocumented(err, 'parser');
        return { error: (err as HeapSnapshotError).message, offset: (err as HeapSnapshotError).offset };
      }
    };
    fc.assert(
      fc.property(arbGraph, fc.array(arbByteMutation, { maxLength: 3 }), ({ graph, strings }, mutations) => {
        // V8's own layout: a newline before each record's comma.
        let bytes: Buffer = Buffer.from(JSON.stringify(buildDoc(graph, strings)).replace(/"(nodes|edges|locations)":\[([^\]]*)\]/g, (_, key: string, body: string) => {
          const stride = key === 'nodes' ? NODE_FIELDS.length : key === 'edges' ? EDGE_FIELDS.length : 4;
          return `"${key}":[${body.split(',').map((v, i) => (i > 0 && i % stride === 0 ? `\n,${v}` : i > 0 ? `,${v}` : v)).join('')}]`;
        }));
        for (const m of mutations) bytes = m(bytes);
        assert.deepEqual(outcome(bytes, bytes.length), outcome(bytes, 1));
      }),
      runs(400),
    );
  });

  // readHeapSnapshot reads big files' edges in a worker thread: whatever the
  // bytes, the two threads must give what one thread gives, error included.
  it('two threads read a file as one does (same graph or same first error)', async () => {
    const outcome = async (file: string, parallel: boolean, chunkSize: number): Promise<unknown> => {
      try {
        const d = (await readHeapSnapshot(file, { parallel, chunkSize })).data;
        return { nodes: [d.nodeType, d.nodeName, d.nodeId, d.nodeSelfSize, d.firstEdge].map((a) => Array.from(a)), edges: [d.edgeType, d.edgeNameOrIndex, d.edgeTo].map((a) => Array.from(a)), strings: d.strings.toArray() };
      } catch (err) {
        assertDocumented(err, `readHeapSnapshot (parallel: ${parallel})`);
        return { error: (err as HeapSnapshotError).message, offset: (err as HeapSnapshotError).offset };
      }
    };
    const file = join(dir, 'two-threads.heapsnapshot');
    await fc.assert(
      fc.asyncProperty(
        arbGraph,
        fc.array(arbDocMutation, { maxLength: 2 }),
        fc.array(arbByteMutation, { maxLength: 2 }),
        fc.integer({ min: 64, max: 700 }),
        async ({ graph, strings }, docMutations, byteMutations, chunkSize) => {
          const doc = buildDoc(graph, strings);
          for (const m of docMutations) m(doc);
          let bytes: Buffer = Buffer.from(JSON.stringify(doc));
          for (const m of byteMutations) bytes = m(bytes);
          writeFileSync(file, bytes);
          assert.deepEqual(await outcome(file, true, chunkSize), await outcome(file, false, chunkSize));
        },
      ),
      runs(120),
    );
  });

  it('regression: a key with a newline in it still gives a one-line message', () => {
    const p = new HeapSnapshotParser();
    assert.throws(
      () => {
        p.write('{"a\\nb\n":1 x');
        p.end();
      },
      (e: unknown) => e instanceof HeapSnapshotError && !/[\n\r]/.test(e.message) && /a\\u000ab\\u000a/.test(e.message),
    );
  });

  it('regression: a header claiming 1e12 nodes and edges does not preallocate them, and is refused', async () => {
    const doc = JSON.parse(tinySnapshotJson()) as GenDoc;
    doc.snapshot.node_count = 1e12;
    doc.snapshot.edge_count = 1e12;
    for (const sized of [true, false]) checkHeap(Buffer.from(JSON.stringify(doc)), [], sized);
    // A fractional count used to reach `new Uint8Array(1.5)`, a RangeError.
    doc.snapshot.node_count = 1.5;
    checkHeap(Buffer.from(JSON.stringify(doc)), [], false);
    // readHeapSnapshot bounds the preallocation by the file size, then refuses the lie.
    doc.snapshot.node_count = 1e12;
    const file = join(dir, 'liar-read.heapsnapshot');
    writeFileSync(file, JSON.stringify(doc));
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(readHeapSnapshot(file), (e: unknown) => e instanceof HeapSnapshotError && /header says node_count 1000000000000 but the file holds 14 \(at byte \d+\)$/.test(e.message));
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
  });

  it('hostile numbers in a valid file are one-line errors with a byte offset, never a 93 GiB heap', () => {
    const text = tinySnapshotJson();
    const nodesAt = text.indexOf('"nodes":[') + 9;
    // Alpha (ordinal 3) has self size 20: make it 99999999999.
    const doc = JSON.parse(text) as GenDoc & { nodes: number[]; edges: number[] };
    const sizeAt = 3 * NODE_FIELDS.length + NODE_FIELDS.indexOf('self_size');
    const cases: [string, (d: GenDoc & { nodes: number[]; edges: number[] }) => void, RegExp][] = [
      ['huge self size', (d) => void (d.nodes[sizeAt] = 99999999999), /^corrupt heap snapshot: node 3 \(object\) has self size 99999999999 at byte \d+; no V8 heap object is 4 GiB or more$/],
      ['detachedness 7', (d) => void (d.nodes[3 * NODE_FIELDS.length + NODE_FIELDS.indexOf('detachedness')] = 7), /^corrupt heap snapshot: detachedness 7 out of range at byte \d+/],
      // Values a column cannot hold, past the fast paths' checks too.
      ['node type 300', (d) => void (d.nodes[3 * NODE_FIELDS.length + NODE_FIELDS.indexOf('type')] = 300), /^corrupt heap snapshot: node type 300 out of range at byte \d+ inside "nodes"$/],
      ['node id 2^32', (d) => void (d.nodes[3 * NODE_FIELDS.length + NODE_FIELDS.indexOf('id')] = 2 ** 32), /^corrupt heap snapshot: node id 4294967296 out of range at byte \d+ inside "nodes"$/],
      ['edge type 300', (d) => void (d.edges[3 * EDGE_FIELDS.length + EDGE_FIELDS.indexOf('type')] = 300), /^corrupt heap snapshot: edge type 300 out of range at byte \d+ inside "edges"$/],
      ['edge to_node 5', (d) => void (d.edges[3 * EDGE_FIELDS.length + EDGE_FIELDS.indexOf('to_node')] = 5), /^corrupt heap snapshot: edge to_node 5 out of range at byte \d+ inside "edges"$/],
      ['negative count', (d) => void (d.nodes[3 * NODE_FIELDS.length + NODE_FIELDS.indexOf('edge_count')] = -1), /^corrupt heap snapshot: unexpected '-' at byte \d+ inside "nodes"$/],
      ['fractional count', (d) => void (d.nodes[3 * NODE_FIELDS.length + NODE_FIELDS.indexOf('edge_count')] = 1.5), /^corrupt heap snapshot: unexpected '\.' at byte \d+ inside "nodes"$/],
      ['header count', (d) => void (d.snapshot.node_count = -5), /^corrupt heap snapshot: header says node_count -5 but the file holds 14/],
    ];
    for (const [what, mutate, pattern] of cases) {
      const d = structuredClone(doc);
      mutate(d);
      const p = new HeapSnapshotParser();
      assert.throws(
        () => {
          p.write(JSON.stringify(d));
          p.end();
        },
        (e: unknown) => e instanceof HeapSnapshotError && pattern.test(e.message) && e.offset >= nodesAt - 200,
        what,
      );
    }
    // A native node's backing store may exceed 4 GiB: accepted and summed exactly.
    const native = structuredClone(doc);
    native.nodes[3 * NODE_FIELDS.length + NODE_FIELDS.indexOf('type')] = NODE_TYPES.indexOf('native');
    native.nodes[sizeAt] = 2 ** 33;
    const p = new HeapSnapshotParser();
    p.write(JSON.stringify(native));
    const snap = p.end();
    assert.equal(snap.selfSize(3), 2 ** 33);
  });
});

// ---------------------------------------------------------------- dump files

function validDump(): Record<string, unknown> {
  return {
    format: 'tracemalloc-snapshot',
    version: 1,
    meta: { mode: 'sampling', timestamp: 1700000000000, samplingInterval: 65536, pid: 12, nodeVersion: 'v20.0.0' },
    tracebackLimit: 4,
    frames: [
      ['/app/a.js', 3, 1, 'f'],
      ['/app/b.js', 7, 2, ''],
    ],
    tracebacks: [
      [2, 0, 1],
      [null, 1],
    ],
    traces: [
      [0, 1024, 3, 2, 10, 0.5],
      [1, 64, 1, 1, 0, 0],
    ],
  };
}

type Path = (string | number)[];

/** Every path to a value inside a JSON document, for pointed mutations. */
function paths(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function setAt(doc: unknown, path: Path, value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  let o = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (remove) {
    if (Array.isArray(o)) o.splice(last as number, 1);
    else delete o[last];
  } else o[last] = value;
  return doc;
}

const HOSTILE_VALUES = [null, -1, 0, 1.5, 1e308, -1e308, 2 ** 53, '', 'x', [], {}, [[]], true, '__proto__', 1e21];

let dumpCount = 0;
function checkDump(bytes: Uint8Array): void {
  const file = join(dir, `d${dumpCount++}.tmsnap`);
  writeFileSync(file, bytes);
  let snap: Snapshot;
  try {
    snap = Snapshot.load(file);
  } catch (err) {
    assert.ok(err instanceof Error && err.constructor === Error, `expected a plain Error, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.ok(err.message.startsWith(`cannot load snapshot from ${file}: `), err.message);
    assert.ok(!err.message.includes('\n'), `one line: ${JSON.stringify(err.message)}`);
    return;
  } finally {
    rmSync(file, { force: true });
  }
  // A loaded snapshot must be usable.
  for (const key of ['filename', 'lineno', 'traceback'] as const) {
    for (const stat of snap.statistics(key)) String(stat);
    for (const diff of snap.compareTo(snap, key)) String(diff);
  }
}

describe('fuzz: dump files', GUARD, () => {
  it('random bytes, gzip of random bytes and gzip of random JSON fail with one line', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((b) => new Uint8Array(gzipSync(b))),
          fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([0x1f, 0x8b, ...b])),
          fc.jsonValue({ maxDepth: 3 }).map((v) => new Uint8Array(gzipSync(JSON.stringify(v) ?? ''))),
        ),
        (bytes) => checkDump(bytes),
      ),
      runs(250),
    );
  });

  it('valid dumps with mutated fields load or fail with one line', () => {
    const base = validDump();
    const all = paths(base);
    fc.assert(
      fc.property(
        fc.array(fc.record({ path: fc.constantFrom(...all), value: fc.oneof(fc.constantFrom(...HOSTILE_VALUES), fc.jsonValue({ maxDepth: 2 })), remove: fc.boolean() }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        (edits, cut) => {
          let doc: unknown = structuredClone(base);
          for (const e of edits) {
            try {
              // Cloned: the constants are shared between runs and later edits write into them.
              doc = setAt(doc, e.path, structuredClone(e.value), e.remove);
            } catch {
              /* an earlier edit removed the parent: skip */
            }
          }
          const gz = gzipSync(JSON.stringify(doc));
          checkDump(gz);
          // The same dump with its gzip stream cut short.
          checkDump(new Uint8Array(gz.subarray(0, cut % gz.length)));
        },
      ),
      runs(300),
    );
  });

  it('a valid dump loads', () => {
    const file = join(dir, 'valid.tmsnap');
    writeFileSync(file, gzipSync(JSON.stringify(validDump())));
    assert.equal(Snapshot.load(file).traces.length, 2);
  });
});

// ---------------------------------------------------------------- source maps

const arbMapText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
  fc
    .record({
      version: fc.oneof(fc.constant(3), fc.constantFrom(...HOSTILE_VALUES)),
      sources: fc.oneof(fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('file://host/x.ts', 'file:///%zz', 'file:', '../../../../etc/passwd', null)), { maxLength: 3 }), fc.constantFrom(...HOSTILE_VALUES)),
      names: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.constantFrom(...HOSTILE_VALUES)),
      mappings: fc.oneof(fc.stringMatching(/^[A-Za-z0-9+/,;]{0,60}$/), fc.constantFrom('AAAA', 'gggggggggggggggggggg', '////////////+', 'A,A;;;;A', ';;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;AAAA'), fc.constantFrom(...HOSTILE_VALUES)),
      sourceRoot: fc.oneof(fc.constant(undefined), fc.constantFrom('file:///', 'http://x/', '%', '')),
      sections: fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })),
    })
    .map((m) => JSON.stringify(m)),
);

/** How the generated file points at its map. */
const arbMapUrl: fc.Arbitrary<(mapText: string, mapFile: string, relative: string) => string> = fc.constantFrom(
  (_t: string, _f: string, rel: string) => rel,
  (_t: string, f: string) => f,
  (_t: string, f: string) => `file://${f}`,
  (t: string) => `data:application/json;base64,${Buffer.from(t).toString('base64')}`,
  (t: string) => `data:application/json,${encodeURIComponent(t)}`,
  (t: string) => `data:application/json,${t.replace(/\s/g, '')}%zz%`,
  () => 'data:application/json;base64',
  () => 'data:',
  () => '%E0%A4%A',
  () => 'file://remote-host/x.map',
  () => 'file:///%2e%2e/%ff',
  () => '/nonexistent/x.map',
  () => dir, // a directory
);

let mapCount = 0;
describe('fuzz: source maps', GUARD, () => {
  it('garbage maps and URLs fall back to generated positions without throwing', () => {
    fc.assert(
      fc.property(arbMapText, arbMapUrl, fc.integer({ min: -5, max: 2 ** 31 }), fc.integer({ min: -5, max: 2 ** 31 }), (mapText, url, line, column) => {
        const n = mapCount++;
        const mapFile = join(dir, `m${n}.js.map`);
        const gen = join(dir, `m${n}.js`);
        writeFileSync(mapFile, mapText);
        const ref = url(mapText, mapFile, `m${n}.js.map`);
        writeFileSync(gen, `var x = 1;\nvar y = 2;\n//# sourceMappingURL=${ref}\n`);
        const r = new SourceMapResolver();
        for (const [l, c] of [
          [line, column],
          [1, 1],
          [2, 5],
        ]) {
          const pos = r.map(gen, l, c);
          if (pos !== null) {
            assert.equal(typeof pos.filename, 'string');
            assert.ok(Number.isFinite(pos.line) && Number.isFinite(pos.column));
          }
        }
        rmSync(gen, { force: true });
        rmSync(mapFile, { force: true });
      }),
      runs(300),
    );
  });
});

describe('source maps: regressions found by the fuzzer', () => {
  const cases: [string, string][] = [
    ['file://remote-host/x.map', ''], // fileURLToPath threw ERR_INVALID_FILE_URL_HOST
    ['%E0%A4%A', ''], // decodeURIComponent threw URIError
    [`data:application/json,%zz`, ''], // the same inside a data: URL
    ['seg.js.map', '{"version":3,"sources":[],"names":[],"mappings":"AAAA"}'], // a segment naming a missing source gave filename undefined
  ];
  for (const [url, map] of cases) {
    it(`${url} falls back to generated positions`, () => {
      const gen = join(dir, `reg${mapCount++}.js`);
      if (map) writeFileSync(join(dir, url), map);
      writeFileSync(gen, `var x = 1;\n//# sourceMappingURL=${url}\n`);
      assert.equal(new SourceMapResolver().map(gen, 1, 1), null);
    });
  }
});

// ---------------------------------------------------------------- the CLI on hostile files

describe('fuzz: the command line on hostile files', GUARD, () => {
  const files: Record<string, Uint8Array | string> = {
    'random.heapsnapshot': Uint8Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 256),
    'liar.heapsnapshot': tinySnapshotJson().replace(/"node_count":\d+/, '"node_count":1000000000000').replace(/"edge_count":\d+/, '"edge_count":1e12').slice(0, 900),
    'cut.heapsnapshot': tinySnapshotJson().slice(0, 300),
    'dangling.heapsnapshot': tinySnapshotJson().replace(/"edges":\[(\d+),(\d+),(\d+)/, '"edges":[$1,$2,700'),
    'random.snap': Uint8Array.from({ length: 300 }, (_, i) => (i * 31 + 7) % 256),
    'array.snap': gzipSync('[1,2,3]'),
    'badidx.snap': gzipSync(JSON.stringify({ ...validDump(), traces: [[99, 1, 1]] })),
    'cutgzip.snap': gzipSync(JSON.stringify(validDump())).subarray(0, 40),
  };
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  const f = (name: string): string => join(dir, name);
  const commands: string[][] = [
    ['heap', f('random.heapsnapshot')],
    ['heap', f('liar.heapsnapshot')],
    ['heap', f('cut.heapsnapshot'), '--json'],
    ['heap', 'diff', f('dangling.heapsnapshot'), f('liar.heapsnapshot')],
    ['top', f('random.snap')],
    ['top', f('array.snap')],
    ['top', f('random.heapsnapshot')],
    ['compare', f('badidx.snap'), f('cutgzip.snap')],
    ['report', f('cutgzip.snap'), '--html', join(dir, 'out.html')],
  ];
  for (const args of commands) {
    it(`tracemalloc ${args.map((a) => a.replace(`${dir}/`, '')).join(' ')}: one line on stderr, non-zero exit`, () => {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.signal, null, 'finished');
      assert.ok(r.status !== 0 && r.status !== null, `exit ${r.status}`);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `stderr: ${r.stderr}`);
      assert.match(lines[0], /^tracemalloc: /);
      assert.doesNotMatch(r.stderr, /\n\s+at |unexpected error/);
    });
  }
});

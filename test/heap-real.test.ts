import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { census, compareIds, DifferentProcessesError, diffSnapshots, type HeapSnapshot, preview, readHeapSnapshot } from '../src/heap/index.js';
import { distanceEdges, distanceGraph, makeDistanceFilter } from '../src/heap/distances.js';
import { sharedCopy, startGraphThread } from '../src/heap/second-thread.js';
import { HEAP_MODULE, INSPECTOR_HELPERS, LEAKY_SCRIPT, runScript, tempDir } from './fixtures-heap/children.js';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

function nodesNamed(s: HeapSnapshot, name: string): number[] {
  const out: number[] = [];
  for (let k = 0; k < s.nodeCount; k++) if (s.nodeType(k) === 'object' && s.nodeName(k) === name) out.push(k);
  return out;
}

// Each Node version's V8 writes its own header fields (extra_native_bytes
// from Node 22, for one): `npm test` runs this file on every supported Node.
describe(`heap snapshots from a real process (v8.writeHeapSnapshot, Node ${process.version})`, async () => {
  const file = join(dir, 'leaky.heapsnapshot');
  runScript(dir, 'leaky.cjs', LEAKY_SCRIPT, [file]);
  const snap = await readHeapSnapshot(file, { chunkSize: 64 * 1024 + 3 });

  it('counts the 5000 Leaky instances exactly', () => {
    const c = census(snap);
    const g = c.groups.find((x) => x.name === 'Leaky');
    assert.ok(g);
    assert.equal(g.count, 5000);
    assert.ok(g.selfSize > 0 && g.retainedSize >= g.selfSize);
    assert.equal(nodesNamed(snap, 'Leaky').length, 5000);
  });

  it('reads the same graph with its edges in a worker thread (as files of 32 MB or more are read)', async () => {
    const progress: number[] = [];
    const two = await readHeapSnapshot(file, { parallel: true, chunkSize: 64 * 1024 + 3, onProgress: (b) => progress.push(b) });
    const a = snap.data;
    const b = two.data;
    assert.ok(a.edgeCount > 10_000);
    for (const key of ['nodeType', 'nodeName', 'nodeId', 'nodeSelfSize', 'firstEdge', 'edgeType', 'edgeNameOrIndex', 'edgeTo'] as const) {
      assert.ok(Buffer.from(a[key].buffer, a[key].byteOffset, a[key].byteLength).equals(Buffer.from(b[key].buffer, b[key].byteOffset, b[key].byteLength)), key);
    }
    assert.deepEqual(b.strings.toArray(), a.strings.toArray());
    // Shared columns: prepare() searches the distances on a second thread.
    for (const key of ['firstEdge', 'edgeTo', 'nodeType'] as const) assert.ok(b[key].buffer instanceof SharedArrayBuffer, key);
    // The thread's results themselves (prepare() would fall back to this thread on a failure).
    const thread = startGraphThread({
      graph: distanceGraph(b, sharedCopy(distanceEdges(b, makeDistanceFilter(b)))),
      essential: sharedCopy(two.essentialEdges()),
      edgeCount: b.edgeCount,
      root: two.rootIndex,
    });
    const retainers = await thread.retainers;
    assert.deepEqual([Array.from(retainers.first), Array.from(retainers.source)], [Array.from(snap.retainerIndex().first), Array.from(snap.retainerIndex().source)]);
    assert.deepEqual(Array.from(await thread.distances), Array.from(snap.distances()));
    await two.prepare();
    assert.deepEqual(Array.from(two.distances()), Array.from(snap.distances()));
    assert.deepEqual(Array.from(two.dominators().dominator), Array.from(snap.dominators().dominator));
    assert.deepEqual(Array.from(two.dominators().retainedSize), Array.from(snap.dominators().retainedSize));
    // Progress is the slower thread's position: it never goes back and ends at the file's size.
    assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]));
    assert.equal(progress.at(-1), readFileSync(file).length);
  });

  it('finds nodes by id up to the last one', () => {
    assert.equal(snap.findNodeById(snap.nodeId(snap.nodeCount - 1)), snap.nodeCount - 1);
    assert.equal(snap.findNodeById(snap.nodeId(0)), 0);
  });

  it('names the Map holder on the retainer path', () => {
    const leaky = nodesNamed(snap, 'Leaky')[123];
    const path = snap.retainerPath(leaky)!;
    assert.ok(path.length >= 3, JSON.stringify(path));
    const edges = path.map((s) => s.edge);
    assert.ok(edges.includes('leakHolder'), edges.join(' -> '));
    assert.ok(edges.includes('leakMap'), edges.join(' -> '));
    const mapStep = path[edges.indexOf('leakMap')];
    assert.match(mapStep.node, /^Map @\d+$/);
    assert.equal(path[path.length - 1].nodeIndex, leaky);
    assert.equal(path.length, snap.distance(leaky) < 100_000_000 ? snap.distance(leaky) : path.length);
  });

  it('the Map retains all the Leaky objects', () => {
    const leaky = nodesNamed(snap, 'Leaky');
    const map = snap.retainerPath(leaky[123])!.find((s) => s.edge === 'leakMap')!.nodeIndex;
    let sum = 0;
    for (const k of leaky) sum += snap.selfSize(k);
    assert.ok(snap.retainedSize(map) >= sum, `${snap.retainedSize(map)} >= ${sum}`);
    // Every Leaky is dominated by the Map, except one a stack slot may still hold.
    let underMap = 0;
    for (const k of leaky) {
      let d = k;
      while (d !== map && d !== snap.rootIndex) d = snap.dominatorOf(d);
      if (d === map) underMap++;
    }
    assert.ok(underMap >= 4999, `${underMap} under the Map`);
    assert.equal(snap.retainedSize(snap.rootIndex), snap.totalSize);
  });

  it('previews objects without long strings', () => {
    const k = nodesNamed(snap, 'Leaky')[7];
    const p = preview(snap, k, { includeStrings: true });
    assert.match(p, /^Leaky \{/);
    assert.match(p, /label: "leaky-\d+"/);
    assert.ok(p.length < 300);
    assert.match(preview(snap, k), /label: string \(\d+ chars, #[0-9a-f]{8}\)/);
  });
});

describe('in-process snapshot chunks (inspector) parse without the whole text', () => {
  it('parses addHeapSnapshotChunk strings as they arrive', () => {
    const out = runScript(
      dir,
      'stream.mjs',
      `
import inspector from 'node:inspector';
import { HeapSnapshotParser, census } from ${JSON.stringify(HEAP_MODULE)};
class Streamed { constructor(i) { this.i = i; } }
globalThis.keep = Array.from({ length: 1234 }, (_, i) => new Streamed(i));
const session = new inspector.Session();
session.connect();
const parser = new HeapSnapshotParser();
let chunks = 0;
session.on('HeapProfiler.addHeapSnapshotChunk', (m) => { chunks++; parser.write(m.params.chunk); });
// Node 22+ answers in a later task (Node 20 before post returns); the chunks arrive first either way.
await new Promise((resolve, reject) => session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, (err) => (err ? reject(err) : resolve())));
const snap = parser.end();
session.disconnect();
const g = census(snap, { retained: false }).groups.find((x) => x.name === 'Streamed');
process.stdout.write(JSON.stringify({ chunks, count: g && g.count }));
`,
    );
    const r = JSON.parse(out) as { chunks: number; count: number };
    assert.equal(r.count, 1234);
    assert.ok(r.chunks > 1);
  });
});

describe('diff of two snapshots of one process', async () => {
  const a = join(dir, 'diff-a.heapsnapshot');
  const b = join(dir, 'diff-b.heapsnapshot');
  runScript(
    dir,
    'diff.cjs',
    `${INSPECTOR_HELPERS}
class Leaky { constructor(i) { this.i = i; } }
class Fresh { constructor(i) { this.i = i; } }
globalThis.leaks = Array.from({ length: 2000 }, (_, i) => new Leaky(i));
(async () => {
  await snapshotTo(process.argv[2]);
  globalThis.leaks.length = 1500;                       // free 500
  globalThis.fresh = Array.from({ length: 300 }, (_, i) => new Fresh(i));
  await snapshotTo(process.argv[3]);
  post('HeapProfiler.disable');
  session.disconnect();
})();
`,
    [a, b],
  );
  const [sa, sb] = await Promise.all([readHeapSnapshot(a), readHeapSnapshot(b)]);

  it('finds new, freed and surviving objects per constructor', () => {
    const d = diffSnapshots(sa, sb);
    const leaky = d.byConstructor.find((x) => x.name === 'Leaky')!;
    const fresh = d.byConstructor.find((x) => x.name === 'Fresh')!;
    assert.deepEqual([leaky.added, leaky.removed, leaky.surviving, leaky.countDelta], [0, 500, 1500, -500]);
    assert.deepEqual([fresh.added, fresh.removed, fresh.surviving], [300, 0, 0]);
    assert.equal(fresh.addedSize, nodesNamed(sb, 'Fresh').reduce((s, k) => s + sb.selfSize(k), 0));
    assert.equal(d.bySite.length, 0, 'no traces, no sites');
  });

  it('refuses a snapshot of another process, unless allowed', async () => {
    // The same program run again numbers its objects the same way, so most
    // shared ids pair unrelated objects.
    const other = join(dir, 'diff-other.heapsnapshot');
    runScript(dir, 'leaky-again.cjs', LEAKY_SCRIPT, [other]);
    const so = await readHeapSnapshot(other);
    const same = compareIds(sa, sb);
    assert.ok(same.shared > 10_000 && same.mismatched * 100 < same.shared, `one process: ${same.mismatched} of ${same.shared} shared ids differ`);
    assert.throws(() => diffSnapshots(sa, so), (e: unknown) => e instanceof DifferentProcessesError && /^the two heap snapshots come from different processes: \d+% of the \d+ object ids/.test(e.message) && !e.message.includes('\n'));
    assert.ok(diffSnapshots(sa, so, { allowDifferentProcesses: true }).totals.surviving > 0);
  });
});

describe('allocation traces', async () => {
  const a = join(dir, 'trace-a.heapsnapshot');
  const b = join(dir, 'trace-b.heapsnapshot');
  runScript(
    dir,
    'traces.cjs',
    `${INSPECTOR_HELPERS}
class Widget { constructor(i) { this.i = i; this.tag = 'widget-' + i; } }
// As TrackingCapture does: V8's tracker drops the trace of an object a compacting GC moves.
require('v8').setFlagsFromString('--no-compact');
post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
function allocateWidgets(n) { const out = []; for (let i = 0; i < n; i++) out.push(new Widget(i)); return out; }
function allocateMore(n) { const out = []; for (let i = 0; i < n; i++) out.push(new Widget(1000 + i)); return out; }
(async () => {
  globalThis.widgets = allocateWidgets(200);
  await snapshotTo(process.argv[2]);
  globalThis.more = allocateMore(150);
  await snapshotTo(process.argv[3]);
  post('HeapProfiler.disable');   // a process exiting with tracking on hangs
  session.disconnect();
})();
`,
    [a, b],
  );
  const [sa, sb] = await Promise.all([readHeapSnapshot(a), readHeapSnapshot(b)]);
  const traceLine = (text: string): number => readFileSync(join(dir, 'traces.cjs'), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

  it('resolves each traced Widget to the function that allocated it', () => {
    assert.ok(sa.hasAllocationTraces);
    const widgets = nodesNamed(sa, 'Widget');
    assert.equal(widgets.length, 200);
    for (const k of widgets) {
      const frames = sa.nodeAllocationFrames(k);
      assert.ok(frames.length >= 1, `Widget @${sa.nodeId(k)} untraced`);
      assert.equal(frames[0].functionName, 'allocateWidgets');
      assert.match(frames[0].scriptName, /traces\.cjs$/);
      assert.equal(frames[0].line, traceLine('function allocateWidgets')); // 1-based definition line
      assert.ok(frames[0].column >= 1);
    }
  });

  it('attributes strings made in the constructor to the constructor', () => {
    const w = nodesNamed(sa, 'Widget')[5];
    const tag = sa.edges(w).find((e) => e.name === 'tag')!.to;
    assert.equal(sa.nodeAllocationFrames(tag)[0].functionName, 'Widget');
  });

  it('diffs per allocation site', () => {
    const d = diffSnapshots(sa, sb);
    const more = d.bySite.find((s) => s.frames[0]?.functionName === 'allocateMore' && s.added >= 150);
    assert.ok(more, d.bySite.map((s) => `${s.key} +${s.added}`).join('\n'));
    const widget = d.byConstructor.find((x) => x.name === 'Widget')!;
    assert.deepEqual([widget.added, widget.surviving], [150, 200]);
  });
});

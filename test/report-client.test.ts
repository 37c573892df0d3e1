// The HTML report's browser script (src/report/assets/report.js) in Node:
// its pure functions, and the page's size formatter against the model's,
// read from the script text exactly as the page inlines it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { formatSize } from '../src/model/index.js';
import { parseTimeline, type Timeline, type TimelineFrame, type TimelineHeader } from '../src/model/timeline.js';
import { buildFlameTree, type FlameNode } from '../src/report/flame.js';
import { clientScript, html } from '../src/report/html.js';
import type { ReportInput } from '../src/report/reporter.js';
import { REPORTERS, reporterFor } from '../src/report/reporters.js';
import type { Site, SiteFrame } from '../src/report/sites.js';

interface Column {
  key: string;
  title: string;
  numeric?: boolean;
  value(site: Site): number | string;
  text(site: Site): string;
}
interface Bar {
  node: FlameNode;
  left: number;
  width: number;
  depth: number;
  dim: boolean;
}
/** The part of the asset's exports these tests use (`formatSize` only in the page, where the model's module is inlined). */
interface Client {
  formatSize(size: number, sign?: boolean): string;
  formatInteger(n: number, sign?: boolean): string;
  parentsOf(root: FlameNode): Map<FlameNode, FlameNode>;
  layoutFlame(node: FlameNode, parents: Map<FlameNode, FlameNode>): { bars: Bar[]; rows: number };
  frameLabel(node: FlameNode, root: FlameNode, label: string): string;
  detailRows(node: FlameNode, root: FlameNode, label: string): Array<[string, string]>;
  sortRows(rows: Site[], column: Column, descending: boolean): Site[];
  tableColumns(data: { info: { mode: string }; lines: Site[] }): { sites: Column[]; diff: Column[] };
  initialSortKey(columns: Column[]): string;
  timelineName(header: Partial<TimelineHeader>): string;
  tickRange(ticks: Array<{ t: number }>, t1: number, t2: number): { from: number; to: number };
  readRange(ticks: Array<{ t: number; read: boolean }>, t1: number, t2: number): { from: number; to: number } | null;
  lastKnown(values: Array<number | null>): number;
  chartSeries(timeline: Timeline, limit: number): Array<{ name: string; values: number[]; color: string; width: number }>;
  polylinePoints(ticks: Array<{ t: number }>, values: Array<number | null>, x: (t: number) => number, y: (v: number) => number): string;
  rangeRows(timeline: Timeline, from: number, to: number): Array<{ frames: TimelineFrame[]; totalFrames: number; size: number; count: number; offHeapSize?: number }>;
  formatSeconds(ms: number): string;
}

/** The page's script, written to a file and imported: what the browser runs, not the source it came from. */
async function pageScript(): Promise<Client> {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-client-'));
  try {
    const file = join(dir, 'page-script.mjs');
    writeFileSync(file, clientScript());
    return (await import(pathToFileURL(file).href)) as Client;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The asset as Node loads it from dist/, with its import of the model. */
async function asset(): Promise<Client> {
  return (await import(new URL('../src/report/assets/report.js', import.meta.url).href)) as Client;
}

const frame = (fn: string, file: string, line: number, atLine = false): SiteFrame => ({ file, line, column: 1, function: fn, ...(atLine ? { atLine: true as const } : {}) });
const site = (frames: SiteFrame[], size: number, count: number, extra: Partial<Site> = {}): Site => ({ frames, totalFrames: frames.length, size, count, ...extra });

test('the page script inlines the model formatter and imports nothing', () => {
  const script = clientScript();
  assert.doesNotMatch(script, /^\s*import\b/m);
  assert.doesNotMatch(script, /<\/script/i);
  assert.match(script, /export function formatSize\(size, sign = false\)/);
  assert.equal(clientScript(), script, 'read once');
});

test('the page prints sizes as formatSize does: chosen values, ties, signs and random doubles', async () => {
  const page = await pageScript();
  const chosen = [0, -0, 1, 99, 100, 1023, 1024, 10239, 10239.5, 10240, 10291, 10496, 11008, 102399, 102400, 104960, 1048576, 10485759, 10485760, 12845056];
  const values = [
    ...chosen.flatMap((v) => [v, -v, v + 0.5, v * 1024, v * 1024 ** 2, v * 1024 ** 3, v * 1024 ** 4]),
    2.5, 0.25, 1e22, 1.099511627776e34, Infinity, -Infinity, NaN, 2 ** 53, 2 ** 53 + 2,
  ];
  for (let i = 0; i < 30000; i += 7) values.push(i, i * 97, i * 10007);
  for (const v of values) {
    assert.equal(page.formatSize(v), formatSize(v), `formatSize(${v})`);
    assert.equal(page.formatSize(v, true), formatSize(v, true), `formatSize(${v}, true)`);
  }
  fc.assert(
    fc.property(fc.double({ noNaN: false }), fc.boolean(), (v, sign) => page.formatSize(v, sign) === formatSize(v, sign)),
    { numRuns: 5000 },
  );
  // The page's old copy used toFixed, which rounds this tie up.
  assert.equal(page.formatSize(10496), '10.2 KiB');
});

test('the asset loads in Node without a document; integers get thousands separators', async () => {
  const client = await asset();
  assert.equal(client.formatInteger(3000), '3,000');
  assert.equal(client.formatInteger(2000.4, true), '+2,000');
  assert.equal(client.formatInteger(-1234567, true), '-1,234,567');
});

test('flame layout: zooming draws ancestors dimmed at full width, the node at full width, children scaled, slivers left out', async () => {
  const client = await asset();
  const main = frame('main', '/app/main.js', 1);
  const handle = frame('handle', '/app/server.js', 10);
  const sites = [
    site([main, handle, frame('remember', '/app/cache.js', 20)], 600, 3),
    site([main, handle, frame('render', '/app/page.js', 30)], 300, 1),
    site([main, frame('tiny', '/app/tiny.js', 5)], 0.0001, 1),
    site([main, frame('other', '/app/other.js', 7)], 100, 1),
  ];
  const root = buildFlameTree(sites);
  const parents = client.parentsOf(root);
  const whole = client.layoutFlame(root, parents);
  assert.deepEqual(
    whole.bars.map((b) => [client.frameLabel(b.node, root, 'live memory'), b.depth, Math.round(b.left * 10) / 10, Math.round(b.width * 10) / 10, b.dim]),
    [
      ['all (live memory)', 0, 0, 100, false],
      ['main main.js:1', 1, 0, 100, false],
      ['handle server.js:10', 2, 0, 90, false],
      ['remember cache.js:20', 3, 0, 60, false],
      ['render page.js:30', 3, 60, 30, false],
      ['other other.js:7', 2, 90, 10, false],
    ],
  );
  assert.equal(whole.rows, 4);

  const handleNode = root.children[0].children[0];
  const zoomed = client.layoutFlame(handleNode, parents);
  assert.deepEqual(
    zoomed.bars.map((b) => [b.node.name, b.depth, Math.round(b.left), Math.round(b.width), b.dim]),
    [
      ['', 0, 0, 100, true],
      ['main', 1, 0, 100, true],
      ['handle', 2, 0, 100, false],
      ['remember', 3, 0, 67, false],
      ['render', 3, 67, 33, false],
    ],
  );
  const remember = handleNode.children[0];
  assert.deepEqual(client.detailRows(remember, root, 'growth'), [
    ['Function', 'remember'],
    ['Location', '/app/cache.js:20'],
    ['growth', '600 B (60.0% of 1000 B)'],
    ['Objects', '3'],
    ['Allocated here (self)', '600 B'],
  ]);
  assert.deepEqual(client.detailRows(root, root, 'live memory').slice(0, 2), [['Function', 'all'], ['Location', '']]);
});

test('table: columns by mode, sorting both ways, text and numbers', async () => {
  const client = await asset();
  const lines = [
    site([frame('a', '/app/b.js', 3, true)], 2048, 2),
    site([frame('', '/app/a.js', 1)], 100, 10, { estimate: { sizeLow: 50, sizeHigh: 150, samples: 3 } }),
    site([frame('c', '/app/c.js', 9, true)], 40000, 0),
  ];
  const exact = client.tableColumns({ info: { mode: 'exact' }, lines });
  assert.deepEqual(exact.sites.map((c) => c.key), ['location', 'function', 'size', 'count', 'average']);
  assert.deepEqual(exact.diff.map((c) => c.key), ['location', 'function', 'sizeDiff', 'countDiff', 'size', 'count']);
  assert.equal(client.initialSortKey(exact.sites), 'size');
  assert.equal(client.initialSortKey(exact.diff), 'sizeDiff');
  const text = (rows: Site[], columns: Column[]) => rows.map((r) => columns.map((c) => c.text(r)));
  const bySize = exact.sites.find((c) => c.key === 'size')!;
  assert.deepEqual(text(client.sortRows(lines, bySize, true), exact.sites), [
    ['/app/c.js:9', 'c', '39.1 KiB', '0', ''],
    ['/app/b.js:3', 'a', '2048 B', '2', '1024 B'],
    // Line mode: a row without an allocating line is V8's function start.
    ['/app/a.js:1', '(anonymous) (function start)', '100 B', '10', '10 B'],
  ]);
  const byLocation = exact.sites.find((c) => c.key === 'location')!;
  assert.deepEqual(client.sortRows(lines, byLocation, false).map((r) => r.frames[0].file), ['/app/a.js', '/app/b.js', '/app/c.js']);
  assert.deepEqual(lines.map((r) => r.size), [2048, 100, 40000], 'sorting leaves the input alone');

  const sampled = client.tableColumns({ info: { mode: 'sampling' }, lines });
  const bounds = sampled.sites.at(-1)!;
  assert.equal(bounds.key, 'bounds');
  assert.equal(bounds.text(lines[1]), '50 B … 150 B');
  assert.equal(bounds.text(lines[0]), '');
  const grew = site([frame('g', '/app/g.js', 1)], 5000, 5, { sizeDiff: 3000, countDiff: -2, estimate: { sizeLow: -10, sizeHigh: 20, samples: 1 } });
  assert.deepEqual(sampled.diff.map((c) => c.text(grew)), ['/app/g.js:1', 'g (function start)', '+3000 B', '-2', '5000 B', '5', '-10 B … +20 B']);

  // Off-heap bytes (Buffers) get their own column, only when a site has some.
  const buffers = site([frame('keep', '/app/k.js', 4)], 131_072_000, 2000, { offHeapSize: 131_000_000, sizeDiff: 131_072_000, offHeapSizeDiff: 131_000_000 });
  const withBuffers = client.tableColumns({ info: { mode: 'exact' }, lines: [...lines, buffers] });
  assert.deepEqual(withBuffers.sites.map((c) => c.key), ['location', 'function', 'size', 'count', 'average', 'offHeap']);
  assert.deepEqual(withBuffers.sites.map((c) => c.text(buffers)).slice(-2), ['64.0 KiB', '125 MiB']);
  assert.equal(withBuffers.sites.at(-1)!.text(lines[0]), '');
  assert.equal(withBuffers.diff.at(-1)!.text(buffers), '+125 MiB');
});

test('reporters: one per format, each renders a report input', () => {
  assert.deepEqual(REPORTERS.map((r) => r.format), ['html', 'pprof', 'speedscope']);
  assert.equal(reporterFor('html'), html);
  assert.equal(reporterFor('svg'), undefined);
  assert.deepEqual(REPORTERS.filter((r) => r.showsDiff).map((r) => r.format), ['html']);
  const input: ReportInput = {
    title: 'app.snap',
    info: { mode: 'exact', tracebackLimit: 8 },
    sites: [site([frame('main', '/app/main.js', 1)], 1000, 2)],
    lines: [site([frame('main', '/app/main.js', 1)], 1000, 2)],
    diff: null,
  };
  const page = html.render(input);
  assert.equal(typeof page, 'string');
  assert.ok((page as string).includes(`<script type="module">${clientScript()}</script>`));
  const profile = reporterFor('pprof')!.render(input);
  assert.ok(profile instanceof Uint8Array);
  assert.deepEqual([...profile.subarray(0, 2)], [0x1f, 0x8b]);
  const doc = JSON.parse(reporterFor('speedscope')!.render(input) as string);
  assert.equal(doc.name, 'app.snap');
  assert.deepEqual(doc.profiles[0].weights, [1000]);
});

// ---- timeline ----

/** A sampled timeline file: `keep` grows on the heap, `allocBuffer` holds off-heap bytes from tick 1 to 3. */
function timelineText(options: { sampled?: boolean; offHeap?: boolean; tracedKnown?: boolean } = {}): string {
  const sampled = options.sampled ?? true;
  const offHeap = options.offHeap ?? true;
  const tracedKnown = options.tracedKnown ?? true;
  const keep = [{ file: '/app/main.js', line: 1, column: 1, function: 'main' }, { file: '/app/cache.js', line: 10, column: 5, function: 'keep' }];
  const buffer = [{ file: '/app/buf.js', line: 30, column: 3, function: '' }];
  const tick = (t: number, traced: number, off: number, born: unknown[], died: number[]) =>
    JSON.stringify({ t, cost: 1, traced: tracedKnown ? traced : null, offHeap: offHeap ? off : 0, rss: 1e8, heapUsed: 1e7 + t, arrayBuffers: 0, ...(sampled ? { born, died } : {}) });
  return [
    JSON.stringify({ tracemallocTimeline: 1, pid: 7, script: 'app.js', mode: sampled ? 'sampling' : 'exact', start: 0, every: 1000 }),
    ...(sampled ? [JSON.stringify({ site: 0, frames: keep }), JSON.stringify({ site: 1, frames: buffer })] : []),
    tick(0, 100, 0, [[1, 0, 100, 1]], []),
    tick(1000, 5300, 5000, [[2, 0, 200, 2], [-3, 1, 5000, 1]], []),
    tick(2000, 5300, 5000, [[4, 0, 300, 3]], [1]),
    tick(3000, 500, 0, [], [-3]),
  ].join('\n');
}

test('timelineName: the pid, then the thread and its script for a worker, or the main script', async () => {
  const client = await asset();
  assert.equal(client.timelineName({ pid: 12, script: 'server.mjs' }), 'pid 12 server.mjs');
  assert.equal(client.timelineName({ pid: 12, threadId: 1, threadName: 'worker.mjs' }), 'pid 12 thread 1 worker.mjs');
  assert.equal(client.timelineName({ pid: 12, threadId: 3 }), 'pid 12 thread 3');
  assert.equal(client.timelineName({ pid: 12 }), 'pid 12');
  // The headers the writer prints (src/agent/timeline.ts): the main thread has `script`, a worker `threadId` and `threadName`.
  assert.equal(client.timelineName(parseTimeline(timelineText()).header), 'pid 7 app.js');
});

test('readRange: ranges end at ticks that read the samples, as indices into all ticks; polylinePoints skips what a tick does not know', async () => {
  const client = await asset();
  const ticks = [{ t: 0, read: true }, { t: 1000, read: false }, { t: 2000, read: false }, { t: 3000, read: true }, { t: 4000, read: false }, { t: 5000, read: true }];
  assert.deepEqual(client.readRange(ticks, 1500, 4500), { from: 0, to: 3 });
  assert.deepEqual(client.readRange(ticks, 3200, 5100), { from: 3, to: 5 });
  assert.deepEqual(client.readRange(ticks, -10, 2500), { from: -1, to: 0 });
  // Between two reads: the next read.
  assert.deepEqual(client.readRange(ticks, 3500, 4500), { from: 3, to: 5 });
  assert.equal(client.readRange([{ t: 0, read: false }], 0, 10), null);
  const points = client.polylinePoints(ticks, [1, null, null, 4, null, 6], (t: number) => t / 1000, (v: number) => v);
  assert.equal(points, '0.0,1.0 3.0,4.0 5.0,6.0');
  assert.equal(client.lastKnown([1, 2, null]), 2);
  assert.equal(client.lastKnown([null]), 0);
});

test('tickRange: each end goes to the last tick at or before it, in either drag direction; a selection between two ticks takes the next', async () => {
  const client = await asset();
  const ticks = [{ t: 500 }, { t: 1500 }, { t: 2500 }, { t: 3500 }];
  assert.deepEqual(client.tickRange(ticks, 1600, 2600), { from: 1, to: 2 });
  assert.deepEqual(client.tickRange(ticks, 2600, 1600), { from: 1, to: 2 }, 'dragged right to left');
  assert.deepEqual(client.tickRange(ticks, 1500, 3500), { from: 1, to: 3 }, 'ends on ticks');
  assert.deepEqual(client.tickRange(ticks, 3499, 1500), { from: 1, to: 2 });
  // Between two ticks (or a click): the tick after.
  assert.deepEqual(client.tickRange(ticks, 1700, 2300), { from: 1, to: 2 });
  assert.deepEqual(client.tickRange(ticks, 1500, 1500), { from: 1, to: 2 });
  // Before the first tick: from the start.
  assert.deepEqual(client.tickRange(ticks, 0, 2000), { from: -1, to: 1 });
  assert.deepEqual(client.tickRange(ticks, 2000, 100), { from: -1, to: 1 });
  assert.deepEqual(client.tickRange(ticks, 100, 400), { from: -1, to: 0 }, 'both ends before the first tick: up to it');
  assert.deepEqual(client.tickRange(ticks, 0, 10_000), { from: -1, to: 3 });
  // Past the last tick there is no next one: the range is empty (from = to = the last).
  assert.deepEqual(client.tickRange(ticks, 3600, 9000), { from: 3, to: 3 });
});

test('rangeRows: the range\'s sites as table rows, largest first, offHeapSize only on rows that have some', async () => {
  const client = await asset();
  const tl = parseTimeline(timelineText());
  const keep = tl.sites[0];
  const buffer = tl.sites[1];
  // Everything alive at tick 1.
  const rows = client.rangeRows(tl, -1, 1);
  assert.deepEqual(rows, [
    { frames: buffer, totalFrames: 1, size: 5000, count: 1, offHeapSize: 5000 },
    { frames: keep, totalFrames: 2, size: 300, count: 3 },
  ]);
  assert.ok(!('offHeapSize' in rows[1]), 'no offHeapSize key on a heap-only row');
  // After tick 1 up to tick 3: sample 4 only (the buffer died at 3).
  assert.deepEqual(client.rangeRows(tl, 1, 3), [{ frames: keep, totalFrames: 2, size: 300, count: 3 }]);
  // From the start to tick 2: sample 1 died at 2.
  assert.deepEqual(client.rangeRows(tl, -1, 2).map((r) => [r.size, r.count, r.offHeapSize]), [[5000, 1, 5000], [500, 5, undefined]]);
  assert.deepEqual(client.rangeRows(tl, 3, 3), []);
  assert.deepEqual(client.rangeRows(parseTimeline(timelineText({ sampled: false })), -1, 3), [], 'exact mode has no sites');
});

test('chartSeries: the traced line when known, V8 heap used always, off-heap when a tick has some, site lines only when sampled', async () => {
  const client = await asset();
  const sampled = client.chartSeries(parseTimeline(timelineText()), 5);
  assert.deepEqual(sampled.map((s) => [s.name, s.values, s.width]), [
    ['traced', [100, 5300, 5300, 500], 2],
    ['V8 heap used', [1e7, 1e7 + 1000, 1e7 + 2000, 1e7 + 3000], 1],
    ['off-heap', [0, 5000, 5000, 0], 2],
    // Named by the allocating (last) frame; largest at the last tick first.
    ['keep cache.js:10', [100, 300, 500, 500], 1],
    ['(anonymous) buf.js:30', [0, 5000, 5000, 0], 1],
  ]);
  assert.equal(new Set(sampled.map((s) => s.color)).size, 5, 'each line its own colour');
  assert.deepEqual(client.chartSeries(parseTimeline(timelineText()), 1).map((s) => s.name), ['traced', 'V8 heap used', 'off-heap', 'keep cache.js:10'], 'the limit counts site lines');
  assert.deepEqual(client.chartSeries(parseTimeline(timelineText({ offHeap: false })), 5).map((s) => s.name), ['traced', 'V8 heap used', 'keep cache.js:10', '(anonymous) buf.js:30']);
  const exact = client.chartSeries(parseTimeline(timelineText({ sampled: false })), 5);
  assert.deepEqual(exact.map((s) => [s.name, s.values]), [
    ['traced', [100, 5300, 5300, 500]],
    ['V8 heap used', [1e7, 1e7 + 1000, 1e7 + 2000, 1e7 + 3000]],
    ['off-heap', [0, 5000, 5000, 0]],
  ]);
  assert.deepEqual(client.chartSeries(parseTimeline(timelineText({ sampled: false, offHeap: false })), 5).map((s) => s.name), ['traced', 'V8 heap used']);
  // Exact mode from launch (run's): no running traced total, so no traced line.
  assert.deepEqual(client.chartSeries(parseTimeline(timelineText({ sampled: false, offHeap: false, tracedKnown: false })), 5).map((s) => s.name), ['V8 heap used']);
  // The flag decides, not the samples: a timeline marked unsampled draws no site lines.
  assert.deepEqual(client.chartSeries({ ...parseTimeline(timelineText()), sampled: false }, 5).map((s) => s.name), ['traced', 'V8 heap used', 'off-heap']);
});

test('polylinePoints and formatSeconds: pixels at tick times, seconds for labels', async () => {
  const client = await asset();
  const ticks = [{ t: 0 }, { t: 1000 }, { t: 2500 }];
  assert.equal(client.polylinePoints(ticks, [0, 50, 100], (t) => t / 10, (v) => 200 - v * 1.5), '0.0,200.0 100.0,125.0 250.0,50.0');
  assert.equal(client.formatSeconds(0), '0.0 s');
  assert.equal(client.formatSeconds(1234), '1.2 s');
  assert.equal(client.formatSeconds(12_345), '12 s');
});

test('the page script has the timeline functions as the asset does', async () => {
  const page = await pageScript();
  const tl = parseTimeline(timelineText());
  assert.deepEqual(page.rangeRows(tl, -1, 2), (await asset()).rangeRows(tl, -1, 2));
  assert.deepEqual(page.chartSeries(tl, 5), (await asset()).chartSeries(tl, 5));
});

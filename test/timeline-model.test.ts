// The memory timeline's pure reader (src/model/timeline.ts) on hand-written
// files: what parseTimeline reads and rejects, what a range of ticks keeps
// (rangeSites), the per-site curves (topSeries), and a property test of
// rangeSites and topSeries against a brute-force replay of random files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TIMELINE_VERSION, lastRead, parseTimeline, rangeSites, topSeries, type RangeSite, type Timeline, type TimelineFrame } from '../src/model/timeline.js';
import { snapshotOfTimeline } from '../src/tracer/from-timeline.js';

fc.configureGlobal({ includeErrorInReport: true });

type Born = [id: number, site: number, size: number, count: number];

const header = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ tracemallocTimeline: TIMELINE_VERSION, pid: 42, script: 'app.js', mode: 'sampling', samplingInterval: 32768, nodeVersion: 'v20.0.0', start: 1_700_000_000_000, every: 1000, ...extra });

const frame = (fn: string, file: string, line: number): TimelineFrame => ({ file, line, column: 1, function: fn });
const siteLine = (site: number, frames: TimelineFrame[]): string => JSON.stringify({ site, frames });

/** A tick line as the writer prints it; `born`/`died` null: exact mode (no sample lists). */
function tickLine(t: number, born: Born[] | null, died: number[] | null, memory: { traced?: number; offHeap?: number } = {}): string {
  return JSON.stringify({
    t,
    cost: 1.5,
    traced: memory.traced ?? 1000 + t,
    offHeap: memory.offHeap ?? 0,
    rss: 50_000_000,
    heapUsed: 5_000_000 + t,
    arrayBuffers: 10_000,
    ...(born ? { born } : {}),
    ...(died ? { died } : {}),
  });
}

const lines = (...l: string[]): string => l.join('\n') + '\n';

const KEEP = [frame('main', '/app/main.js', 1), frame('keep', '/app/cache.js', 10)];
const RENDER = [frame('render', '/app/page.js', 20)];
const BUFFER = [frame('main', '/app/main.js', 1), frame('allocBuffer', '/app/buf.js', 30)];

/**
 * Five ticks, three sites. Samples (id: site, bytes, objects, born tick → died tick):
 *   1: keep 100 B 1, 0 → 2      2: render 500 B 2, 0 → alive
 *   3: keep 30 B 1, 1 → 3      -4: allocBuffer 1000 B off-heap, 1 → 4
 *  -5: keep 200 B off-heap, 1 → alive
 *   6: render 20 B 1, 2 → 4     7: keep 7 B 1, 4 → alive
 */
const SAMPLED = lines(
  header(),
  siteLine(0, KEEP),
  siteLine(1, RENDER),
  tickLine(0, [[1, 0, 100, 1], [2, 1, 500, 2]], [], { traced: 600 }),
  siteLine(2, BUFFER),
  tickLine(1000, [[3, 0, 30, 1], [-4, 2, 1000, 1], [-5, 0, 200, 1]], [], { traced: 1830, offHeap: 1200 }),
  tickLine(2010, [[6, 1, 20, 1]], [1], { traced: 1750, offHeap: 1200 }),
  tickLine(3000, [], [3], { traced: 1720, offHeap: 1200 }),
  tickLine(4020, [[7, 0, 7, 1]], [-4, 6], { traced: 707, offHeap: 200 }),
);

const row = (site: number, frames: TimelineFrame[], size: number, count: number, offHeapSize = 0): RangeSite => ({ site, frames, size, count, offHeapSize });

test('parseTimeline reads the header, sites, ticks without their lists, and every sample with the ticks it was born and died in', () => {
  const tl = parseTimeline(SAMPLED);
  assert.equal(tl.header.pid, 42);
  assert.equal(tl.header.script, 'app.js');
  assert.equal(tl.header.mode, 'sampling');
  assert.equal(tl.header.every, 1000);
  assert.equal(tl.header.start, 1_700_000_000_000);
  assert.deepEqual(tl.sites, [KEEP, RENDER, BUFFER]);
  assert.equal(tl.sampled, true);
  assert.deepEqual(tl.ticks.map((t) => t.t), [0, 1000, 2010, 3000, 4020]);
  assert.deepEqual(tl.ticks.map((t) => [t.traced, t.offHeap]), [[600, 0], [1830, 1200], [1750, 1200], [1720, 1200], [707, 200]]);
  assert.deepEqual(tl.ticks[2], { t: 2010, cost: 1.5, traced: 1750, offHeap: 1200, rss: 50_000_000, heapUsed: 5_002_010, arrayBuffers: 10_000, read: true }, 'ticks keep their figures, not their born/died lists, and say they read the samples');
  assert.deepEqual(tl.samples, {
    site: [0, 1, 0, 2, 0, 1, 0],
    size: [100, 500, 30, 1000, 200, 20, 7],
    count: [1, 2, 1, 1, 1, 1, 1],
    offHeap: [false, false, false, true, true, false, false],
    born: [0, 0, 1, 1, 1, 2, 4],
    died: [2, -1, 3, 4, -1, 4, -1],
  });
  // Without the final newline (a file read while being written) the same.
  assert.deepEqual(parseTimeline(SAMPLED.trimEnd()), tl);
});

test('parseTimeline: a last line cut short (a crash mid-write) is left out; a bad line before it throws, naming its line', () => {
  const whole = parseTimeline(SAMPLED);
  const cutTick = tickLine(5000, [[8, 1, 64, 1]], [2]);
  for (const cut of [1, 10, cutTick.length - 1]) {
    const tl = parseTimeline(SAMPLED + cutTick.slice(0, cut));
    assert.equal(tl.ticks.length, 5, `cut at ${cut}: the partial tick is not read`);
    assert.deepEqual(tl, whole, `cut at ${cut}`);
  }
  // A write of a new site and its tick cut inside the site line.
  const cutSite = siteLine(3, [frame('late', '/app/late.js', 5)]);
  assert.deepEqual(parseTimeline(SAMPLED + cutSite.slice(0, 20)), whole);
  // The whole line is read once it is complete, even before its newline.
  assert.equal(parseTimeline(SAMPLED + tickLine(5000, [], [2])).ticks.length, 6);

  const rows = SAMPLED.trimEnd().split('\n');
  // Line 5 (site 2's) cut short, with complete lines after it.
  const broken = [...rows.slice(0, 4), rows[4].slice(0, 15), ...rows.slice(5)].join('\n') + '\n';
  assert.throws(() => parseTimeline(broken), (err: Error) => err instanceof Error && /^line 5\b/.test(err.message) && /not JSON/.test(err.message));
  const midTick = [...rows.slice(0, 6), rows[6].slice(0, 30), rows[7]].join('\n');
  assert.throws(() => parseTimeline(midTick), /^Error: line 7 is not JSON$/);
  // JSON that is not an object, in the middle or last.
  assert.throws(() => parseTimeline([...rows.slice(0, 3), '[1,2,3]', ...rows.slice(3)].join('\n')), /line 4 is not a JSON object/);
  assert.throws(() => parseTimeline(SAMPLED + 'null\n'), /line 10 is not a JSON object/);
  // An object that is neither a site nor a tick.
  assert.throws(() => parseTimeline([...rows.slice(0, 3), '{"hello":1}', ...rows.slice(3)].join('\n')), /line 4 is neither a site nor a tick/);
  // A blank line in the middle is a bad line too.
  assert.throws(() => parseTimeline([...rows.slice(0, 3), '', ...rows.slice(3)].join('\n')), /line 4 is not JSON/);
});

test('parseTimeline rejects what is not a timeline of this version: the first line decides', () => {
  const rest = SAMPLED.slice(SAMPLED.indexOf('\n') + 1);
  assert.throws(() => parseTimeline(header({ tracemallocTimeline: TIMELINE_VERSION + 1 }) + '\n' + rest), /not a tracemalloc timeline of version 1 \(line 1\)/);
  assert.throws(() => parseTimeline(header({ tracemallocTimeline: '1' }) + '\n' + rest), /version 1/);
  assert.throws(() => parseTimeline(rest), /not a tracemalloc timeline/, 'a site line first');
  assert.throws(() => parseTimeline(tickLine(0, [], []) + '\n'), /not a tracemalloc timeline/, 'a tick line first');
  assert.throws(() => parseTimeline(header({ start: undefined }) + '\n' + rest), /line 1 lacks start, every or mode/);
  assert.throws(() => parseTimeline(header({ every: '1000' }) + '\n'), /line 1 lacks start, every or mode/);
  assert.throws(() => parseTimeline(header({ mode: undefined }) + '\n'), /line 1 lacks start, every or mode/);
  assert.throws(() => parseTimeline(''), /empty file/);
  assert.throws(() => parseTimeline('\n\n'), /empty file/);
  // A header cut short is not "a last line cut short": there is no timeline.
  assert.throws(() => parseTimeline(header().slice(0, 30)), /line 1 is not JSON/);
  assert.throws(() => parseTimeline('[]\n'), /line 1 is not a JSON object/);
  // A header alone is an empty timeline.
  const empty = parseTimeline(header() + '\n');
  assert.deepEqual([empty.ticks, empty.sites, empty.sampled, empty.samples.site], [[], [], false, []]);
});

test('parseTimeline rejects a born sample of a site not yet listed, and a malformed born entry', () => {
  assert.throws(() => parseTimeline(lines(header(), siteLine(0, KEEP), tickLine(0, [[1, 0, 10, 1], [2, 7, 10, 1]], []))), /^Error: line 3: sample of unknown site 7$/);
  // The site's line comes after the tick that names it.
  assert.throws(() => parseTimeline(lines(header(), tickLine(0, [[1, 0, 10, 1]], []), siteLine(0, KEEP))), /line 2: sample of unknown site 0/);
  assert.throws(() => parseTimeline(lines(header(), siteLine(0, KEEP), tickLine(0, [[1, 0, 10]] as unknown as Born[], []))), /line 3: a bad born sample/);
  assert.throws(() => parseTimeline(lines(header(), siteLine(0, KEEP), tickLine(0, [[1, 0, '10', 1]] as unknown as Born[], []))), /line 3: a bad born sample/);
  assert.throws(() => parseTimeline(lines(header(), JSON.stringify({ site: 0 }))), /line 2: a site without frames/);
});

test('rangeSites: samples born after tick `from` up to tick `to` and still alive at `to`, summed by site, largest first', () => {
  const tl = parseTimeline(SAMPLED);
  // From the start: everything alive at the tick.
  assert.deepEqual(rangeSites(tl, -1, 0), [row(1, RENDER, 500, 2), row(0, KEEP, 100, 1)]);
  assert.deepEqual(rangeSites(tl, -1, 1), [row(2, BUFFER, 1000, 1, 1000), row(1, RENDER, 500, 2), row(0, KEEP, 330, 3, 200)]);
  // Sample 1 died at tick 2: gone from every range ending at 2 or later.
  assert.deepEqual(rangeSites(tl, -1, 2), [row(2, BUFFER, 1000, 1, 1000), row(1, RENDER, 520, 3), row(0, KEEP, 230, 2, 200)]);
  assert.deepEqual(rangeSites(tl, -1, 4), [row(1, RENDER, 500, 2), row(0, KEEP, 207, 2, 200)]);
  // Born at tick `from` is not in the range; born at `to` is.
  assert.deepEqual(rangeSites(tl, 0, 1), [row(2, BUFFER, 1000, 1, 1000), row(0, KEEP, 230, 2, 200)]);
  assert.deepEqual(rangeSites(tl, 1, 2), [row(1, RENDER, 20, 1)]);
  // Sample 3 (born 1) is alive at 2, died at 3.
  assert.deepEqual(rangeSites(tl, 0, 2), [row(2, BUFFER, 1000, 1, 1000), row(0, KEEP, 230, 2, 200), row(1, RENDER, 20, 1)]);
  assert.deepEqual(rangeSites(tl, 0, 3), [row(2, BUFFER, 1000, 1, 1000), row(0, KEEP, 200, 1, 200), row(1, RENDER, 20, 1)]);
  // Off-heap sample -4 died at tick 4 (a negative id in `died`).
  assert.deepEqual(rangeSites(tl, 0, 4), [row(0, KEEP, 207, 2, 200)]);
  assert.deepEqual(rangeSites(tl, 1, 4), [row(0, KEEP, 7, 1)]);
  assert.deepEqual(rangeSites(tl, 3, 4), [row(0, KEEP, 7, 1)]);
  assert.deepEqual(rangeSites(tl, 4, 4), []);
  assert.deepEqual(rangeSites(tl, 2, 3), [], 'nothing born at tick 3');
  // The rows' frames are the sites' own.
  assert.equal(rangeSites(tl, -1, 0)[0].frames, tl.sites[1]);
});

test('rangeSites rounds the sums (objects are fractional estimates in sampling mode)', () => {
  const tl = parseTimeline(lines(header(), siteLine(0, KEEP), siteLine(1, RENDER), tickLine(0, [[1, 0, 100, 0.4], [2, 0, 50, 0.4], [3, 1, 10.6, 2.5], [-4, 1, 10.6, 0.7]], [])));
  assert.deepEqual(rangeSites(tl, -1, 0), [row(0, KEEP, 150, 1), row(1, RENDER, 21, 3, 11)]);
});

test('topSeries: live bytes per site at every tick, the largest at the last tick or the most grown', () => {
  const tl = parseTimeline(SAMPLED);
  const keep = { site: 0, frames: KEEP, values: [100, 330, 230, 200, 207] };
  const render = { site: 1, frames: RENDER, values: [500, 500, 520, 520, 500] };
  const buffer = { site: 2, frames: BUFFER, values: [0, 1000, 1000, 1000, 0] };
  assert.deepEqual(topSeries(tl, 10), [render, keep, buffer]);
  assert.deepEqual(topSeries(tl, 10, 'size'), [render, keep, buffer]);
  assert.deepEqual(topSeries(tl, 1), [render]);
  assert.deepEqual(topSeries(tl, 2), [render, keep]);
  // Growth from the first tick to the last: keep +107, render 0, allocBuffer 0.
  assert.deepEqual(topSeries(tl, 1, 'growth'), [keep]);
  assert.deepEqual(topSeries(tl, 10, 'growth')[0], keep);
  assert.equal(topSeries(tl, 10, 'growth').length, 3);
  assert.deepEqual(topSeries(tl, 0), []);
  // A site whose memory shrank ranks last by growth though it is the largest.
  const shrinking = parseTimeline(lines(header(), siteLine(0, KEEP), siteLine(1, RENDER), tickLine(0, [[1, 0, 900, 1], [2, 1, 10, 1]], []), tickLine(1000, [[3, 1, 50, 1]], [1]), tickLine(2000, [[4, 0, 800, 1]], [])));
  assert.deepEqual(topSeries(shrinking, 2, 'size').map((s) => [s.site, s.values]), [[0, [900, 0, 800]], [1, [10, 60, 60]]]);
  assert.deepEqual(topSeries(shrinking, 2, 'growth').map((s) => [s.site, s.values]), [[1, [10, 60, 60]], [0, [900, 0, 800]]]);
});

test('exact mode: ticks without sample lists give an unsampled timeline with figures and no sites', () => {
  const text = lines(header({ mode: 'exact', samplingInterval: undefined }), tickLine(2, null, null, { traced: 10 }), tickLine(1011, null, null, { traced: 5000, offHeap: 300 }), tickLine(2013, null, null, { traced: 4000 }));
  const tl = parseTimeline(text);
  assert.equal(tl.sampled, false);
  assert.equal(tl.header.mode, 'exact');
  assert.deepEqual(tl.ticks.map((t) => [t.t, t.traced, t.offHeap, t.read]), [[2, 10, 0, false], [1011, 5000, 300, false], [2013, 4000, 0, false]]);
  assert.deepEqual(tl.samples, { site: [], size: [], count: [], offHeap: [], born: [], died: [] });
  assert.deepEqual(rangeSites(tl, -1, 2), []);
  assert.deepEqual(topSeries(tl, 5), []);
  // A sampling-mode tick with empty lists is still sampled.
  assert.equal(parseTimeline(lines(header(), tickLine(0, [], []))).sampled, true);
});

// ---------------------------------------------------------------- property

interface GenTick {
  born: Array<{ site: number; size: number; count: number; offHeap: boolean }>;
  /** Which of the samples alive before this tick die in it, as indices into them (taken modulo). */
  died: number[];
}

const genTimeline = fc.record({
  sites: fc.integer({ min: 1, max: 4 }),
  ticks: fc.array(
    fc.record({
      born: fc.array(fc.record({ site: fc.nat(3), size: fc.integer({ min: 1, max: 100_000 }), count: fc.integer({ min: 1, max: 50 }), offHeap: fc.boolean() }), { maxLength: 5 }),
      died: fc.array(fc.nat(40), { maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 12 },
  ),
});

/** The file the writer would print for these ticks, and the replay's per-tick sets of live samples. */
function build(gen: { sites: number; ticks: GenTick[] }): { text: string; alive: Array<Map<number, Born>>; bornAt: Map<number, number> } {
  const out = [header()];
  const listed = new Set<number>();
  const live = new Map<number, Born>();
  const alive: Array<Map<number, Born>> = [];
  const bornAt = new Map<number, number>();
  let nextId = 1;
  gen.ticks.forEach((g, tick) => {
    const current = [...live.keys()];
    const died = [...new Set(g.died.filter(() => current.length > 0).map((i) => current[i % current.length]))];
    for (const id of died) live.delete(id);
    const born: Born[] = [];
    for (const b of g.born) {
      const site = b.site % gen.sites;
      if (!listed.has(site)) {
        listed.add(site);
        out.push(siteLine(site, [frame(`f${site}`, `/app/s${site}.js`, site + 1)]));
      }
      const id = b.offHeap ? -nextId : nextId;
      nextId++;
      const entry: Born = [id, site, b.size, b.count];
      born.push(entry);
      live.set(id, entry);
      bornAt.set(id, tick);
    }
    out.push(tickLine(tick * 1000, born, died));
    alive.push(new Map(live));
  });
  return { text: out.join('\n') + '\n', alive, bornAt };
}

test('property: rangeSites and topSeries agree with a replay of random births and deaths; a cut-short last line changes nothing', () => {
  fc.assert(
    fc.property(genTimeline, fc.nat(), fc.nat(), fc.nat(60), (gen, a, b, cut) => {
      const { text, alive, bornAt } = build(gen);
      const tl = parseTimeline(text);
      const n = gen.ticks.length;
      assert.equal(tl.ticks.length, n);
      const to = b % n;
      const from = (a % (to + 2)) - 1; // -1 … to
      // Brute force: the samples alive at `to` that were born after `from`.
      const expected = new Map<number, RangeSite>();
      for (const [id, [, site, size, count]] of alive[to]) {
        if (bornAt.get(id)! <= from) continue;
        const r = expected.get(site) ?? row(site, tl.sites[site], 0, 0);
        r.size += size;
        r.count += count;
        if (id < 0) r.offHeapSize += size;
        expected.set(site, r);
      }
      const got = rangeSites(tl, from, to);
      for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].size >= got[i].size, 'largest first');
      assert.deepEqual(
        [...got].sort((x, y) => x.site - y.site),
        [...expected.values()].sort((x, y) => x.site - y.site),
        `rangeSites(${from}, ${to})`,
      );
      // Every site's curve is its live bytes at each tick.
      const series = topSeries(tl, Infinity);
      for (const s of series) {
        const values = alive.map((live) => [...live.values()].filter(([, site]) => site === s.site).reduce((sum, [, , size]) => sum + size, 0));
        assert.deepEqual(s.values, values, `site ${s.site}`);
      }
      // Every tick here read the samples: no null values.
      const lastOf = (s: { values: Array<number | null> }) => s.values[n - 1]!;
      const firstOf = (s: { values: Array<number | null> }) => s.values[0]!;
      for (let i = 1; i < series.length; i++) assert.ok(lastOf(series[i - 1]) >= lastOf(series[i]), 'by size at the last tick');
      const grown = topSeries(tl, Infinity, 'growth');
      for (let i = 1; i < grown.length; i++) assert.ok(lastOf(grown[i - 1]) - firstOf(grown[i - 1]) >= lastOf(grown[i]) - firstOf(grown[i]), 'by growth');
      // A crash while appending one more tick leaves a prefix of it, which is not read.
      const extra = tickLine(n * 1000, [], [...alive[n - 1].keys()]);
      const partial = extra.slice(0, 1 + (cut % (extra.length - 1)));
      assert.deepEqual(parseTimeline(text + partial), tl);
    }),
    { numRuns: 500 },
  );
});

test('light ticks (Node figures only, between reads): read is false, topSeries has null there, ranges count the samples of the reads', () => {
  const light = (t: number) => JSON.stringify({ t, cost: 0, traced: null, offHeap: null, rss: 60_000_000, heapUsed: 6_000_000 + t, arrayBuffers: 0 });
  const text = lines(
    header(),
    siteLine(0, KEEP),
    tickLine(0, [[1, 0, 100, 1]], []),
    light(1000),
    light(2000),
    tickLine(3000, [[2, 0, 300, 3]], []),
    light(4000),
    tickLine(5000, [], [1]),
  );
  const tl = parseTimeline(text);
  assert.equal(tl.sampled, true);
  assert.deepEqual(tl.ticks.map((t) => [t.t, t.read, t.traced]), [[0, true, 1000], [1000, false, null], [2000, false, null], [3000, true, 4000], [4000, false, null], [5000, true, 6000]]);
  assert.deepEqual(tl.samples.born, [0, 3]);
  assert.deepEqual(tl.samples.died, [5, -1]);
  assert.deepEqual(topSeries(tl, 5)[0].values, [100, null, null, 400, null, 300]);
  assert.deepEqual(rangeSites(tl, 0, 3).map((r) => r.size), [300]);
  assert.deepEqual(rangeSites(tl, -1, 5).map((r) => r.size), [300]);
  // By growth, the first and last reads count, not the light ticks.
  assert.deepEqual(topSeries(tl, 5, 'growth').map((s) => s.site), [0]);
});

test('snapshotOfTimeline: what was alive at a read as a sampling snapshot, sized as rangeSites from the start, with Horvitz–Thompson variances', () => {
  const text = lines(
    header({ threadId: 3, threadName: 'w.js', script: undefined }),
    siteLine(0, KEEP),
    siteLine(1, BUFFER),
    tickLine(0, [[1, 0, 100, 1], [2, 0, 300, 3]], []),
    tickLine(1000, [[-5, 1, 8000, 2]], [1]),
    JSON.stringify({ t: 2000, cost: 0, traced: null, offHeap: null, rss: 1, heapUsed: 1, arrayBuffers: 0 }),
  );
  const tl = parseTimeline(text);
  assert.equal(lastRead(tl), 1, 'the light tick is not a read');
  const snapshot = snapshotOfTimeline(tl)!;
  assert.equal(snapshot.meta.mode, 'sampling');
  assert.equal(snapshot.meta.threadId, 3);
  assert.equal(snapshot.meta.timestamp, 1_700_000_000_000 + 1000);
  const byFunction = new Map(snapshot.traces.map((t) => [t.traceback.at(-1)!.functionName, t]));
  assert.deepEqual([...byFunction.keys()].sort(), ['allocBuffer', 'keep']);
  const keep = byFunction.get('keep')!;
  // Sample 1 died at tick 1; sample 2 (300 B standing for 3 objects of 100 B) is alive: variance (3² - 3) × 100².
  assert.deepEqual([keep.size, keep.count, keep.offHeapSize], [300, 3, 0]);
  assert.deepEqual(keep.estimate, { samples: 1, sizeVariance: 6 * 100 * 100, countVariance: 6 });
  assert.deepEqual([byFunction.get('allocBuffer')!.size, byFunction.get('allocBuffer')!.offHeapSize], [8000, 8000]);
  assert.deepEqual(
    snapshot.traces.map((t) => t.size).sort((a, b) => b - a),
    rangeSites(tl, -1, 1).map((r) => r.size),
  );
  assert.deepEqual(snapshotOfTimeline(tl, 0)!.traces.map((t) => t.size), [400], 'at the first read: both keep samples');
  assert.equal(snapshotOfTimeline(parseTimeline(lines(header({ mode: 'exact' }), tickLine(0, null, null)))), null, 'exact mode has no sites');
});

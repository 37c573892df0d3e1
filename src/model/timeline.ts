/**
 * The memory timeline that `tracemalloc run` records beside its snapshots:
 * one JSON-lines file per traced thread, `tracemalloc-<pid>[-t<id>-<script>].timeline`.
 *
 * Line 1 is a {@link TimelineHeader}. Then, in order, {@link TimelineSite}
 * lines (a traceback, written once, before the first tick that names it)
 * and {@link TimelineTick} lines (one per read, appended as it happens, so
 * a crash loses at most the read in progress). A tick lists the samples
 * that appeared since the previous one (`born`) and those that died
 * (`died`); replaying them gives, for any range of ticks, what was
 * allocated in it and still alive at its end, without a heap snapshot.
 *
 * This module imports nothing: the HTML report inlines it into its page.
 */

/** Format version, the header's `tracemallocTimeline`. */
export const TIMELINE_VERSION = 1;

/** One frame of a site, as in reports (1-based line and column). */
export interface TimelineFrame {
  file: string;
  line: number;
  column: number;
  function: string;
  /** Line mode: `line` is the allocating or calling line, not the function's start (as in reports). */
  atLine?: true;
}

export interface TimelineHeader {
  tracemallocTimeline: number;
  pid: number;
  threadId?: number;
  threadName?: string;
  script?: string;
  mode: string;
  samplingInterval?: number;
  nodeVersion?: string;
  /** Epoch milliseconds of tick time 0. */
  start: number;
  /** Milliseconds asked between ticks (a tick that costs more spaces the next ones out). */
  every: number;
}

export interface TimelineSite {
  site: number;
  /** Oldest first; the last frame allocated. */
  frames: TimelineFrame[];
}

export interface TimelineTick {
  /** Milliseconds since the header's `start`. */
  t: number;
  /** Milliseconds the read took. */
  cost: number;
  /**
   * Traced bytes, off-heap included; null on a light tick (Node's figures
   * only, between two reads of the samples) and when unknown between
   * snapshots (exact mode with V8's tracker from launch, as `run` starts it).
   */
  traced: number | null;
  /** Traced off-heap bytes; null on a light tick. */
  offHeap: number | null;
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  /** Samples seen for the first time: [id, site, bytes, objects]. Absent in exact mode and on light ticks. */
  born?: Array<[number, number, number, number]>;
  /** Ids of samples gone since the previous tick. */
  died?: number[];
}

/** A timeline read back: ticks, sites, and every sample's life as tick indices. */
export interface Timeline {
  header: TimelineHeader;
  /** Frames by site number. */
  sites: TimelineFrame[][];
  /** The ticks without their sample lists; `read` says whether the samples were read at it (sites are known there). */
  ticks: Array<Omit<TimelineTick, 'born' | 'died'> & { read: boolean }>;
  /** Whether ticks list samples (sampling mode): sites over time are known. */
  sampled: boolean;
  /** Per sample: its site, bytes, objects, whether off-heap (id < 0), the tick it appeared in, and the tick it was gone by (-1: alive at the end). */
  samples: { site: number[]; size: number[]; count: number[]; offHeap: boolean[]; born: number[]; died: number[] };
}

/** The last tick that read the samples, or -1. */
export function lastRead(timeline: Timeline): number {
  for (let i = timeline.ticks.length - 1; i >= 0; i--) if (timeline.ticks[i].read) return i;
  return -1;
}

/** Live memory at one site in a range of a timeline. */
export interface RangeSite {
  site: number;
  frames: TimelineFrame[];
  size: number;
  count: number;
  offHeapSize: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a timeline line by line, as a file grows (the live view) or all at
 * once ({@link parseTimeline}). {@link timeline} is null until the header.
 */
export class TimelineReader {
  timeline: Timeline | null = null;
  private readonly index = new Map<number, number>();
  private lines = 0;

  /** Read the next line; throws an Error naming it when it is not a timeline line. */
  add(line: string): void {
    const at = ++this.lines;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`line ${at} is not JSON`);
    }
    if (!isObject(value)) throw new Error(`line ${at} is not a JSON object`);
    const timeline = this.timeline;
    if (!timeline) {
      if (value.tracemallocTimeline !== TIMELINE_VERSION) throw new Error(`not a tracemalloc timeline of version ${TIMELINE_VERSION} (line 1)`);
      if (typeof value.start !== 'number' || typeof value.every !== 'number' || typeof value.mode !== 'string') throw new Error('line 1 lacks start, every or mode');
      const samples = { site: [], size: [], count: [], offHeap: [], born: [], died: [] };
      this.timeline = { header: value as unknown as TimelineHeader, sites: [], ticks: [], sampled: false, samples };
      return;
    }
    if (typeof value.site === 'number') {
      if (!Array.isArray(value.frames)) throw new Error(`line ${at}: a site without frames`);
      timeline.sites[value.site] = value.frames as TimelineFrame[];
      return;
    }
    if (typeof value.t !== 'number' || (typeof value.traced !== 'number' && value.traced !== null)) throw new Error(`line ${at} is neither a site nor a tick`);
    const tick = timeline.ticks.length;
    const { born, died, ...rest } = value as unknown as TimelineTick;
    const samples = timeline.samples;
    if (Array.isArray(born)) {
      timeline.sampled = true;
      for (const entry of born) {
        if (!Array.isArray(entry) || entry.length !== 4 || !entry.every((n) => typeof n === 'number')) throw new Error(`line ${at}: a bad born sample`);
        const [id, site, size, count] = entry;
        if (timeline.sites[site] === undefined) throw new Error(`line ${at}: sample of unknown site ${site}`);
        this.index.set(id, samples.site.length);
        samples.site.push(site);
        samples.size.push(size);
        samples.count.push(count);
        samples.offHeap.push(id < 0);
        samples.born.push(tick);
        samples.died.push(-1);
      }
    }
    if (Array.isArray(died)) {
      for (const id of died) {
        const i = this.index.get(id);
        if (i !== undefined) samples.died[i] = tick;
      }
    }
    timeline.ticks.push({ ...rest, read: Array.isArray(born) });
  }
}

/**
 * Read a timeline file's text. A last line cut short (the process died
 * while writing it) is left out; any other bad line throws an Error that
 * names it.
 */
export function parseTimeline(text: string): Timeline {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const reader = new TimelineReader();
  for (let i = 0; i < lines.length; i++) {
    try {
      reader.add(lines[i]);
    } catch (err) {
      if (i === lines.length - 1 && reader.timeline && /is not JSON$/.test((err as Error).message)) break;
      throw err;
    }
  }
  if (!reader.timeline) throw new Error('empty file');
  return reader.timeline;
}

/**
 * What was allocated after tick `from` up to tick `to` and is still alive
 * at tick `to`, by site, largest first. `from` = -1 starts at the
 * beginning (everything alive at `to`). Both should be ticks that read the
 * samples (`read`); at a light tick the samples are those of the read
 * before it.
 */
export function rangeSites(timeline: Timeline, from: number, to: number): RangeSite[] {
  const { samples } = timeline;
  const bySite = new Map<number, RangeSite>();
  for (let i = 0; i < samples.site.length; i++) {
    const born = samples.born[i];
    const died = samples.died[i];
    if (born <= from || born > to || (died !== -1 && died <= to)) continue;
    const site = samples.site[i];
    let row = bySite.get(site);
    if (!row) bySite.set(site, (row = { site, frames: timeline.sites[site], size: 0, count: 0, offHeapSize: 0 }));
    row.size += samples.size[i];
    row.count += samples.count[i];
    if (samples.offHeap[i]) row.offHeapSize += samples.size[i];
  }
  return [...bySite.values()].map((row) => ({ ...row, size: Math.round(row.size), count: Math.round(row.count), offHeapSize: Math.round(row.offHeapSize) })).sort((a, b) => b.size - a.size);
}

/** Live bytes of one site at every tick. */
export interface SiteSeries {
  site: number;
  frames: TimelineFrame[];
  /** Null at ticks that did not read the samples. */
  values: Array<number | null>;
}

/**
 * The `limit` sites with most live bytes at the last tick (`by` 'size') or
 * most growth from the first tick to the last ('growth'), each with its
 * live bytes at every tick.
 */
export function topSeries(timeline: Timeline, limit: number, by: 'size' | 'growth' = 'size'): SiteSeries[] {
  const n = timeline.ticks.length;
  const { samples } = timeline;
  // Per site, the change at each tick; a running sum gives the values.
  const deltas = new Map<number, Float64Array>();
  for (let i = 0; i < samples.site.length; i++) {
    let d = deltas.get(samples.site[i]);
    if (!d) deltas.set(samples.site[i], (d = new Float64Array(n)));
    d[samples.born[i]] += samples.size[i];
    if (samples.died[i] !== -1) d[samples.died[i]] -= samples.size[i];
  }
  const series: SiteSeries[] = [];
  for (const [site, d] of deltas) {
    const values: Array<number | null> = [];
    let live = 0;
    for (let t = 0; t < n; t++) {
      live += d[t];
      values.push(timeline.ticks[t].read ? Math.round(live) : null);
    }
    series.push({ site, frames: timeline.sites[site], values });
  }
  const keys = new Map<SiteSeries, number>();
  for (const s of series) {
    const known = s.values.filter((v): v is number => v !== null);
    const last = known.at(-1) ?? 0;
    keys.set(s, by === 'size' ? last : last - (known[0] ?? 0));
  }
  return series.sort((a, b) => keys.get(b)! - keys.get(a)!).slice(0, limit);
}

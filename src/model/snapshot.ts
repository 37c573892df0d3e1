/**
 * `Snapshot`: the traces at one moment, with Python's statistics,
 * comparison, filtering, and dump/load.
 *
 * @module
 */
import { readSnapshotFile, writeSnapshotFile } from './dump.js';
import { Filter, passesFilters } from './filter.js';
import { Frame } from './frame.js';
import { normalizeMeta, type SnapshotMeta } from './meta.js';
import { Statistic, StatisticDiff, sortStatisticDiffs, sortStatistics } from './statistic.js';
import { Trace } from './trace.js';
import { Traceback } from './traceback.js';

/** How statistics group traces: by file, by line (most recent frame) or by whole traceback. */
export type KeyType = 'filename' | 'lineno' | 'traceback';

/** The valid {@link KeyType} values. */
export const KEY_TYPES: readonly KeyType[] = Object.freeze(['filename', 'lineno', 'traceback'] as const);

/** Options of {@link Snapshot.statistics} and {@link Snapshot.compareTo}. */
export interface StatisticsOptions {
  /**
   * Credit each trace to every frame of its traceback, not only the most
   * recent one ('filename' and 'lineno' only). A key appearing several times
   * in one traceback (recursion) is credited once.
   */
  cumulative?: boolean;
}

/** Running totals of one group. */
interface Group {
  traceback: Traceback;
  size: number;
  count: number;
  offHeap: number;
  estimated: boolean;
  samples: number;
  sizeVariance: number;
  countVariance: number;
}

function checkKeyType(keyType: unknown, cumulative: unknown): void {
  if (!KEY_TYPES.includes(keyType as KeyType)) {
    throw new RangeError(`unknown keyType: ${JSON.stringify(keyType) ?? String(keyType)} (expected 'filename', 'lineno' or 'traceback')`);
  }
  if (cumulative && keyType === 'traceback') {
    throw new RangeError("cumulative mode cannot be used with keyType 'traceback' (use 'filename' or 'lineno')");
  }
}

function add(groups: Map<string, Group>, key: string, makeTraceback: () => Traceback, trace: Trace): void {
  let g = groups.get(key);
  if (!g) {
    g = { traceback: makeTraceback(), size: 0, count: 0, offHeap: 0, estimated: false, samples: 0, sizeVariance: 0, countVariance: 0 };
    groups.set(key, g);
  }
  g.size += trace.size;
  g.count += trace.count;
  g.offHeap += trace.offHeapSize;
  const e = trace.estimate;
  if (e) {
    g.estimated = true;
    g.samples += e.samples;
    g.sizeVariance += e.sizeVariance;
    g.countVariance += e.countVariance;
  }
}

/** The key and key traceback of one frame under 'filename' or 'lineno'. */
function frameKey(frame: Frame, keyType: 'filename' | 'lineno'): [string, () => Traceback] {
  if (keyType === 'lineno') return [frame.key, () => new Traceback([frame])];
  // Python's ((filename, 0),): the function name means nothing for a whole file.
  return [`f:${frame.filename}`, () => new Traceback([new Frame(frame.filename, 0)])];
}

/**
 * Traces at one moment, as Python's `tracemalloc.Snapshot`. Immutable.
 *
 * Each {@link Trace} stands for `count` blocks with one traceback (V8 gives
 * aggregates), so statistics add counts, not traces.
 */
export class Snapshot {
  /** The traces (one per allocation traceback). */
  readonly traces: readonly Trace[];
  /** Frames kept per traceback when the snapshot was taken. */
  readonly tracebackLimit: number;
  /** Mode, sampling interval, time, process. */
  readonly meta: Readonly<SnapshotMeta>;

  /**
   * @param traces - the traces
   * @param tracebackLimit - traceback limit of the capture (>= 1)
   * @param meta - how and when it was taken; default: exact mode, now
   */
  constructor(traces: Iterable<Trace>, tracebackLimit: number, meta: SnapshotMeta = { mode: 'exact', timestamp: Date.now() }) {
    const list = Object.freeze([...traces]);
    for (const t of list) if (!(t instanceof Trace)) throw new TypeError('Snapshot traces must be Trace instances');
    if (!Number.isInteger(tracebackLimit) || tracebackLimit < 1) throw new RangeError(`Snapshot tracebackLimit must be an integer >= 1, not ${String(tracebackLimit)}`);
    this.traces = list;
    this.tracebackLimit = tracebackLimit;
    this.meta = normalizeMeta(meta);
    Object.freeze(this);
  }

  /** True when sizes and counts are sampling estimates. */
  get isEstimate(): boolean {
    return this.meta.mode === 'sampling';
  }

  /**
   * Group the traces as Python's `Snapshot._group_by`: 'lineno' by the most
   * recent frame, 'filename' by its file (a frame with line 0), 'traceback'
   * by the whole traceback. Keys are Python's `(filename, lineno)` equality;
   * a key traceback keeps the first frame (function name, column) seen.
   */
  private groupBy(keyType: KeyType, cumulative: boolean): Map<string, Group> {
    checkKeyType(keyType, cumulative);
    const groups = new Map<string, Group>();
    if (!cumulative) {
      for (const trace of this.traces) {
        const tb = trace.traceback;
        if (keyType === 'traceback') {
          // Unlike Python (which drops total_nframe here) the first traceback is kept whole.
          add(groups, tb.key, () => tb, trace);
        } else {
          const [key, make] = frameKey(tb.mostRecent, keyType);
          add(groups, key, make, trace);
        }
      }
      return groups;
    }
    const kind = keyType as 'filename' | 'lineno';
    const seen = new Set<string>();
    for (const trace of this.traces) {
      seen.clear();
      const frames = trace.traceback.frames;
      // Most recent first, as Python walks its raw tracebacks.
      for (let i = frames.length - 1; i >= 0; i--) {
        const [key, make] = frameKey(frames[i], kind);
        // Credit a key once per trace: recursion must not double count.
        if (seen.has(key)) continue;
        seen.add(key);
        add(groups, key, make, trace);
      }
    }
    return groups;
  }

  /**
   * Statistics grouped by `keyType`, biggest first (Python's order: size,
   * count, traceback, descending).
   *
   * @throws RangeError for an unknown keyType or cumulative with 'traceback'
   */
  statistics(keyType: KeyType, options: StatisticsOptions = {}): Statistic[] {
    const groups = this.groupBy(keyType, Boolean(options.cumulative));
    const stats: Statistic[] = [];
    for (const g of groups.values()) {
      stats.push(new Statistic(g.traceback, g.size, g.count, g.estimated ? g : undefined, g.offHeap));
    }
    return sortStatistics(stats);
  }

  /**
   * Differences from `old`, grouped by `keyType`, biggest change first
   * (Python's order: |sizeDiff|, size, |countDiff|, count, traceback,
   * descending). Keys only in `old` appear with size 0 and count 0.
   *
   * @throws Error when the snapshots were taken in different modes
   * @throws RangeError for an unknown keyType or cumulative with 'traceback'
   */
  compareTo(old: Snapshot, keyType: KeyType, options: StatisticsOptions = {}): StatisticDiff[] {
    if (!(old instanceof Snapshot)) throw new TypeError('compareTo expects a Snapshot');
    checkKeyType(keyType, options.cumulative);
    if (old.meta.mode !== this.meta.mode) {
      throw new Error(
        `cannot compare snapshots taken in different modes (this one ${this.meta.mode}, the old one ${old.meta.mode}): take both in the same mode`,
      );
    }
    const cumulative = Boolean(options.cumulative);
    const now = this.groupBy(keyType, cumulative);
    const before = old.groupBy(keyType, cumulative);
    const diffs: StatisticDiff[] = [];
    const zero = { samples: 0, sizeVariance: 0, countVariance: 0 };
    const estimateOf = (n: Group | undefined, o: Group | undefined) => {
      if (!n?.estimated && !o?.estimated) return undefined;
      const a = n ?? zero;
      const b = o ?? zero;
      return {
        samples: a.samples,
        sizeVariance: a.sizeVariance,
        countVariance: a.countVariance,
        oldSamples: b.samples,
        oldSizeVariance: b.sizeVariance,
        oldCountVariance: b.countVariance,
      };
    };
    for (const [key, n] of now) {
      const o = before.get(key);
      before.delete(key);
      diffs.push(
        new StatisticDiff(n.traceback, n.size, n.size - (o?.size ?? 0), n.count, n.count - (o?.count ?? 0), estimateOf(n, o), n.offHeap, n.offHeap - (o?.offHeap ?? 0)),
      );
    }
    for (const o of before.values()) {
      diffs.push(new StatisticDiff(o.traceback, 0, -o.size, 0, -o.count, estimateOf(undefined, o), 0, -o.offHeap));
    }
    return sortStatisticDiffs(diffs);
  }

  /**
   * A new snapshot with the traces that pass `filters`, as Python's
   * `filter_traces`: kept when some inclusive filter matches (or there is
   * none) and every exclusive filter passes. No filters: a copy.
   */
  filterTraces(filters: Iterable<Filter>): Snapshot {
    if (filters === null || typeof filters !== 'object' || !(Symbol.iterator in filters)) {
      throw new TypeError('filterTraces expects a list of Filter');
    }
    const list = [...filters];
    for (const f of list) if (!(f instanceof Filter)) throw new TypeError('filterTraces expects a list of Filter');
    const kept = list.length === 0 ? this.traces : this.traces.filter((t) => passesFilters(t, list));
    return new Snapshot(kept, this.tracebackLimit, this.meta);
  }

  /**
   * Write the snapshot to `path` (gzip'd JSON, see docs/dump-format.md),
   * atomically.
   *
   * @throws Error `cannot dump snapshot to <path>: <reason>`
   */
  dump(path: string): void {
    writeSnapshotFile(path, this);
  }

  /**
   * Read a snapshot written by {@link Snapshot.dump}.
   *
   * @throws Error `cannot load snapshot from <path>: <reason>` for an
   *   unreadable file, a file that is not a dump, another format version, or
   *   malformed contents
   */
  static load(path: string): Snapshot {
    const parts = readSnapshotFile(path);
    return new Snapshot(parts.traces, parts.tracebackLimit, parts.meta);
  }
}

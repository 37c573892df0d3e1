/**
 * `Statistic` and `StatisticDiff`, with Python's text and sort orders, plus
 * the 95% intervals of sampling-mode estimates.
 *
 * @module
 */
import { formatCount, formatFixed, formatInt, formatSize } from './format-size.js';
import { checkAmount, checkEstimate, checkOffHeap, type TraceEstimate } from './trace.js';
import { Traceback } from './traceback.js';

/** Normal quantile for a two-sided 95% interval. */
const Z_95 = 1.96;

/**
 * A sampling estimate's 95% interval (value ± 1.96·sqrt(variance)) and the
 * numbers it was derived from.
 */
export interface StatisticEstimate {
  /** V8 samples behind the estimate. */
  readonly samples: number;
  /** Lower bound of the size interval, in bytes (never below 0). */
  readonly sizeLow: number;
  /** Upper bound of the size interval, in bytes. */
  readonly sizeHigh: number;
  /** Lower bound of the count interval (never below 0). */
  readonly countLow: number;
  /** Upper bound of the count interval. */
  readonly countHigh: number;
  /** Confidence level of the intervals. */
  readonly confidence: 0.95;
  /** Variance of the size estimate, in bytes². */
  readonly sizeVariance: number;
  /** Variance of the count estimate. */
  readonly countVariance: number;
}

/**
 * Estimate of a {@link StatisticDiff}: the interval of the new size/count
 * (as {@link StatisticEstimate}) plus intervals of the differences. A
 * difference's variance is the sum of both snapshots' variances
 * (conservative: the two estimates are treated as independent); its
 * interval is not clamped, a difference may be negative.
 */
export interface StatisticDiffEstimate extends StatisticEstimate {
  /** Samples behind the old snapshot's value. */
  readonly oldSamples: number;
  /** Lower bound of the size difference, in bytes. */
  readonly sizeDiffLow: number;
  /** Upper bound of the size difference, in bytes. */
  readonly sizeDiffHigh: number;
  /** Lower bound of the count difference. */
  readonly countDiffLow: number;
  /** Upper bound of the count difference. */
  readonly countDiffHigh: number;
  /** Variance of the size difference (sum of both sides). */
  readonly sizeDiffVariance: number;
  /** Variance of the count difference (sum of both sides). */
  readonly countDiffVariance: number;
}

/** Variances of both sides of a difference, input of {@link StatisticDiff}. */
export interface DiffEstimateInput extends TraceEstimate {
  /** Samples behind the old value. */
  oldSamples: number;
  /** Variance of the old size estimate. */
  oldSizeVariance: number;
  /** Variance of the old count estimate. */
  oldCountVariance: number;
}

function halfWidth(variance: number): number {
  return Z_95 * Math.sqrt(variance);
}

/**
 * The 95% intervals of a sampled size and count given their variances
 * (value ± 1.96·sqrt(variance), lower bounds clamped at 0). Use it to show a
 * single {@link Trace}'s precision; statistics compute it themselves.
 */
export function estimateInterval(size: number, count: number, e: Readonly<TraceEstimate>): StatisticEstimate {
  const s = halfWidth(e.sizeVariance);
  const c = halfWidth(e.countVariance);
  return Object.freeze({
    samples: e.samples,
    sizeLow: Math.max(0, size - s),
    sizeHigh: size + s,
    countLow: Math.max(0, count - c),
    countHigh: count + c,
    confidence: 0.95 as const,
    sizeVariance: e.sizeVariance,
    countVariance: e.countVariance,
  });
}

/** `±12%` of `value`, or an absolute `±3 KiB` when the value is 0. */
function relative(half: number, value: number): string {
  if (value <= 0) return `±${formatSize(half)}`;
  const pct = (half / value) * 100;
  return `±${formatFixed(pct, pct < 10 ? 1 : 0)}%`;
}


/**
 * Memory allocated at one key (file, line or traceback), as Python's
 * `tracemalloc.Statistic`. `String(stat)` is Python's text
 * (`app.ts:10: size=266 KiB, count=9743, average=28 B`); a statistic
 * holding off-heap bytes adds `, off-heap=125 MiB`, and sampling-mode
 * statistics append ` (estimate, ±8% at 95%, 37 samples)`.
 */
export class Statistic {
  /** The key: a one-frame traceback for 'filename'/'lineno', the whole one for 'traceback'. */
  readonly traceback: Traceback;
  /** Total bytes. */
  readonly size: number;
  /** Number of blocks (objects). */
  readonly count: number;
  /** 95% intervals of a sampling estimate; undefined when exact. */
  readonly estimate: StatisticEstimate | undefined;
  /** Bytes of `size` outside the V8 heap (ArrayBuffer backing stores); `size - offHeapSize` is on the heap. */
  readonly offHeapSize: number;

  /**
   * @param traceback - the statistic's key
   * @param size - total bytes
   * @param count - number of blocks
   * @param estimate - sampling variances (summed over the grouped traces)
   * @param offHeapSize - bytes of `size` outside the V8 heap (default 0)
   */
  constructor(traceback: Traceback, size: number, count: number, estimate?: TraceEstimate, offHeapSize = 0) {
    if (!(traceback instanceof Traceback)) throw new TypeError('Statistic traceback must be a Traceback');
    checkAmount(size, 'Statistic size');
    checkAmount(count, 'Statistic count');
    checkOffHeap(offHeapSize, size, 'Statistic');
    this.traceback = traceback;
    this.size = size;
    this.count = count;
    this.estimate = estimate === undefined ? undefined : estimateInterval(size, count, checkEstimate(estimate, 'Statistic'));
    this.offHeapSize = offHeapSize;
    Object.freeze(this);
  }

  /** True for sampling-mode estimates (then `estimate` is set). */
  get isEstimate(): boolean {
    return this.estimate !== undefined;
  }

  /** Python's text, plus the estimate's precision when sampled. */
  toString(): string {
    let text = `${this.traceback}: size=${formatSize(this.size, false)}, count=${formatInt(this.count)}`;
    if (this.count) text += `, average=${formatSize(this.size / this.count, false)}`;
    if (this.offHeapSize > 0) text += `, off-heap=${formatSize(this.offHeapSize, false)}`;
    const e = this.estimate;
    if (e) text += ` (estimate, ${relative(halfWidth(e.sizeVariance), this.size)} at 95%, ${formatCount(e.samples, 'sample')})`;
    return text;
  }
}

/**
 * Difference of one key between two snapshots, as Python's
 * `tracemalloc.StatisticDiff`: `app.ts:10: size=266 KiB (+266 KiB),
 * count=9743 (+9743), average=28 B`. A site freed since the old snapshot has
 * `size=0 B (-x), count=0 (-n)` and no average. Sampling-mode diffs append
 * ` (estimate, ±3 KiB at 95%, 37 samples now, 12 before)` where ± bounds the size
 * DIFFERENCE.
 */
export class StatisticDiff {
  /** The key. */
  readonly traceback: Traceback;
  /** Bytes in the new snapshot. */
  readonly size: number;
  /** New size minus old size. */
  readonly sizeDiff: number;
  /** Blocks in the new snapshot. */
  readonly count: number;
  /** New count minus old count. */
  readonly countDiff: number;
  /** 95% intervals of a sampling estimate; undefined when exact. */
  readonly estimate: StatisticDiffEstimate | undefined;
  /** Bytes of `size` outside the V8 heap (ArrayBuffer backing stores). */
  readonly offHeapSize: number;
  /** New minus old off-heap bytes (part of `sizeDiff`). */
  readonly offHeapSizeDiff: number;

  /**
   * @param traceback - the key
   * @param size - bytes in the new snapshot
   * @param sizeDiff - new minus old bytes
   * @param count - blocks in the new snapshot
   * @param countDiff - new minus old blocks
   * @param estimate - sampling variances of both sides
   * @param offHeapSize - bytes of `size` outside the V8 heap (default 0)
   * @param offHeapSizeDiff - new minus old off-heap bytes (default 0)
   */
  constructor(
    traceback: Traceback,
    size: number,
    sizeDiff: number,
    count: number,
    countDiff: number,
    estimate?: DiffEstimateInput,
    offHeapSize = 0,
    offHeapSizeDiff = 0,
  ) {
    if (!(traceback instanceof Traceback)) throw new TypeError('StatisticDiff traceback must be a Traceback');
    checkAmount(size, 'StatisticDiff size');
    checkAmount(count, 'StatisticDiff count');
    checkOffHeap(offHeapSize, size, 'StatisticDiff');
    for (const [name, value] of [['sizeDiff', sizeDiff], ['countDiff', countDiff], ['offHeapSizeDiff', offHeapSizeDiff]] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`StatisticDiff ${name} must be a finite number, not ${String(value)}`);
    }
    this.traceback = traceback;
    this.size = size;
    this.sizeDiff = sizeDiff;
    this.count = count;
    this.countDiff = countDiff;
    this.offHeapSize = offHeapSize;
    this.offHeapSizeDiff = offHeapSizeDiff;
    if (estimate === undefined) {
      this.estimate = undefined;
    } else {
      const now = checkEstimate(estimate, 'StatisticDiff');
      const old = checkEstimate(
        { samples: estimate.oldSamples, sizeVariance: estimate.oldSizeVariance, countVariance: estimate.oldCountVariance },
        'StatisticDiff old',
      );
      const sizeDiffVariance = now.sizeVariance + old.sizeVariance;
      const countDiffVariance = now.countVariance + old.countVariance;
      const s = halfWidth(sizeDiffVariance);
      const c = halfWidth(countDiffVariance);
      this.estimate = Object.freeze({
        ...estimateInterval(size, count, now),
        oldSamples: old.samples,
        sizeDiffLow: sizeDiff - s,
        sizeDiffHigh: sizeDiff + s,
        countDiffLow: countDiff - c,
        countDiffHigh: countDiff + c,
        sizeDiffVariance,
        countDiffVariance,
      });
    }
    Object.freeze(this);
  }

  /** True for sampling-mode estimates (then `estimate` is set). */
  get isEstimate(): boolean {
    return this.estimate !== undefined;
  }

  /** Python's text, plus the difference's precision when sampled. */
  toString(): string {
    let text =
      `${this.traceback}: size=${formatSize(this.size, false)} (${formatSize(this.sizeDiff, true)}), ` +
      `count=${formatInt(this.count)} (${formatInt(this.countDiff, true)})`;
    if (this.count) text += `, average=${formatSize(this.size / this.count, false)}`;
    if (this.offHeapSize > 0 || this.offHeapSizeDiff !== 0) {
      text += `, off-heap=${formatSize(this.offHeapSize, false)} (${formatSize(this.offHeapSizeDiff, true)})`;
    }
    const e = this.estimate;
    if (e) text += ` (estimate, ±${formatSize(halfWidth(e.sizeDiffVariance))} at 95%, ${formatCount(e.samples, 'sample')} now, ${formatInt(e.oldSamples)} before)`;
    return text;
  }
}

/** Sort statistics in place in Python's order: (size, count, traceback) descending. */
export function sortStatistics(statistics: Statistic[]): Statistic[] {
  return statistics.sort((a, b) => b.size - a.size || b.count - a.count || b.traceback.compare(a.traceback));
}

/**
 * Sort diffs in place in Python's order: (|sizeDiff|, size, |countDiff|,
 * count, traceback) descending.
 */
export function sortStatisticDiffs(diffs: StatisticDiff[]): StatisticDiff[] {
  return diffs.sort(
    (a, b) =>
      Math.abs(b.sizeDiff) - Math.abs(a.sizeDiff) ||
      b.size - a.size ||
      Math.abs(b.countDiff) - Math.abs(a.countDiff) ||
      b.count - a.count ||
      b.traceback.compare(a.traceback),
  );
}

/**
 * `Trace`: memory allocated at one traceback.
 *
 * @module
 */
import { formatSize } from './format-size.js';
import { Traceback } from './traceback.js';

/**
 * Sampling-mode uncertainty of a trace's size and count: the number of
 * samples behind them and the variances of the unbiased (Horvitz–Thompson)
 * estimators. Variances of independent traces add up.
 */
export interface TraceEstimate {
  /** V8 samples behind the estimate. */
  samples: number;
  /** Variance of the size estimate, in bytes². */
  sizeVariance: number;
  /** Variance of the count estimate. */
  countVariance: number;
}

/** Check a {@link TraceEstimate} and return a frozen copy. */
export function checkEstimate(estimate: TraceEstimate, what: string): Readonly<TraceEstimate> {
  if (typeof estimate !== 'object' || estimate === null) throw new TypeError(`${what} estimate must be an object`);
  const { samples, sizeVariance, countVariance } = estimate;
  for (const [name, value] of [['samples', samples], ['sizeVariance', sizeVariance], ['countVariance', countVariance]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`${what} estimate.${name} must be a finite number >= 0, not ${String(value)}`);
    }
  }
  return Object.freeze({ samples, sizeVariance, countVariance });
}

/** Throw unless `value` is a finite number >= 0. */
export function checkAmount(value: number, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${what} must be a finite number >= 0, not ${String(value)}`);
  }
}

/** Throw unless `offHeap` is an amount of bytes within `size`. */
export function checkOffHeap(offHeap: number, size: number, what: string): void {
  checkAmount(offHeap, `${what} offHeapSize`);
  if (offHeap > size) throw new RangeError(`${what} offHeapSize (${offHeap}) must not exceed size (${size})`);
}

/**
 * Memory allocated at one allocation site and traceback.
 *
 * Difference from Python: Python has one trace per memory block; V8 reports
 * aggregates, so one `Trace` stands for `count` blocks (objects) with the same
 * traceback, `size` bytes in total. Statistics add up `count`, not traces.
 *
 * In sampling mode `size` and `count` are estimates and `estimate` says how
 * precise they are; in exact mode `estimate` is undefined.
 */
export class Trace {
  /** Where the blocks were allocated. */
  readonly traceback: Traceback;
  /** Total bytes of the blocks. */
  readonly size: number;
  /** Number of blocks (objects) this trace stands for. */
  readonly count: number;
  /** Sampling uncertainty; undefined for exact traces. */
  readonly estimate: Readonly<TraceEstimate> | undefined;
  /**
   * Bytes of `size` outside the V8 heap: the backing stores of ArrayBuffers,
   * Buffers and typed arrays allocated here (0 when none). `size` includes them.
   */
  readonly offHeapSize: number;

  /**
   * @param traceback - allocation traceback
   * @param size - total bytes
   * @param count - number of blocks (default 1, one block as in Python)
   * @param estimate - sampling uncertainty, for sampling-mode traces
   * @param offHeapSize - bytes of `size` outside the V8 heap (default 0; at most `size`)
   */
  constructor(traceback: Traceback, size: number, count = 1, estimate?: TraceEstimate, offHeapSize = 0) {
    if (!(traceback instanceof Traceback)) throw new TypeError('Trace traceback must be a Traceback');
    checkAmount(size, 'Trace size');
    checkAmount(count, 'Trace count');
    checkOffHeap(offHeapSize, size, 'Trace');
    this.traceback = traceback;
    this.size = size;
    this.count = count;
    this.estimate = estimate === undefined ? undefined : checkEstimate(estimate, 'Trace');
    this.offHeapSize = offHeapSize;
    Object.freeze(this);
  }

  /** `app.ts:10: 28 B`, exactly as Python's `str(trace)`. */
  toString(): string {
    return `${this.traceback}: ${formatSize(this.size, false)}`;
  }
}

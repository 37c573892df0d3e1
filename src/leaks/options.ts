import type { TraceMode } from '../tracer/tracer.js';
import { MAX_TRACEBACK_FRAMES } from '../model/index.js';

/** Options of {@link findLeaks}. */
export interface FindLeaksOptions {
  /** Measured iterations after the warm-up, 4..10000. Default 8. */
  iterations?: number;
  /** Iterations run before the first snapshot, so caches that fill once are not reported. Default 3. */
  warmup?: number;
  /**
   * `'exact'` (default): V8's allocation tracker, exact counts and retainer
   * paths. `'sampling'`: the sampling heap profiler; cheaper, estimates only,
   * no retainer paths or constructor names.
   */
  mode?: TraceMode;
  /** Traceback limit, 1..128. Default 8. */
  frames?: number;
  /** Leaked objects per finding whose retainer paths are computed and clustered. Default 20. */
  sample?: number;
  /** A site must add at least this many objects per iteration (count rule). Default 1. */
  minObjectsPerIteration?: number;
  /** Or at least this many bytes per iteration (size rule). Default 64. */
  minBytesPerIteration?: number;
  /** Sampling mode only: mean bytes between samples. Default 1024. */
  samplingInterval?: number;
  /**
   * Called before each step of the search (`'warm-up'`, `'iteration'`, with
   * its number from 1 and the number of such steps, then `'explain'` while
   * the findings' heap snapshot is read), e.g. to draw a progress line.
   */
  onProgress?: (stage: 'warm-up' | 'iteration' | 'explain', step: number, of: number) => void;
}

/** {@link FindLeaksOptions} with every default applied and checked. */
export type ResolvedLeakOptions = Required<Omit<FindLeaksOptions, 'onProgress'>> & { onProgress: NonNullable<FindLeaksOptions['onProgress']> };

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`tracemalloc: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`tracemalloc: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

function progressCallback(value: unknown): ResolvedLeakOptions['onProgress'] {
  if (value === undefined) return () => {};
  if (typeof value !== 'function') throw new TypeError(`tracemalloc: onProgress must be a function, got ${typeof value}`);
  return value as ResolvedLeakOptions['onProgress'];
}

/** Applies defaults and rejects bad values with one-line errors. */
export function resolveLeakOptions(options: FindLeaksOptions = {}): ResolvedLeakOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`tracemalloc: leak options must be an object, got ${String(options)}`);
  }
  const mode = options.mode ?? 'exact';
  if (mode !== 'exact' && mode !== 'sampling') {
    throw new TypeError(`tracemalloc: mode must be 'exact' or 'sampling', got ${String(mode)}`);
  }
  return {
    iterations: integer('iterations', options.iterations ?? 8, 4, 10_000),
    warmup: integer('warmup', options.warmup ?? 3, 0, 10_000),
    mode,
    frames: integer('frames', options.frames ?? 8, 1, MAX_TRACEBACK_FRAMES),
    sample: integer('sample', options.sample ?? 20, 1, 10_000),
    minObjectsPerIteration: positive('minObjectsPerIteration', options.minObjectsPerIteration ?? 1),
    minBytesPerIteration: positive('minBytesPerIteration', options.minBytesPerIteration ?? 64),
    samplingInterval: integer('samplingInterval', options.samplingInterval ?? 1024, 1, 2 ** 30),
    onProgress: progressCallback(options.onProgress),
  };
}

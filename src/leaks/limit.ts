import { AssertionError } from 'node:assert';
import { formatSize, type Snapshot } from '../model/index.js';
import { getTracedMemory, isTracing, start, stop, takeSnapshot, type TraceMode } from '../tracer/tracer.js';

/** Options of {@link limitMemory}. */
export interface LimitMemoryOptions {
  /** `'exact'` (default) or `'sampling'`. */
  mode?: TraceMode;
  /** Traceback limit of the sites printed on failure. Default 8. */
  frames?: number;
  /** Allocation sites printed on failure. Default 5. */
  top?: number;
}

/** What the block used. */
export interface MemoryUsage<T> {
  /** What `fn` returned (awaited). */
  result: T;
  /** Peak traced bytes while the block ran. */
  peak: number;
  /** Traced bytes still alive when it ended. */
  current: number;
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Bytes from a number or a string such as `'24 MB'` or `'1.5 MiB'`. */
export function parseByteLimit(limit: unknown): number {
  if (typeof limit === 'number' && Number.isFinite(limit) && limit > 0) return limit;
  const m = typeof limit === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(limit) : null;
  if (!m) throw new RangeError(`tracemalloc: the memory limit must be a positive number of bytes or a size like '24 MB', got ${String(limit)}`);
  return Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()];
}

// Exact mode refreshes traced memory every 50 ms while the event loop turns; polling keeps the peak for async blocks.
const POLL_MS = 25;

/**
 * Runs `fn` with tracing on and fails, like pytest-memray's `limit_memory`,
 * when the peak traced memory of the block passes `limit` (bytes, or a size
 * such as `'24 MB'`). The error lists the largest allocation sites still
 * alive at the end of the block. The peak is V8's figure, refreshed every
 * 50 ms while the event loop turns, and the exact live total at the end: a
 * spike inside synchronous code that is freed before it returns is missed.
 */
export async function limitMemory<T>(limit: number | string, fn: () => T | Promise<T>, options: LimitMemoryOptions = {}): Promise<MemoryUsage<Awaited<T>>> {
  const bytes = parseByteLimit(limit);
  if (typeof fn !== 'function') throw new TypeError(`tracemalloc: limitMemory() needs a function to run, got ${typeof fn}`);
  if (isTracing()) throw new Error('tracemalloc: limitMemory() traces on its own; call stop() before it');
  start({ mode: options.mode ?? 'exact', frames: options.frames ?? 8 });
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, getTracedMemory().peak)), POLL_MS);
  poll.unref();
  let snapshot: Snapshot;
  let result: Awaited<T>;
  try {
    result = await fn();
    snapshot = takeSnapshot();
    peak = Math.max(peak, getTracedMemory().peak);
  } finally {
    clearInterval(poll);
    stop();
  }
  const current = snapshot.statistics('filename').reduce((sum, s) => sum + s.size, 0);
  peak = Math.max(peak, current);
  if (peak > bytes) {
    const top = snapshot.statistics('traceback').slice(0, options.top ?? 5);
    const lines = [`the block's peak traced memory was ${formatSize(peak)}, over the limit of ${formatSize(bytes)}; largest sites still alive at its end:`];
    for (const stat of top) lines.push(`${formatSize(stat.size)} in ${stat.count} objects:`, ...stat.traceback.format({ mostRecentFirst: true, limit: 4 }));
    if (top.length === 0) lines.push('  (none: the memory was freed before the block returned)');
    throw new AssertionError({ message: lines.join('\n') });
  }
  return { result, peak, current };
}

/**
 * Capture before the kill: one sites snapshot, written when the V8 heap
 * nears its limit or RSS nears the container's memory limit, so that the
 * cause of an out-of-memory death is on disk. It reads V8's sampling
 * profile (a GC and a few kilobytes), never a heap snapshot, which would
 * need about three times the heap the process is running out of.
 *
 * The default threshold is 75% of the old generation's limit: V8 does not
 * wait for 100%. It ends the process ("Ineffective mark-compacts near heap
 * limit") after four full GCs in a row that leave the old generation above
 * 80% of its limit while the program gets under 40% of the time (a leak
 * into a 64 MiB heap died at 79% to 94% of it here).
 *
 * It looks after each full GC and on a timer, both between turns of the
 * event loop, so it sees a program whose loop turns (a server); a
 * synchronous loop that allocates until the process dies gives it no turn.
 */
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { isTracing, takeSnapshot, takesHeapSnapshot } from '../tracer/tracer.js';
import { formatSize } from '../model/index.js';
import { expandDumpPath } from './threads.js';
import { containerLimit, oldGenerationLimit, oldGenerationUsed } from '../capture/memory-guard.js';

/** When and where {@link snapshotBeforeOom} writes. */
export interface BeforeOomOptions {
  /** File to write (`Snapshot.load` reads it). `%p` becomes the pid, as in `NODE_TRACEMALLOC_DUMP`. */
  path: string;
  /** Write once the old generation uses this share of its limit; default 0.75 (V8 gives up from 80% on, see above). */
  heapFraction?: number;
  /** Write once RSS reaches this share of the container's memory limit (cgroup), if it has one; default 0.75. */
  rssFraction?: number;
  /** How often to look besides after each full GC, in milliseconds; default 100. */
  intervalMs?: number;
}

/** A running watch of {@link snapshotBeforeOom}. */
export interface BeforeOomWatch {
  /** The file it writes (with `%p` expanded). */
  readonly path: string;
  /** Whether the snapshot was written. */
  readonly written: boolean;
  /** Stop watching; nothing is written after. */
  cancel(): void;
}

function fraction(value: number | undefined, name: string): number {
  const f = value ?? 0.75;
  if (!(f > 0 && f <= 1)) throw new RangeError(`tracemalloc: ${name} must be above 0 and at most 1, got ${String(value)}`);
  return f;
}

/**
 * Watch memory and write one sites snapshot to `options.path` when the
 * heap or RSS nears its limit, with one line on stderr naming the file and
 * its top site. Needs tracing in sampling mode (without line mode): the
 * other modes read a heap snapshot. The timer never keeps the program alive.
 */
export function snapshotBeforeOom(options: BeforeOomOptions): BeforeOomWatch {
  if (!isTracing()) throw new Error('tracemalloc: snapshotBeforeOom() needs tracing; call start() first');
  if (takesHeapSnapshot()) {
    throw new Error('tracemalloc: a snapshot before an out-of-memory death needs sampling mode without line mode: the other modes read a heap snapshot, about three times the heap');
  }
  const path = expandDumpPath(options.path);
  const heapFraction = fraction(options.heapFraction, 'heapFraction');
  const rssFraction = fraction(options.rssFraction, 'rssFraction');
  const oldLimit = oldGenerationLimit();
  const heapAt = heapFraction * oldLimit;
  const limit = containerLimit();
  const rssAt = limit === null ? Infinity : rssFraction * limit;
  const intervalMs = options.intervalMs ?? 100;
  if (!(intervalMs >= 1)) throw new RangeError(`tracemalloc: intervalMs must be at least 1, got ${String(options.intervalMs)}`);
  let written = false;
  const cancel = (): void => {
    clearInterval(timer);
    gcs.disconnect();
  };
  const write = (reason: string): void => {
    cancel();
    if (!isTracing() || written) return;
    try {
      const snapshot = takeSnapshot();
      snapshot.dump(path);
      written = true;
      const top = snapshot.statistics('traceback')[0];
      const frame = top?.traceback.at(-1);
      const where = frame ? `; top site ${frame.filename}:${frame.lineno}${frame.functionName ? ` (in ${frame.functionName})` : ''}, ${formatSize(top.size)}` : '';
      process.stderr.write(`tracemalloc: ${reason}: wrote ${path}${where}\n`);
    } catch (err) {
      process.stderr.write(`tracemalloc: ${reason}; no snapshot: ${String((err as Error)?.message ?? err).replace(/^tracemalloc: /, '')}\n`);
    }
  };
  const look = (): void => {
    const heap = oldGenerationUsed();
    if (heap >= heapAt) return write(`heap at ${formatSize(heap)} of its ${formatSize(oldLimit)} limit`);
    if (rssAt !== Infinity) {
      const rss = process.memoryUsage.rss();
      if (rss >= rssAt) write(`RSS at ${formatSize(rss)} of the container's ${formatSize(limit!)}`);
    }
  };
  const timer = setInterval(look, intervalMs);
  timer.unref();
  // Near the limit V8 runs full GCs back to back; right after one, the old generation holds live data only.
  const gcs = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR)) look();
  });
  gcs.observe({ entryTypes: ['gc'] });
  return {
    path,
    get written() {
      return written;
    },
    cancel,
  };
}

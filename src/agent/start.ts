/**
 * Trace from the first line without code changes, the counterpart of
 * Python's `PYTHONTRACEMALLOC` / `-X tracemalloc`:
 *
 *   NODE_TRACEMALLOC=25 node --import tracemalloc/start app.js
 *
 * - `NODE_TRACEMALLOC`: traceback limit (1..128; default 1).
 * - `NODE_TRACEMALLOC_MODE`: `sampling` (default) or `exact`.
 * - `NODE_TRACEMALLOC_INTERVAL`: sampling interval in bytes.
 * - `NODE_TRACEMALLOC_LINES=1`: line mode. `NODE_TRACEMALLOC_LINES_EVERY`:
 *   mean allocations between samples. Files to instrument:
 *   `NODE_TRACEMALLOC_LINES_INCLUDE` / `_EXCLUDE`, comma-separated globs.
 * - `NODE_TRACEMALLOC_KEEP_INLINING=1`: leave V8's inlining on (see `keepInlining`).
 * - `NODE_TRACEMALLOC_OFF_HEAP=0`: do not trace Buffer and ArrayBuffer bytes (see `offHeap`).
 * - `NODE_TRACEMALLOC_DUMP`: file to dump a snapshot to when the program
 *   ends (`%p` becomes the pid; in a worker thread, which traces itself
 *   too, `<pid>-t<threadId>-<script>`, see `./threads.ts`); load it with
 *   `Snapshot.load`. A worker writes it when it ends by itself (its
 *   signals are the process's, owned by the main thread). Ended by
 *   SIGINT, SIGTERM or SIGHUP that it does not handle, the program still
 *   dies of the signal, after the dump when that takes under about a second,
 *   otherwise one line on stderr says it was skipped (see `./signals.ts`).
 *
 * - `NODE_TRACEMALLOC_BEFORE_OOM`: file to write one snapshot to when the
 *   heap or RSS nears its limit (`%p` as above; sampling mode; see
 *   `snapshotBeforeOom`), at `NODE_TRACEMALLOC_BEFORE_OOM_AT` of it (0.75).
 *
 * - `NODE_TRACEMALLOC_PPROF`: `[HOST:]PORT` to serve live memory by site as
 *   pprof on `http://HOST:PORT/debug/pprof/heap` (HOST defaults to
 *   127.0.0.1; see `servePprof`).
 *
 * A bad setting prints one line on stderr and leaves the program untraced:
 * the profiler never stops the program it measures.
 */
import { startAtLaunch, snapshotCostMs, takeSnapshot, onTracingExit, type LineOptions, type TraceMode } from '../tracer/tracer.js';
import { isMainThread } from 'node:worker_threads';
import { ownEndingSignals } from './signals.js';
import { expandDumpPath } from './threads.js';
import { servePprof } from './pprof-server.js';
import { snapshotBeforeOom } from './before-oom.js';

function globs(value: string | undefined): string[] | undefined {
  return value ? value.split(',').filter((g) => g !== '') : undefined;
}

function linesFromEnv(env: NodeJS.ProcessEnv): LineOptions | undefined {
  const value = env.NODE_TRACEMALLOC_LINES;
  if (!value || value === '0') return undefined;
  if (value !== '1') throw new Error(`NODE_TRACEMALLOC_LINES must be 0 or 1, got ${JSON.stringify(value)}`);
  const every = env.NODE_TRACEMALLOC_LINES_EVERY ? Number(env.NODE_TRACEMALLOC_LINES_EVERY) : undefined;
  return {
    sampleEvery: every,
    include: globs(env.NODE_TRACEMALLOC_LINES_INCLUDE),
    exclude: globs(env.NODE_TRACEMALLOC_LINES_EXCLUDE),
  };
}

/** `[HOST:]PORT` of NODE_TRACEMALLOC_PPROF; an IPv6 host is written in brackets. */
function pprofAddress(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\[\]]+):)?(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`NODE_TRACEMALLOC_PPROF must be PORT or HOST:PORT, such as 127.0.0.1:6060, got ${JSON.stringify(value)}`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

function fromEnv(): void {
  const env = process.env;
  const frames = env.NODE_TRACEMALLOC ? Number(env.NODE_TRACEMALLOC) : 1;
  const interval = env.NODE_TRACEMALLOC_INTERVAL ? Number(env.NODE_TRACEMALLOC_INTERVAL) : undefined;
  const keepInlining = env.NODE_TRACEMALLOC_KEEP_INLINING;
  if (keepInlining && keepInlining !== '0' && keepInlining !== '1') throw new Error(`NODE_TRACEMALLOC_KEEP_INLINING must be 0 or 1, got ${JSON.stringify(keepInlining)}`);
  const offHeap = env.NODE_TRACEMALLOC_OFF_HEAP;
  if (offHeap && offHeap !== '0' && offHeap !== '1') throw new Error(`NODE_TRACEMALLOC_OFF_HEAP must be 0 or 1, got ${JSON.stringify(offHeap)}`);
  const pprof = env.NODE_TRACEMALLOC_PPROF ? pprofAddress(env.NODE_TRACEMALLOC_PPROF) : null;
  const beforeOom = env.NODE_TRACEMALLOC_BEFORE_OOM;
  const beforeOomAt = env.NODE_TRACEMALLOC_BEFORE_OOM_AT ? Number(env.NODE_TRACEMALLOC_BEFORE_OOM_AT) : undefined;
  if (beforeOomAt !== undefined && !(beforeOomAt > 0 && beforeOomAt <= 1)) {
    throw new Error(`NODE_TRACEMALLOC_BEFORE_OOM_AT must be above 0 and at most 1, got ${JSON.stringify(env.NODE_TRACEMALLOC_BEFORE_OOM_AT)}`);
  }
  if (beforeOom && ((env.NODE_TRACEMALLOC_MODE || 'sampling') !== 'sampling' || linesFromEnv(env))) {
    throw new Error('NODE_TRACEMALLOC_BEFORE_OOM needs sampling mode without line mode: the other modes read a heap snapshot, about three times the heap');
  }
  startAtLaunch({
    frames,
    mode: (env.NODE_TRACEMALLOC_MODE || 'sampling') as TraceMode,
    samplingInterval: interval,
    lines: linesFromEnv(env),
    keepInlining: keepInlining === '1',
    offHeap: offHeap !== '0',
  });
  if (beforeOom) snapshotBeforeOom({ path: beforeOom, heapFraction: beforeOomAt, rssFraction: beforeOomAt });
  if (pprof) {
    servePprof(pprof).catch((err: Error) => {
      process.stderr.write(`tracemalloc: no pprof endpoint: cannot listen on ${pprof.host}:${pprof.port}: ${err.message}\n`);
    });
  }
  const dump = env.NODE_TRACEMALLOC_DUMP;
  if (dump) {
    const path = expandDumpPath(dump);
    const write = (): void => {
      // A heap snapshot of a big heap takes seconds: say so rather than look hung.
      const ms = snapshotCostMs();
      if (ms >= 3000) process.stderr.write(`tracemalloc: writing the exit snapshot to ${path} (about ${Math.round(ms / 1000)} s)…\n`);
      takeSnapshot().dump(path);
    };
    onTracingExit(write);
    // Under `tracemalloc run`, its snapshot signal writes a numbered snapshot instead (run-hooks.ts).
    // Signals reach the main thread only; it asks the workers for theirs (run-workers.ts).
    if (isMainThread) ownEndingSignals({ writeExitSnapshot: write, exitSnapshotPath: path, snapshotSignal: env.TRACEMALLOC_RUN_SIGNAL ?? '' });
  }
}

try {
  fromEnv();
} catch (err) {
  process.stderr.write(`tracemalloc: not tracing: ${(err as Error).message.replace(/^tracemalloc: /, '')}\n`);
}

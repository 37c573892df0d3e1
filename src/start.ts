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
 * - `NODE_TRACEMALLOC_DUMP`: file to dump a snapshot to when the program
 *   ends (`%p` becomes the pid); load it with `Snapshot.load`. Killed by
 *   SIGINT or SIGTERM, it writes one line on stderr instead.
 *
 * A bad setting prints one line on stderr and leaves the program untraced:
 * the profiler never stops the program it measures.
 */
import { start, takeSnapshot, onTracingExit, type LineOptions, type TraceMode } from './tracer/tracer.js';

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

function fromEnv(): void {
  const env = process.env;
  const frames = env.NODE_TRACEMALLOC ? Number(env.NODE_TRACEMALLOC) : 1;
  const interval = env.NODE_TRACEMALLOC_INTERVAL ? Number(env.NODE_TRACEMALLOC_INTERVAL) : undefined;
  start({ frames, mode: (env.NODE_TRACEMALLOC_MODE || 'sampling') as TraceMode, samplingInterval: interval, lines: linesFromEnv(env) });
  const dump = env.NODE_TRACEMALLOC_DUMP;
  if (dump) {
    const path = dump.replaceAll('%p', String(process.pid));
    onTracingExit(() => takeSnapshot().dump(path));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) sayWhyNotOn(signal, path);
  }
}

/**
 * A fatal signal skips exit hooks, so no dump is written; say so in one
 * line, then die of the same signal as the untraced program would. When the
 * program handles the signal itself, its exit writes the dump as usual.
 */
function sayWhyNotOn(signal: NodeJS.Signals, path: string): void {
  const onSignal = (): void => {
    if (process.listenerCount(signal) > 1) return;
    process.off(signal, onSignal); // the last listener gone, the default action is back
    process.stderr.write(`tracemalloc: no snapshot dumped to ${path}: the process was killed by ${signal}\n`);
    process.kill(process.pid, signal);
  };
  process.on(signal, onSignal);
}

try {
  fromEnv();
} catch (err) {
  process.stderr.write(`tracemalloc: not tracing: ${(err as Error).message.replace(/^tracemalloc: /, '')}\n`);
}

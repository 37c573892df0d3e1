/**
 * The traced program's side of `tracemalloc run`: numbered snapshots on a
 * signal or a timer, written next to the exit snapshot, and the memory
 * timeline, in every thread that traces (worker threads name theirs with
 * `-t<threadId>-<script>`).
 */
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { DEFAULT_SAMPLING_INTERVAL, isTracing, snapshotCostMs, takeSnapshot } from '../tracer/tracer.js';
import { startTimeline } from './timeline.js';
import { onEnding } from './signals.js';
import { expandDumpPath, threadTag } from './threads.js';
import { askWorkersForSnapshots, askWorkersToExit, followWorkers } from './run-workers.js';

let sequence = 0;

/** The path of the next numbered snapshot of this thread. */
function nextPath(dir: string, reason: string): string {
  sequence++;
  return join(dir, `tracemalloc-${process.pid}${threadTag()}-${String(sequence).padStart(3, '0')}-${reason}.snap`);
}

/**
 * Write a snapshot now into the `tracemalloc run` output folder (or `dir`).
 * Returns its path, or null when not tracing. Never throws: the profiler
 * must not break the program it measures.
 */
export function writeRunSnapshot(reason = 'api', dir = process.env.TRACEMALLOC_RUN_DIR ?? '.'): string | null {
  if (!isTracing()) return null;
  const path = nextPath(dir, reason.replace(/[^\w.-]+/g, '_') || 'api');
  try {
    takeSnapshot().dump(path);
    return path;
  } catch (err) {
    process.stderr.write(`tracemalloc: could not write ${path}: ${(err as Error).message}\n`);
    return null;
  }
}

/** A worker's exit snapshot when the main thread asks (the process ends, or terminate()). */
function writeWorkerExit(env: NodeJS.ProcessEnv, budgetMs: number): void {
  const template = env.NODE_TRACEMALLOC_DUMP;
  if (!template || !isTracing()) return;
  const path = expandDumpPath(template);
  const cost = snapshotCostMs();
  if (cost > budgetMs) {
    process.stderr.write(`tracemalloc: no snapshot dumped to ${path}: the worker ends and writing it would take about ${(cost / 1000).toFixed(1)} s\n`);
    return;
  }
  try {
    takeSnapshot().dump(path);
  } catch (err) {
    process.stderr.write(`tracemalloc: no snapshot dumped to ${path}: ${(err as Error).message}\n`);
  }
}

/** Install the snapshot signal and timer from the parent's settings, and follow worker threads unless told not to. */
export function setupRunHooks(env: NodeJS.ProcessEnv): void {
  const dir = env.TRACEMALLOC_RUN_DIR ?? '.';
  const follow = env.TRACEMALLOC_RUN_FOLLOW !== '0';
  if (follow) {
    followWorkers({ snapshot: (reason) => writeRunSnapshot(reason, dir), exit: (budgetMs) => writeWorkerExit(env, budgetMs) });
  }
  const signal = env.TRACEMALLOC_RUN_SIGNAL;
  // Signals reach the main thread only; it passes the request on.
  if (signal && isMainThread) {
    process.on(signal as NodeJS.Signals, () => {
      if (follow) askWorkersForSnapshots('signal');
      writeRunSnapshot('signal', dir);
    });
  }
  const timelineMs = Number(env.TRACEMALLOC_RUN_TIMELINE);
  if (timelineMs > 0 && isTracing()) {
    const mode = env.NODE_TRACEMALLOC_MODE === 'exact' ? 'exact' : 'sampling';
    const budget = env.TRACEMALLOC_RUN_TIMELINE_BUDGET ? Number(env.TRACEMALLOC_RUN_TIMELINE_BUDGET) : null;
    startTimeline(dir, timelineMs, budget, mode, mode === 'sampling' ? Number(env.NODE_TRACEMALLOC_INTERVAL) || DEFAULT_SAMPLING_INTERVAL : undefined);
  }
  const every = Number(env.TRACEMALLOC_RUN_EVERY);
  if (every > 0) {
    // Each thread its own timer. unref: the timer must not keep a finished program alive.
    setInterval(() => writeRunSnapshot('timer', dir), every * 1000).unref();
  }
  if (follow && isMainThread) {
    // The workers write while the main thread writes its own; then it waits for them, a bounded time.
    let wait: (() => void) | null = null;
    process.prependListener('exit', () => {
      wait = askWorkersToExit();
    });
    process.on('exit', () => wait?.());
    onEnding((budgetMs) => askWorkersToExit(budgetMs));
  }
}

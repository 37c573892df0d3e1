/**
 * The traced program's side of `tracemalloc run`: numbered snapshots on a
 * signal or a timer, written next to the exit snapshot.
 */
import { join } from 'node:path';
import { isTracing, takeSnapshot } from '../tracer/tracer.js';

let sequence = 0;

/** The path of the next numbered snapshot of this process. */
function nextPath(dir: string, reason: string): string {
  sequence++;
  return join(dir, `tracemalloc-${process.pid}-${String(sequence).padStart(3, '0')}-${reason}.snap`);
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

// Exit codes a shell reports for these signals: the program looks as if the signal ended it.
const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Install the signal, timer and termination hooks from the parent's settings. */
export function setupRunHooks(env: NodeJS.ProcessEnv): void {
  const dir = env.TRACEMALLOC_RUN_DIR ?? '.';
  const signal = env.TRACEMALLOC_RUN_SIGNAL;
  if (signal) {
    process.on(signal as NodeJS.Signals, () => {
      writeRunSnapshot('signal', dir);
    });
  }
  const every = Number(env.TRACEMALLOC_RUN_EVERY);
  if (every > 0) {
    // unref: the timer must not keep a finished program alive.
    setInterval(() => writeRunSnapshot('timer', dir), every * 1000).unref();
  }
  // A program stopped by Ctrl-C or SIGTERM would otherwise die without its exit
  // snapshot. Only when nothing else handles the signal: the program's own
  // handlers keep their meaning.
  for (const name of Object.keys(EXIT_CODES) as NodeJS.Signals[]) {
    if (name === signal) continue;
    const onSignal = (): void => {
      if (process.listenerCount(name) > 1) return;
      process.exit(EXIT_CODES[name]);
    };
    process.on(name, onSignal);
  }
}

/**
 * Preloaded by `tracemalloc run` into the traced program (`--import`).
 * Starts tracing through `tracemalloc/start` (its NODE_TRACEMALLOC* settings
 * come from the parent), then adds what `run` promises on top: snapshots on
 * a signal and every N seconds, and an exit snapshot on Ctrl-C / SIGTERM.
 *
 * Settings (set by the parent, documented in docs/cli.md):
 * - TRACEMALLOC_RUN_DIR: folder for snapshots.
 * - TRACEMALLOC_RUN_SIGNAL: signal that writes a snapshot (none if empty).
 * - TRACEMALLOC_RUN_EVERY: seconds between periodic snapshots (none if empty).
 */
import { isMainThread } from 'node:worker_threads';

// Worker threads inherit the preload; tracing them would overwrite the main
// thread's pid-named snapshots, so only the main thread traces (see docs).
if (isMainThread) {
  await import('../start.js');
  const { setupRunHooks } = await import('./run-hooks.js');
  setupRunHooks(process.env);
}

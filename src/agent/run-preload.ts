/**
 * Preloaded by `tracemalloc run` into the traced program (`--import`).
 * Starts tracing through `tracemalloc/start` (its NODE_TRACEMALLOC* settings
 * come from the parent), then adds what `run` promises on top: snapshots on
 * a signal and every N seconds, an exit snapshot on Ctrl-C / SIGTERM /
 * SIGHUP, and the end of the program when `run` itself dies.
 * On Nodes that strip types it also resolves `.js` imports of `.ts` files.
 *
 * Settings (set by the parent, documented in docs/cli.md):
 * - TRACEMALLOC_RUN_DIR: folder for snapshots.
 * - TRACEMALLOC_RUN_SIGNAL: signal that writes a snapshot (none if empty).
 * - TRACEMALLOC_RUN_EVERY: seconds between periodic snapshots (none if empty).
 * - TRACEMALLOC_RUN_TIMELINE: milliseconds between timeline reads (no timeline if empty or 0).
 * - TRACEMALLOC_RUN_TIMELINE_BUDGET: the share of time those reads may take (they space out beyond it); empty: no limit.
 * - TRACEMALLOC_RUN_STATUS_FD: descriptor of the channel to `run` (signals.ts).
 * - TRACEMALLOC_RUN_FOLLOW: '0' leaves worker threads and child processes untraced.
 */
import { isMainThread } from 'node:worker_threads';
import { nodeStripsTypes, resolveTsImports } from './ts-imports.js';
import { connectToRun, STATUS_FD_ENV } from './signals.js';
import { registerDescendant } from './descendants.js';

// Every thread: without it a TypeScript program's `.js` imports do not load.
if (nodeStripsTypes()) resolveTsImports();

// Worker threads inherit the preload (or get it from run-workers.ts's
// wrapper) and trace themselves into their own files, unless run says not to.
const follow = process.env.TRACEMALLOC_RUN_FOLLOW !== '0' && process.env.TRACEMALLOC_RUN_DIR !== undefined;
if (isMainThread || follow) {
  // The channel to `run` is the main thread's, in the program run started; its child processes have none.
  const program = process.env[STATUS_FD_ENV] !== undefined;
  if (isMainThread) connectToRun(process.env);
  if (isMainThread && follow) followChildProcesses(process.env);
  // A followed child process: run passes its snapshot signal on.
  if (isMainThread && follow && !program) registerDescendant(process.env.TRACEMALLOC_RUN_DIR!);
  await import('./start.js');
  const { setupRunHooks } = await import('./run-hooks.js');
  setupRunHooks(process.env);
}

/**
 * Node programs that this one starts (`spawn`, `exec`, `execFile`, `fork`,
 * and the tools built on them) inherit NODE_OPTIONS, so they load this
 * preload too and trace themselves into the same folder, each under its own
 * pid. A child given an environment without NODE_OPTIONS is not traced.
 * Exact mode passes V8's tracker from launch on, as `run` does.
 */
function followChildProcesses(env: NodeJS.ProcessEnv): void {
  const own = [`--import=${import.meta.url}`];
  if (env.NODE_TRACEMALLOC_MODE === 'exact') own.push('--track-heap-objects');
  const options = env.NODE_OPTIONS ?? '';
  const added = own.filter((option) => !options.split(/\s+/).includes(option));
  if (added.length > 0) env.NODE_OPTIONS = [options, ...added].filter(Boolean).join(' ');
}

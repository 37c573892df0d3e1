import { setFlagsFromString } from 'node:v8';
import { InspectorSession } from './session.js';

// V8's sampling profiler and allocation tracker walk physical stack frames:
// once TurboFan or Maglev inline `makeRecord()` into `handle()`, every object
// it allocates is reported at `handle()` (measured: 89% of a hot site's bytes
// at the caller, on Node 20 to 26). Turning these two off while tracing keeps
// one frame per JavaScript function, so allocations stay at the function
// that made them. Both flags are read when a function is optimised.
const INLINING_FLAGS = ['turbo-inlining', 'maglev-inlining'] as const;

let holders = 0;
let pendingDeopt: NodeJS.Timeout | null = null;

/**
 * Take a hold on "no inlining": the first hold turns V8's inlining off and
 * discards all optimised code, which re-optimises, without inlining, as it
 * runs hot again. `atLaunch` says no code of the program has run yet, so
 * there is nothing to discard: discarding costs a re-warm-up (Node 26's
 * HTTP benchmark: 1.13× CPU three runs later, 1.03× ten runs later) that
 * tracing from launch need not pay. Returns the function that releases
 * the hold; the last release puts the user's flags back and, a tick later
 * unless tracing starts again meanwhile, discards the code optimised
 * without inlining so that the program gets its full speed back.
 */
export function holdNoInlining(atLaunch = false): () => void {
  if (holders++ === 0) {
    // Released in this same tick (stop() then start(), clearTraces()).
    const stillWithout = pendingDeopt !== null;
    if (pendingDeopt) {
      clearTimeout(pendingDeopt);
      pendingDeopt = null;
    }
    for (const flag of INLINING_FLAGS) if (userFlag(flag) !== false) setFlagsFromString(`--no-${flag}`);
    // At launch, or released in this same tick, nothing is optimised with inlining.
    if (!atLaunch && !stillWithout) {
      const blocker = deoptimizeBlocker();
      if (blocker === null) deoptimizeAll();
      else {
        process.emitWarning(
          `tracemalloc: code optimised before tracing keeps V8's inlining (${blocker}), so some of its allocations show at callers; start tracing from the first line to avoid it`,
          'TracemallocWarning',
        );
      }
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders > 0) return;
    for (const flag of INLINING_FLAGS) if (userFlag(flag) !== false) setFlagsFromString(`--${flag}`);
    // Deferred, so that stop() then start() (clearTraces) discards nothing.
    pendingDeopt = setTimeout(() => {
      pendingDeopt = null;
      if (holders === 0 && deoptimizeBlocker() === null) deoptimizeAll();
    }, 0);
    pendingDeopt.unref();
  };
}

/**
 * Why optimised code cannot be discarded here, or null when it can.
 * The only way V8 offers from JavaScript is switching its coverage mode,
 * which would end coverage that the process records: Node's own
 * (`NODE_V8_COVERAGE`, set by c8 and by `node --test --experimental-test-coverage`).
 */
function deoptimizeBlocker(): string | null {
  if (process.env.NODE_V8_COVERAGE) return 'NODE_V8_COVERAGE is set, and discarding optimised code would reset its coverage';
  if (process.execArgv.some((a) => a.startsWith('--experimental-test-coverage'))) return 'test coverage is on';
  return null;
}

/**
 * Discard every function's optimised code. Entering a precise coverage mode
 * makes V8 deoptimise all code (coverage counts calls, which inlined code
 * would skip); leaving it at once returns to the default best-effort mode.
 * Costs tens of milliseconds on a small heap, more on a large one.
 */
function deoptimizeAll(): void {
  let session: InspectorSession | null = null;
  try {
    session = new InspectorSession();
    session.post('Profiler.enable');
    session.post('Profiler.startPreciseCoverage', { callCount: false, detailed: false });
    session.post('Profiler.stopPreciseCoverage');
  } catch {
    // A worker thread or a closed inspector: attribution stays as V8 gives it.
  } finally {
    session?.disconnect();
  }
}

/**
 * The user's own setting of a V8 boolean flag on the command line or in
 * NODE_OPTIONS (the last one wins, as in V8), or null when not given.
 */
export function userFlag(flag: string): boolean | null {
  let value: boolean | null = null;
  for (const arg of [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]) {
    // V8 reads `_` as `-`, and `--nofoo` as `--no-foo`.
    const name = arg.replaceAll('_', '-');
    if (name === `--${flag}`) value = true;
    else if (name === `--no-${flag}` || name === `--no${flag}`) value = false;
  }
  return value;
}

import { performance } from 'node:perf_hooks';

// Share of the last interval the loop may have spent running tasks and still count as idle.
const MOSTLY_IDLE = 0.5;
// Checks in a row with nothing alive after which a busy loop is the tracker's own walk.
const ONLY_THE_TRACKER = 3;

/**
 * Call `onIdle` once the program has nothing left that would keep it alive.
 *
 * V8's allocation tracker runs a repeating timer inside the inspector that
 * keeps the event loop alive forever: a program that simply ends while
 * tracking hangs (measured: > 100 s). That timer is invisible to
 * `process.getActiveResourcesInfo()`, so an empty list means only the
 * tracker is holding the process open, unless an in-process inspector
 * request is pending: from Node 22, `HeapProfiler.collectGarbage` and
 * `takeHeapSnapshot` run in a later task that is invisible there too. Those
 * keep the loop busy, while the tracker's timer alone leaves it nearly idle,
 * so the loop must also have been mostly idle since the last check. On a
 * large heap the timer's own walk (a full GC and a pass over the heap every
 * 50 ms) keeps the loop busy too, and the program never ended (Node 20,
 * 40,000 live objects); a pending request ends within one task, so nothing
 * alive for {@link ONLY_THE_TRACKER} checks in a row is idle however busy.
 */
export function watchIdle(onIdle: () => void, everyMs = 100): () => void {
  let since = performance.eventLoopUtilization();
  let emptyChecks = 0;
  const timer = setInterval(() => {
    const busy = performance.eventLoopUtilization(since).utilization;
    since = performance.eventLoopUtilization();
    const empty = process.getActiveResourcesInfo().length - stdioHandles() <= 0;
    emptyChecks = empty ? emptyChecks + 1 : 0;
    if (empty && (busy < MOSTLY_IDLE || emptyChecks >= ONLY_THE_TRACKER)) {
      clearInterval(timer);
      onIdle();
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * stdout and stderr are listed as active handles once written to, but on
 * Linux their writes are synchronous and they never hold the loop open.
 */
function stdioHandles(): number {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  return handles.filter((h) => h === process.stdout || h === process.stderr).length;
}

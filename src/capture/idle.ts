/**
 * Call `onIdle` once the program has nothing left that would keep it alive.
 *
 * V8's allocation tracker runs a repeating timer inside the inspector that
 * keeps the event loop alive forever: a program that simply ends while
 * tracking hangs (measured: > 100 s). That timer is invisible to
 * `process.getActiveResourcesInfo()`, so an empty list means only the
 * tracker is holding the process open.
 */
export function watchIdle(onIdle: () => void, everyMs = 100): () => void {
  const timer = setInterval(() => {
    if (process.getActiveResourcesInfo().length - stdioHandles() <= 0) {
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

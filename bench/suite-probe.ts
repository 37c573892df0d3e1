/**
 * Preloaded (`--import`) into every run of bench/package-suite: at exit it
 * writes, to the file named by `TRACEMALLOC_SUITE_PROBE`, the modules line
 * mode instrumented and the time from process start to exit. It imports the
 * recorder that `tracemalloc/start` uses, so it reads the same list.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { lineFiles } from '../src/lines/recorder.js';

/** What the probe writes. */
export interface ProbeReport {
  /** URL or path of each instrumented module. */
  instrumented: string[];
  /** Milliseconds from process start to the first `exit` listener (before the tracer's exit dump). */
  exitMs: number;
}

const out = process.env.TRACEMALLOC_SUITE_PROBE;
if (out) {
  // Prepended: runs before the tracer's own exit hook, so the dump is not timed here.
  process.prependListener('exit', () => {
    const report: ProbeReport = { instrumented: lineFiles().map((f) => f.url), exitMs: performance.now() };
    writeFileSync(out, JSON.stringify(report));
  });
}

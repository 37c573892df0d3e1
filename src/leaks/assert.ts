import { AssertionError } from 'node:assert';
import { findLeaks, type LeakReport, type LeakScenario } from './find.js';
import { formatLeakReport } from './format.js';
import type { FindLeaksOptions } from './options.js';

/** The error {@link assertNoLeak} throws: an `AssertionError` that carries the report. */
export interface LeakAssertionError extends AssertionError {
  report: LeakReport;
}

/**
 * Fails when `fn` leaks: runs {@link findLeaks} and throws an
 * `AssertionError` whose message lists each leaking site, its growth per
 * iteration and the paths that retain its objects. An ordinary async
 * function, so it works in node's test runner, vitest and jest alike.
 */
export async function assertNoLeak(fn: LeakScenario, options: FindLeaksOptions = {}): Promise<void> {
  const report = await findLeaks(fn, options);
  if (report.findings.length === 0) return;
  const error = new AssertionError({ message: `expected no leak, but ${formatLeakReport(report)}` }) as LeakAssertionError;
  error.report = report;
  throw error;
}

/** What a vitest/jest matcher returns. */
export interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/**
 * Matchers for `expect.extend(leakMatchers)` in vitest or jest:
 * `await expect(fn).not.toLeak()` fails with the findings when `fn` leaks,
 * `await expect(fn).toLeak(options)` when it does not. Asynchronous: await it.
 */
export const leakMatchers = {
  async toLeak(received: unknown, options: FindLeaksOptions = {}): Promise<MatcherResult> {
    if (typeof received !== 'function') {
      throw new TypeError(`toLeak() expects a function (one iteration of the scenario), got ${received === null ? 'null' : typeof received}`);
    }
    const report = await findLeaks(received as LeakScenario, options);
    const pass = report.findings.length > 0;
    return {
      pass,
      message: () => (pass ? `expected the function not to leak, but ${formatLeakReport(report)}` : `expected the function to leak, but ${formatLeakReport(report)}`),
    };
  },
};

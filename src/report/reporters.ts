/**
 * The snapshot reporters by format, in the order `tracemalloc report` lists
 * and writes them.
 */
import { html } from './html.js';
import { pprof } from './pprof.js';
import type { Reporter } from './reporter.js';
import { speedscope } from './speedscope.js';

/** Every snapshot reporter. */
export const REPORTERS: readonly Reporter[] = [html, pprof, speedscope];

/** The reporter of a format, or undefined. */
export function reporterFor(format: string): Reporter | undefined {
  return REPORTERS.find((r) => r.format === format);
}

/**
 * The one contract of the snapshot reporters that `tracemalloc report`
 * writes to files: HTML, pprof and speedscope each take a {@link ReportInput}
 * and return the file's contents.
 *
 * Left out on purpose: the `top`/`compare` tables (`text.ts`) take
 * statistics grouped by a key, a row limit and terminal styling, and print
 * to stdout; the heap snapshot census and diff (`heap-text.ts`) take a heap
 * graph's census, not allocation sites. Neither renders a ReportInput.
 */
import type { Timeline } from '../model/timeline.js';
import type { Site, SnapshotInfo } from './sites.js';

/** Everything a snapshot reporter may draw, as plain data. */
export interface ReportInput {
  /** What the report is of, usually the snapshot's file name. */
  title: string;
  info: SnapshotInfo;
  /** Every trace of the snapshot (frames oldest first). */
  sites: Site[];
  /** Statistics by line. */
  lines: Site[];
  /** With an older snapshot: diffs by traceback (growth) and by line. */
  diff: ReportDiff | null;
  /** Memory timelines recorded by `tracemalloc run` (one per process or thread); the HTML report draws them. */
  timelines?: Timeline[];
}

/** The change since an older snapshot. */
export interface ReportDiff {
  old: SnapshotInfo;
  /** Statistic diffs by traceback. */
  growth: Site[];
  /** Statistic diffs by line. */
  lines: Site[];
}

/** A snapshot reporter: one output format of `tracemalloc report`. */
export interface Reporter {
  /** The format's name, also the CLI option: `--html FILE`. */
  readonly format: string;
  /** The usual file name ending, with its dot. */
  readonly extension: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Whether the output changes with `input.diff` (others ignore it). */
  readonly showsDiff: boolean;
  /** The file's contents. */
  render(input: ReportInput): string | Uint8Array;
}

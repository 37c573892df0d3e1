/**
 * Text and JSON renderings of `top` and `compare`: Python's tracemalloc
 * lines, with the function name beside `file:line`.
 */
import { formatFrameWithFunction, formatSize, type KeyType, type Statistic, type StatisticDiff } from '../model/index.js';
import { statisticAsSite, type Site, type SnapshotInfo } from './sites.js';

/** Styling hooks, so that this module stays free of terminal concerns. */
export interface TextStyle {
  bold(text: string): string;
  dim(text: string): string;
}

const PLAIN: TextStyle = { bold: (t) => t, dim: (t) => t };

/** Printed under every table: V8 gives positions of function starts, not of allocating lines. */
export const LINE_NOTE =
  'Note: line numbers are where each function starts; V8 records allocation sites per function, not per line.';

/** Printed under tables of line mode, which mixes allocating lines and function starts. */
export const LINE_MODE_NOTE =
  'Note: line mode: lines are the allocating lines of instrumented code; "(function start of f)" marks what V8 saw in f that no instrumented line explains.';

function hasLines(stats: ReadonlyArray<Statistic | StatisticDiff>): boolean {
  return stats.some((s) => s.traceback.frames.some((f) => f.atLine));
}

function noteFor(lineMode: boolean): string {
  return lineMode ? LINE_MODE_NOTE : LINE_NOTE;
}

/** What a `top` or `compare` table shows. */
export interface TableRequest {
  key: KeyType;
  cumulative: boolean;
  /** Rows to show; 0 shows all. */
  limit: number;
}

/**
 * Python's text of a statistic with the function name inserted after the
 * location (`app.ts:10 (in makeTable): size=...`).
 */
export function statLine(stat: Statistic | StatisticDiff, lineMode = false): string {
  const text = String(stat);
  const frame = stat.traceback.at(0)!;
  const location = `${stat.traceback}: `;
  if ((!frame.functionName && !lineMode) || !text.startsWith(location)) return text;
  return `${formatFrameWithFunction(frame, lineMode)}: ${text.slice(location.length)}`;
}

function title(kind: 'top' | 'compare', request: TableRequest, shown: number): string {
  const what = request.key === 'filename' ? 'files' : request.key === 'lineno' ? 'lines' : 'tracebacks';
  const cumulative = request.cumulative ? ' (cumulative)' : '';
  return kind === 'top' ? `[ Top ${shown} ${what}${cumulative} ]` : `[ Top ${shown} differences by ${what}${cumulative} ]`;
}

function tracebackLines(stat: Statistic | StatisticDiff, key: KeyType): string[] {
  if (key !== 'traceback') return [];
  return stat.traceback.format({ mostRecentFirst: true }).map((line) => `  ${line}`);
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

/** The `top` table: Python's display_top, one line per statistic. */
export function renderTop(stats: readonly Statistic[], request: TableRequest, style: TextStyle = PLAIN): string {
  const shown = request.limit > 0 ? stats.slice(0, request.limit) : stats;
  const lineMode = hasLines(stats);
  const lines = [style.bold(title('top', request, shown.length))];
  shown.forEach((stat, i) => {
    lines.push(`${style.bold(`#${i + 1}:`)} ${statLine(stat, lineMode)}`);
    lines.push(...tracebackLines(stat, request.key));
  });
  const rest = stats.slice(shown.length);
  if (rest.length > 0) lines.push(`${rest.length} other: size=${formatSize(sum(rest, (s) => s.size))}, count=${sum(rest, (s) => s.count)}`);
  // Cumulative statistics count a trace once per frame: their sum is not the total.
  if (!request.cumulative) lines.push(`Total allocated size: ${formatSize(sum(stats, (s) => s.size))}, count=${sum(stats, (s) => s.count)}`);
  lines.push(style.dim(noteFor(lineMode)));
  return `${lines.join('\n')}\n`;
}

/** The `compare` table: Python's "Top differences". */
export function renderCompare(diffs: readonly StatisticDiff[], request: TableRequest, style: TextStyle = PLAIN): string {
  const shown = request.limit > 0 ? diffs.slice(0, request.limit) : diffs;
  const lineMode = hasLines(diffs);
  const lines = [style.bold(title('compare', request, shown.length))];
  shown.forEach((stat, i) => {
    lines.push(`${style.bold(`#${i + 1}:`)} ${statLine(stat, lineMode)}`);
    lines.push(...tracebackLines(stat, request.key));
  });
  const rest = diffs.slice(shown.length);
  if (rest.length > 0) {
    lines.push(`${rest.length} other: size=${formatSize(sum(rest, (s) => s.size))} (${formatSize(sum(rest, (s) => s.sizeDiff), true)})`);
  }
  if (!request.cumulative) lines.push(`Total change: ${formatSize(sum(diffs, (s) => s.sizeDiff), true)}`);
  lines.push(style.dim(noteFor(lineMode)));
  return `${lines.join('\n')}\n`;
}

/** One row of the JSON output. */
export interface JsonRow extends Site {
  rank: number;
  /** Python's text of the statistic. */
  text: string;
}

/** The JSON document printed by `--json`. */
export function tableJson(
  kind: 'top' | 'compare',
  stats: ReadonlyArray<Statistic | StatisticDiff>,
  request: TableRequest,
  snapshot: SnapshotInfo,
  old?: SnapshotInfo,
): object {
  const shown = request.limit > 0 ? stats.slice(0, request.limit) : stats;
  const rows: JsonRow[] = shown.map((stat, i) => ({ rank: i + 1, text: String(stat), ...statisticAsSite(stat) }));
  return {
    kind,
    key: request.key,
    cumulative: request.cumulative,
    snapshot,
    ...(old ? { old } : {}),
    total: { size: sum(stats, (s) => s.size), count: sum(stats, (s) => s.count), statistics: stats.length },
    rows,
    note: noteFor(hasLines(stats)),
  };
}

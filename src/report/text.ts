/**
 * Text and JSON renderings of `top` and `compare`: Python's tracemalloc
 * lines, with the function name beside `file:line`. Not snapshot reporters
 * (`reporter.ts`): they render statistics grouped by a key, to stdout, with
 * terminal styles.
 */
import { formatFrameWithFunction, formatSize, type KeyType, type ProcessMemory, type Statistic, type StatisticDiff } from '../model/index.js';
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
 * Python's text of a statistic, labelled with the frame that allocated and
 * its function (`app.ts:10 (in makeTable): size=...`). Python's own label
 * is the traceback's oldest frame, which for `--key traceback` names the
 * same caller on every row; `String(statistic)` keeps Python's text.
 */
export function statLine(stat: Statistic | StatisticDiff, lineMode = false): string {
  const text = String(stat);
  const location = `${stat.traceback}: `;
  if (!text.startsWith(location)) return text;
  return `${formatFrameWithFunction(stat.traceback.at(-1)!, lineMode)}: ${text.slice(location.length)}`;
}

function tracebackLines(stat: Statistic | StatisticDiff, key: KeyType): string[] {
  if (key !== 'traceback') return [];
  return stat.traceback.format({ mostRecentFirst: true }).map((line) => `  ${line}`);
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

/** Which threads a row of a merged view holds memory in (`main`, `t1 worker.js`). */
export type RowThreads = (stat: Statistic | StatisticDiff) => readonly string[];

function threadsSuffix(stat: Statistic | StatisticDiff, where: RowThreads | undefined, style: TextStyle): string {
  const threads = where?.(stat) ?? [];
  return threads.length > 0 ? ` ${style.dim(`[${threads.join(', ')}]`)}` : '';
}

/**
 * What differs between the `top` and `compare` tables: the title's words and
 * the lines under the rows. Both list one numbered statistic per row.
 */
interface TableKind<S> {
  title(shown: number, what: string): string;
  /** The line summing the rows not shown. */
  rest(rest: readonly S[]): string;
  /** The total line; left out for cumulative statistics, which count a trace once per frame. */
  total(all: readonly S[]): string;
}

const TOP: TableKind<Statistic> = {
  title: (shown, what) => `[ Top ${shown} ${what}`,
  rest: (rest) => `${rest.length} other: size=${formatSize(sum(rest, (s) => s.size))}, count=${sum(rest, (s) => s.count)}`,
  total: (all) => `Total allocated size: ${formatSize(sum(all, (s) => s.size))}, count=${sum(all, (s) => s.count)}`,
};

const COMPARE: TableKind<StatisticDiff> = {
  title: (shown, what) => `[ Top ${shown} differences by ${what}`,
  rest: (rest) => `${rest.length} other: size=${formatSize(sum(rest, (s) => s.size))} (${formatSize(sum(rest, (s) => s.sizeDiff), true)})`,
  total: (all) => `Total change: ${formatSize(sum(all, (s) => s.sizeDiff), true)}`,
};

/** One table renderer for `top` and `compare`, after Python's display_top. */
function renderTable<S extends Statistic | StatisticDiff>(
  kind: TableKind<S>,
  stats: readonly S[],
  request: TableRequest,
  style: TextStyle,
  header: readonly string[],
  where: RowThreads | undefined,
): string {
  const shown = request.limit > 0 ? stats.slice(0, request.limit) : stats;
  const lineMode = hasLines(stats);
  const what = request.key === 'filename' ? 'files' : request.key === 'lineno' ? 'lines' : 'tracebacks';
  const lines = header.length > 0 ? [...header.map((l) => style.dim(l)), ''] : [];
  lines.push(style.bold(`${kind.title(shown.length, what)}${request.cumulative ? ' (cumulative)' : ''} ]`));
  shown.forEach((stat, i) => {
    lines.push(`${style.bold(`#${i + 1}:`)} ${statLine(stat, lineMode)}${threadsSuffix(stat, where, style)}`);
    lines.push(...tracebackLines(stat, request.key));
  });
  const rest = stats.slice(shown.length);
  if (rest.length > 0) lines.push(kind.rest(rest));
  if (!request.cumulative) lines.push(kind.total(stats));
  lines.push(style.dim(noteFor(lineMode)));
  return `${lines.join('\n')}\n`;
}

/**
 * The `top` table: Python's display_top, one line per statistic, under the
 * process's memory when known; with `where` (a merged view of several
 * threads), each row ends with its threads.
 */
export function renderTop(stats: readonly Statistic[], request: TableRequest, style: TextStyle = PLAIN, memory?: ProcessMemory, where?: RowThreads): string {
  return renderTable(TOP, stats, request, style, memory ? memoryHeader(memory) : [], where);
}

/**
 * Where the process's memory was, in three lines: RSS split into the V8
 * heap, array buffers, other external memory and the unexplained rest,
 * with the traced share of the heap and of the array buffers.
 */
export function memoryHeader(m: ProcessMemory): string[] {
  const f = (n: number) => formatSize(n);
  return [
    `Process memory: RSS ${f(m.rss)} = V8 heap ${f(m.heapCommitted)} + array buffers ${f(m.arrayBuffers)} + other external ${f(m.otherExternal)} + unaccounted ${f(m.unaccounted)}`,
    `  V8 heap: ${f(m.heapUsed)} used (traced ${f(m.tracedHeap)}, untraced ${f(m.untracedHeap)}), code ${f(m.code)}; ` +
      m.spaces
        .filter((s) => s.size > 0)
        .map((s) => `${s.name.replace(/_space$/, '')} ${f(s.size)}`)
        .join(', '),
    `  Array buffers (off-heap): ${f(m.arrayBuffers)} (traced ${f(m.tracedOffHeap)})`,
  ];
}

/** The `compare` table: Python's "Top differences"; `where` as in {@link renderTop}. */
export function renderCompare(diffs: readonly StatisticDiff[], request: TableRequest, style: TextStyle = PLAIN, where?: RowThreads): string {
  return renderTable(COMPARE, diffs, request, style, [], where);
}

/** One row of the JSON output. */
export interface JsonRow extends Site {
  rank: number;
  /** Python's text of the statistic. */
  text: string;
  /** A merged view's threads holding this row's memory (`main`, `t1 worker.js`). */
  threads?: string[];
}

/** One snapshot file of a merged view, in the JSON output. */
export interface JsonSource {
  file: string;
  pid?: number;
  /** 0 for the main thread. */
  threadId: number;
  threadName?: string;
  label: string;
}

/** The JSON document printed by `--json`. */
export function tableJson(
  kind: 'top' | 'compare',
  stats: ReadonlyArray<Statistic | StatisticDiff>,
  request: TableRequest,
  snapshot: SnapshotInfo,
  old?: SnapshotInfo,
  merged?: { sources: readonly JsonSource[]; where: RowThreads },
): object {
  const shown = request.limit > 0 ? stats.slice(0, request.limit) : stats;
  const rows: JsonRow[] = shown.map((stat, i) => ({
    rank: i + 1,
    text: String(stat),
    ...statisticAsSite(stat),
    ...(merged ? { threads: [...merged.where(stat)] } : {}),
  }));
  return {
    kind,
    key: request.key,
    cumulative: request.cumulative,
    snapshot,
    ...(old ? { old } : {}),
    ...(merged ? { sources: merged.sources } : {}),
    total: { size: sum(stats, (s) => s.size), count: sum(stats, (s) => s.count), statistics: stats.length },
    rows,
    note: noteFor(hasLines(stats)),
  };
}

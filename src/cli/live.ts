/**
 * `tracemalloc run --live`: the top sites of the traced program in the
 * terminal, refreshed every second from the timelines the run writes
 * (`model/timeline.ts`), with growth since the start and a sparkline per
 * site. Keys: `s` switches between sorting by size and by growth, `q` or
 * Ctrl-C ends the program as Ctrl-C would without the view.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatSize } from '../model/index.js';
import { lastRead, TimelineReader, topSeries, type Timeline, type TimelineFrame } from '../model/timeline.js';

const SPARKS = '▁▂▃▄▅▆▇█';
const SPARK_WIDTH = 16;
const CSI = '\x1b[';

/** A timeline file followed as it grows: complete lines only. */
class FollowedFile {
  readonly reader = new TimelineReader();
  private offset = 0;
  private pending = '';
  broken: string | null = null;

  constructor(readonly path: string) {}

  read(): void {
    if (this.broken) return;
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const size = statSync(this.path).size;
      if (size <= this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      const got = readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += got;
      this.pending += buffer.toString('utf8', 0, got);
    } finally {
      closeSync(fd);
    }
    const end = this.pending.lastIndexOf('\n');
    if (end === -1) return;
    const lines = this.pending.slice(0, end).split('\n');
    this.pending = this.pending.slice(end + 1);
    try {
      for (const line of lines) if (line) this.reader.add(line);
    } catch (err) {
      this.broken = (err as Error).message;
    }
  }
}

/** One row of the view. */
export interface LiveRow {
  where: string;
  frame: TimelineFrame;
  size: number;
  growth: number;
  values: number[];
}

/** A sparkline of the last `width` values, scaled from 0 to their maximum. */
export function sparkline(values: readonly number[], width = SPARK_WIDTH): string {
  const shown = values.slice(-width);
  const max = Math.max(...shown, 0);
  return shown.map((v) => (max > 0 ? SPARKS[Math.min(SPARKS.length - 1, Math.floor((Math.max(0, v) / max) * (SPARKS.length - 1) + 0.5))] : SPARKS[0])).join('');
}

/** The rows of several timelines' top sites, sorted by `by`; `label` names each timeline's thread when there are several. */
export function liveRows(timelines: ReadonlyArray<{ timeline: Timeline; label: string }>, by: 'size' | 'growth', limit: number): LiveRow[] {
  const rows: LiveRow[] = [];
  for (const { timeline, label } of timelines) {
    if (!timeline.sampled || timeline.ticks.length === 0) continue;
    for (const s of topSeries(timeline, limit, by)) {
      const frame = s.frames[s.frames.length - 1] ?? { file: '', line: 0, column: 0, function: '' };
      // The reads only: light ticks between them know no sites.
      const values = s.values.filter((v): v is number => v !== null);
      const size = values.at(-1) ?? 0;
      rows.push({ where: label, frame, size, growth: size - (values[0] ?? 0), values });
    }
  }
  // A site with nothing alive now is not a place to look.
  return rows.filter((r) => r.size > 0).sort((a, b) => (by === 'size' ? b.size - a.size : b.growth - a.growth)).slice(0, limit);
}

function pad(text: string, width: number, right = false): string {
  if (text.length > width) return width > 1 ? `${text.slice(0, width - 1)}…` : text.slice(0, width);
  return right ? text.padStart(width) : text.padEnd(width);
}

/** The screen's lines for a terminal `columns` wide and `rows` high. */
export function renderScreen(
  state: { pid: number | undefined; seconds: number; sort: 'size' | 'growth'; log: string; timelines: ReadonlyArray<{ timeline: Timeline; label: string }> },
  columns: number,
  rows: number,
): string[] {
  const lines: string[] = [];
  let traced = 0;
  let first = 0;
  let rss = 0;
  // The traced total of the reads; without any (exact mode from launch has no running total), V8's heap in use stands in.
  const known = state.timelines.every(({ timeline }) => timeline.ticks.some((t) => t.traced !== null));
  for (const { timeline } of state.timelines) {
    const ticks = known ? timeline.ticks.filter((t) => t.traced !== null) : timeline.ticks;
    if (ticks.length === 0) continue;
    traced += (known ? ticks[ticks.length - 1].traced : ticks[ticks.length - 1].heapUsed) ?? 0;
    first += (known ? ticks[0].traced : ticks[0].heapUsed) ?? 0;
    rss += timeline.ticks[timeline.ticks.length - 1].rss;
  }
  const growth = traced - first;
  const what = known ? 'traced' : 'V8 heap used';
  lines.push(`tracemalloc live · pid ${state.pid ?? '?'} · ${Math.round(state.seconds)} s · ${what} ${formatSize(traced)} (${formatSize(growth, true)} since start) · RSS ${formatSize(rss)}`);
  // Sites are known at reads only; on a large heap those are seconds apart (docs/cli.md).
  let age = 0;
  for (const { timeline } of state.timelines) {
    const read = lastRead(timeline);
    if (read >= 0) age = Math.max(age, timeline.ticks[timeline.ticks.length - 1].t - timeline.ticks[read].t);
  }
  const stale = age >= 2000 ? ` · sites as of ${Math.round(age / 1000)} s ago` : '';
  lines.push(`sorted by ${state.sort}${stale} · s: sort by ${state.sort === 'size' ? 'growth' : 'size'} · q: end the program · its output: ${state.log}`);
  lines.push('');
  const several = state.timelines.length > 1;
  const sizeW = 11;
  const trendW = SPARK_WIDTH;
  const whereW = several ? 24 : 0;
  const fnW = Math.max(12, Math.min(32, Math.floor(columns / 5)));
  const locW = Math.max(10, columns - 2 * (sizeW + 1) - (trendW + 1) - (whereW ? whereW + 1 : 0) - (fnW + 1));
  const row = (cells: string[]) => cells.join(' ').slice(0, columns).trimEnd();
  const header = [pad('Size', sizeW, true), pad('Growth', sizeW, true), pad('Trend', trendW), ...(several ? [pad('Process/thread', whereW)] : []), pad('Function', fnW), pad('Location', locW)];
  lines.push(row(header));
  const sampled = state.timelines.some(({ timeline }) => timeline.sampled);
  if (!sampled) {
    lines.push(state.timelines.length === 0 ? 'waiting for the first read…' : 'exact mode records totals only: sites over time need sampling mode');
  }
  for (const r of liveRows(state.timelines, state.sort, Math.max(1, rows - lines.length))) {
    const location = r.frame.line > 0 ? `${r.frame.file}:${r.frame.line}` : r.frame.file;
    lines.push(
      row([
        pad(formatSize(r.size), sizeW, true),
        pad(formatSize(r.growth, true), sizeW, true),
        pad(sparkline(r.values, trendW), trendW),
        ...(several ? [pad(r.where, whereW)] : []),
        pad(r.frame.function || '(anonymous)', fnW),
        pad(location, locW),
      ]),
    );
  }
  return lines.slice(0, rows);
}

/**
 * The live view over a run's output folder: reads the timelines written
 * since `since` (epoch ms) and draws on `output` once a second. `onQuit`
 * runs when the user presses q or Ctrl-C.
 */
export class LiveView {
  private readonly files = new Map<string, FollowedFile>();
  private sort: 'size' | 'growth' = 'size';
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();
  private readonly onKey = (key: string) => this.key(key);
  private readonly onResize = () => this.draw();
  pid: number | undefined;

  constructor(
    private readonly dir: string,
    private readonly since: number,
    private readonly log: string,
    private readonly onQuit: () => void,
    private readonly input: NodeJS.ReadStream = process.stdin,
    private readonly output: NodeJS.WriteStream = process.stdout,
  ) {}

  start(): void {
    // The alternate screen, no cursor; keys one by one.
    this.output.write(`${CSI}?1049h${CSI}?25l`);
    if (this.input.isTTY) this.input.setRawMode(true);
    this.input.setEncoding('utf8').on('data', this.onKey).resume();
    this.output.on('resize', this.onResize);
    this.draw();
    this.timer = setInterval(() => this.draw(), 1000);
  }

  /** Give the terminal back as it was. Idempotent. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.input.off('data', this.onKey);
    if (this.input.isTTY) this.input.setRawMode(false);
    this.input.pause();
    this.output.off('resize', this.onResize);
    this.output.write(`${CSI}?25h${CSI}?1049l`);
  }

  private key(key: string): void {
    for (const ch of key) {
      if (ch === 's') {
        this.sort = this.sort === 'size' ? 'growth' : 'size';
        this.draw();
      } else if (ch === 'q' || ch === '\x03') {
        this.onQuit();
      }
    }
  }

  private scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith('.timeline'));
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      if (!this.files.has(path)) {
        try {
          if (statSync(path).mtimeMs < this.since) continue;
        } catch {
          continue;
        }
        this.files.set(path, new FollowedFile(path));
      }
    }
    for (const file of this.files.values()) file.read();
  }

  draw(): void {
    this.scan();
    const timelines: Array<{ timeline: Timeline; label: string }> = [];
    for (const file of this.files.values()) {
      const timeline = file.reader.timeline;
      if (!timeline || timeline.header.start < this.since - 1000) continue;
      const h = timeline.header;
      const label = h.threadId !== undefined ? `${h.pid} t${h.threadId} ${h.threadName ?? ''}` : `${h.pid} ${h.script ?? ''}`;
      timelines.push({ timeline, label: label.trim() });
    }
    const columns = this.output.columns || 100;
    const rows = this.output.rows || 30;
    const lines = renderScreen({ pid: this.pid, seconds: (Date.now() - this.started) / 1000, sort: this.sort, log: this.log, timelines }, columns, rows);
    this.output.write(`${CSI}H${lines.map((l) => `${l}${CSI}K`).join('\r\n')}${CSI}J`);
  }
}

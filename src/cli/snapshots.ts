/**
 * Loading snapshot files and turning --include/--exclude into filters, with
 * errors that say what to do.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Filter, Snapshot, type KeyType, type SnapshotMeta, type StatisticDiff } from '../model/index.js';
import { parseTimeline, type Timeline } from '../model/timeline.js';
import { snapshotOfTimeline } from '../tracer/from-timeline.js';
import { CommandError, UsageError } from './errors.js';

/**
 * Load a snapshot written by `tracemalloc run` or `Snapshot.dump()`, or
 * the last read of a run's `.timeline` file (see {@link timelineSnapshot}).
 */
export function loadSnapshot(path: string): Snapshot {
  if (!existsSync(path)) {
    throw new UsageError(`no such file: ${path}; pass a snapshot written by 'tracemalloc run' or Snapshot.dump()`);
  }
  if (statSync(path).isDirectory()) {
    throw new UsageError(`${path} is a folder; pass one of the .snap files inside it, or several files`);
  }
  if (path.endsWith('.timeline')) return timelineSnapshot(path);
  try {
    return Snapshot.load(path);
  } catch (err) {
    const hint = path.endsWith('.heapsnapshot') ? "; for V8 heap snapshots use 'tracemalloc heap'" : '';
    throw new CommandError(`${(err as Error).message}${hint}`);
  }
}

/**
 * Filters from glob patterns (Python's fnmatch: `*` also matches `/`).
 * Patterns starting with `./` or `../` are taken relative to the current
 * folder, since frames hold absolute paths.
 */
export function filtersFrom(include: readonly string[] = [], exclude: readonly string[] = [], allFrames = false): Filter[] {
  const pattern = (glob: string) => (/^\.\.?\//.test(glob) ? resolve(glob) + (glob.endsWith('/') ? '/' : '') : glob);
  return [
    ...include.map((g) => new Filter(true, pattern(g), { allFrames })),
    ...exclude.map((g) => new Filter(false, pattern(g), { allFrames })),
  ];
}

/** `newer.compareTo(older)`, with the model's refusal (e.g. different modes) as a one-line command error. */
export function compareSnapshots(newer: Snapshot, older: Snapshot, key: KeyType, cumulative = false): StatisticDiff[] {
  try {
    return newer.compareTo(older, key, { cumulative });
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
}

/** One snapshot file of a merged view, and which process and thread wrote it. */
export interface Source {
  file: string;
  snapshot: Snapshot;
  pid?: number;
  /** 0 for the main thread. */
  threadId: number;
  threadName?: string;
  /** The process's main script (basename). */
  script?: string;
  /** `main` or `t<id> <script>`, with `pid <pid> <process script> ` in front when the view holds several processes. */
  label: string;
}

/** Snapshots, several merged into one, with where each part came from. */
export interface Loaded {
  snapshot: Snapshot;
  /** Empty for a single file given alone (today's `top FILE`). */
  sources: Source[];
}

// tracemalloc run's names: tracemalloc-<pid>[-t<threadId>-<script>]-(exit|NNN-reason).snap
const RUN_NAME = /^tracemalloc-(\d+)(?:-t(\d+)-)?/;

/**
 * The snapshot files of a folder that describe it now: of the files `run`
 * names for one process and thread, the newest (its exit snapshot when it
 * ended; summing earlier ones too would count the same memory twice);
 * every other `.snap` file.
 */
export function folderSnapshots(dir: string): string[] {
  const newest = new Map<string, { file: string; mtime: number }>();
  const others: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.snap')) continue;
    const file = join(dir, name);
    const m = RUN_NAME.exec(name);
    if (!m) {
      others.push(file);
      continue;
    }
    const key = `${m[1]}:${m[2] ?? 0}`;
    const mtime = statSync(file).mtimeMs;
    const seen = newest.get(key);
    // Same time: the exit snapshot, else the higher number (later in name order).
    if (!seen || mtime > seen.mtime || (mtime === seen.mtime && (name.includes('-exit.') || !seen.file.includes('-exit.')))) newest.set(key, { file, mtime });
  }
  return [...[...newest.values()].map((v) => v.file), ...others].sort();
}

/**
 * The last read of a timeline as a snapshot, saying so on stderr: what was
 * alive when the program's memory was last read.
 */
function timelineSnapshot(path: string): Snapshot {
  const timeline = readTimeline(path);
  const snapshot = snapshotOfTimeline(timeline);
  if (!snapshot) throw new UsageError(`${path} has no sites (exact mode, or no read yet); use the run's .snap files`);
  const seconds = ((snapshot.meta.timestamp - timeline.header.start) / 1000).toFixed(1);
  process.stderr.write(`tracemalloc: no snapshot: ${path} read at ${seconds} s, its last read, stands in for one\n`);
  return snapshot;
}

/** The `.timeline` files of a folder, in name order. */
function folderTimelines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.timeline'))
    .sort()
    .map((f) => join(dir, f));
}

function readTimeline(file: string): Timeline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseTimeline(text);
  } catch (err) {
    throw new CommandError(`${file} is not a tracemalloc timeline: ${(err as Error).message}`);
  }
}

/** What `--thread` accepts, for help texts and errors. */
export const THREAD_CHOICES = "'main', a thread id, '<pid>:<id>' or a worker's or process's script name";

/** Does `thread` (see {@link THREAD_CHOICES}) select `source`? */
function threadMatches(source: Pick<Source, 'pid' | 'threadId' | 'threadName' | 'script'>, thread: string): boolean {
  const [pid, id] = thread.includes(':') ? thread.split(':') : [undefined, thread];
  if (pid !== undefined && String(source.pid) !== pid) return false;
  if (id === 'main') return source.threadId === 0;
  if (/^\d+$/.test(id)) return source.threadId === Number(id);
  // A worker's script, or a process's: `--thread spawned-child.js` picks every process that ran it.
  return source.threadName === id || (source.threadId === 0 && source.script === id);
}

/**
 * Load snapshot files and folders (see {@link folderSnapshots}), keep the
 * threads named by `threads` (none: all), and merge them into one snapshot
 * whose statistics sum theirs. One file alone loads as it always has.
 */
export function loadSnapshots(paths: readonly string[], threads: readonly string[] = []): Loaded {
  if (paths.length === 1 && threads.length === 0 && existsSync(paths[0]) && !statSync(paths[0]).isDirectory()) {
    return { snapshot: loadSnapshot(paths[0]), sources: [] };
  }
  const files: string[] = [];
  for (const path of paths) {
    if (existsSync(path) && statSync(path).isDirectory()) {
      // A program killed before its exit snapshot (SIGKILL, the OOM killer) leaves its timeline.
      const inside = folderSnapshots(path);
      const timelines = inside.length > 0 ? [] : folderTimelines(path);
      if (inside.length === 0 && timelines.length === 0) throw new UsageError(`no .snap files in ${path}`);
      files.push(...inside, ...timelines);
    } else files.push(path);
  }
  let sources: Source[] = files.map((file) => {
    const snapshot = loadSnapshot(file);
    const m = snapshot.meta;
    return { file, snapshot, pid: m.pid, threadId: m.threadId ?? 0, threadName: m.threadName, script: m.script, label: '' };
  });
  const pids = new Set(sources.map((s) => s.pid));
  for (const s of sources) {
    const thread = s.threadId === 0 ? 'main' : `t${s.threadId}${s.threadName ? ` ${s.threadName}` : ''}`;
    s.label = pids.size > 1 ? `pid ${s.pid ?? '?'} ${s.script ? `${s.script} ` : ''}${thread}` : thread;
  }
  if (threads.length > 0) {
    sources = sources.filter((s) => threads.some((t) => threadMatches(s, t)));
    if (sources.length === 0) throw new UsageError(`no snapshot of thread ${threads.join(', ')}; threads are ${THREAD_CHOICES}`);
  }
  return { snapshot: sources.length === 1 ? sources[0].snapshot : merge(sources), sources };
}

function merge(sources: readonly Source[]): Snapshot {
  const metas = sources.map((s) => s.snapshot.meta);
  const mode = metas[0].mode;
  if (metas.some((m) => m.mode !== mode)) {
    throw new UsageError(`cannot merge ${mode} and ${metas.find((m) => m.mode !== mode)!.mode} snapshots; pass files of one mode`);
  }
  const same = <T>(values: T[]): T | undefined => (values.every((v) => v === values[0]) ? values[0] : undefined);
  const meta: SnapshotMeta = {
    mode,
    samplingInterval: same(metas.map((m) => m.samplingInterval)),
    lineSampleEvery: same(metas.map((m) => m.lineSampleEvery)),
    timestamp: Math.max(...metas.map((m) => m.timestamp)),
    pid: same(metas.map((m) => m.pid)),
    nodeVersion: same(metas.map((m) => m.nodeVersion)),
    // No processMemory: each thread's heap is its own, RSS the process's; a sum would mislead.
  };
  const limit = Math.max(...sources.map((s) => s.snapshot.tracebackLimit));
  return new Snapshot(
    sources.flatMap((s) => s.snapshot.traces),
    limit,
    meta,
  );
}

/**
 * For each row of a merged view, the threads it holds memory in: `key`
 * statistics of each source, by traceback text.
 */
export function threadsOfRows(sources: readonly Source[], key: KeyType, cumulative: boolean, filter: (s: Snapshot) => Snapshot): (stat: { traceback: { toString(): string } }) => string[] {
  const where = new Map<string, string[]>();
  for (const source of sources) {
    for (const stat of filter(source.snapshot).statistics(key, { cumulative })) {
      const text = String(stat.traceback);
      const list = where.get(text) ?? [];
      if (!list.includes(source.label)) list.push(source.label);
      where.set(text, list);
    }
  }
  return (stat) => where.get(String(stat.traceback)) ?? [];
}

/**
 * Split report inputs into snapshot paths and memory timelines: a
 * `.timeline` file is one, and a folder brings its `.timeline` files along
 * with its snapshots. `threads` selects timelines as it selects snapshots.
 */
export function splitTimelines(paths: readonly string[], threads: readonly string[] = []): { snapshots: string[]; timelines: Timeline[] } {
  const snapshots: string[] = [];
  const files: string[] = [];
  for (const path of paths) {
    if (path.endsWith('.timeline')) files.push(path);
    else snapshots.push(path);
    if (existsSync(path) && statSync(path).isDirectory()) files.push(...folderTimelines(path));
  }
  const timelines = files.map(readTimeline);
  const chosen = threads.length === 0 ? timelines : timelines.filter(({ header: h }) => threads.some((t) => threadMatches({ pid: h.pid, threadId: h.threadId ?? 0, threadName: h.threadName, script: h.script }, t)));
  return { snapshots, timelines: chosen };
}

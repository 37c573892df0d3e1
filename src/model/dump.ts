/**
 * Snapshot dump files: gzip'd JSON, versioned, with frames and tracebacks
 * deduplicated. The format is documented in docs/dump-format.md.
 *
 * A dump holds file names, function names, numbers and the snapshot's
 * metadata; never heap contents (no string values), so it is safe to attach
 * to a bug report.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Frame } from './frame.js';
import { normalizeMeta, type SnapshotMeta } from './meta.js';
import { Trace } from './trace.js';
import { Traceback } from './traceback.js';

/** Value of the `format` field of every dump. */
export const DUMP_FORMAT = 'tracemalloc-snapshot';
/** Version of the dump format this library writes; it reads this one and every older one. */
export const DUMP_VERSION = 2;
/** Versions {@link decodeSnapshot} reads: 1 has no off-heap sizes (all 0). */
const READABLE_VERSIONS: readonly number[] = [1, 2];

/** Refuse to inflate more than this: a gzip bomb must not take the process down. */
const MAX_INFLATED_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/** A frame in a dump: `[filename, lineno, column, functionName]`, plus `1` when the line is the allocating or calling line (line mode). */
export type DumpFrame = [filename: string, lineno: number, column: number, functionName: string, atLine?: 1];
/** A traceback in a dump: `[totalFrames or null, frameIndex...]`, frames oldest first. */
export type DumpTraceback = [totalFrames: number | null, ...frames: number[]];
/**
 * A trace in a dump: `[tracebackIndex, size, count]`, plus
 * `samples, sizeVariance, countVariance` for a sampling estimate; version 2
 * appends `offHeapSize` to either form when the trace has off-heap bytes.
 */
export type DumpTrace =
  | [traceback: number, size: number, count: number]
  | [traceback: number, size: number, count: number, offHeapSize: number]
  | [traceback: number, size: number, count: number, samples: number, sizeVariance: number, countVariance: number]
  | [traceback: number, size: number, count: number, samples: number, sizeVariance: number, countVariance: number, offHeapSize: number];

/** The JSON document inside a dump file (version 2). */
export interface DumpDocument {
  format: typeof DUMP_FORMAT;
  version: typeof DUMP_VERSION;
  meta: SnapshotMeta;
  tracebackLimit: number;
  frames: DumpFrame[];
  tracebacks: DumpTraceback[];
  traces: DumpTrace[];
}

/** What a snapshot is made of: the input and output of the codec. */
export interface SnapshotParts {
  traces: readonly Trace[];
  tracebackLimit: number;
  meta: Readonly<SnapshotMeta>;
}

/** Build the dump document of a snapshot, sharing repeated frames and tracebacks. */
export function encodeSnapshot(parts: SnapshotParts): DumpDocument {
  const frames: DumpFrame[] = [];
  const tracebacks: DumpTraceback[] = [];
  const frameIndex = new Map<string, number>();
  const tracebackIndex = new Map<Traceback, number>();
  const tracebackByContent = new Map<string, number>();
  const frameId = (f: Frame): number => {
    // Every field identifies a frame here (Frame.key is Python's coarser equality).
    const k = `${f.key}\0${f.column}\0${f.functionName}\0${f.atLine ? 1 : 0}`;
    let id = frameIndex.get(k);
    if (id === undefined) {
      id = frames.push(f.atLine ? [f.filename, f.lineno, f.column, f.functionName, 1] : [f.filename, f.lineno, f.column, f.functionName]) - 1;
      frameIndex.set(k, id);
    }
    return id;
  };
  const tracebackId = (tb: Traceback): number => {
    let id = tracebackIndex.get(tb);
    if (id !== undefined) return id;
    const entry: DumpTraceback = [tb.totalFrames ?? null, ...tb.frames.map(frameId)];
    const k = entry.join(',');
    id = tracebackByContent.get(k);
    if (id === undefined) {
      id = tracebacks.push(entry) - 1;
      tracebackByContent.set(k, id);
    }
    tracebackIndex.set(tb, id);
    return id;
  };
  const traces: DumpTrace[] = parts.traces.map((t) => {
    const id = tracebackId(t.traceback);
    const e = t.estimate;
    const off = t.offHeapSize;
    if (e) return off > 0 ? [id, t.size, t.count, e.samples, e.sizeVariance, e.countVariance, off] : [id, t.size, t.count, e.samples, e.sizeVariance, e.countVariance];
    return off > 0 ? [id, t.size, t.count, off] : [id, t.size, t.count];
  });
  return {
    format: DUMP_FORMAT,
    version: DUMP_VERSION,
    meta: { ...parts.meta },
    tracebackLimit: parts.tracebackLimit,
    frames,
    tracebacks,
    traces,
  };
}

/** A dump that could be read but does not hold a valid snapshot. */
class Malformed extends Error {}

function arrayField(doc: Record<string, unknown>, name: string): unknown[] {
  const value = doc[name];
  if (!Array.isArray(value)) throw new Malformed(`malformed contents: "${name}" must be an array`);
  return value;
}

function isIndex(value: unknown, length: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < length;
}

/** Run a constructor and report its complaint as a malformed entry. */
function entry<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof Malformed) throw err;
    throw new Malformed(`malformed contents: ${where}: ${(err as Error).message}`);
  }
}

/**
 * Rebuild a snapshot's parts from a parsed dump document, checking every
 * field. Throws an Error whose message is one line saying what is wrong.
 */
export function decodeSnapshot(doc: unknown): SnapshotParts {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (doc as Record<string, unknown>).format !== DUMP_FORMAT) {
    throw new Malformed('not a tracemalloc snapshot dump');
  }
  const d = doc as Record<string, unknown>;
  if (!READABLE_VERSIONS.includes(d.version as number)) {
    throw new Malformed(`unsupported dump version ${JSON.stringify(d.version) ?? 'undefined'} (this tracemalloc reads versions 1 to ${DUMP_VERSION})`);
  }
  const lengths = d.version === 1 ? [3, 6] : [3, 4, 6, 7];
  const meta = entry('meta', () => normalizeMeta(d.meta));
  const limit = d.tracebackLimit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw new Malformed('malformed contents: "tracebackLimit" must be an integer >= 1');

  const frames = arrayField(d, 'frames').map((raw, i) =>
    entry(`frames[${i}]`, () => {
      if (!Array.isArray(raw) || raw.length < 4 || raw.length > 5 || (raw.length === 5 && raw[4] !== 1)) {
        throw new Error('expected [filename, lineno, column, functionName] or [..., 1]');
      }
      const [filename, lineno, column, functionName] = raw as unknown[];
      return new Frame(filename as string, lineno as number, column as number, functionName as string, raw.length === 5);
    }),
  );
  const tracebacks = arrayField(d, 'tracebacks').map((raw, i) =>
    entry(`tracebacks[${i}]`, () => {
      if (!Array.isArray(raw) || raw.length < 2) throw new Error('expected [totalFrames, frameIndex, ...]');
      const [total, ...ids] = raw as unknown[];
      if (total !== null && typeof total !== 'number') throw new Error('totalFrames must be a number or null');
      const list = ids.map((id) => {
        if (!isIndex(id, frames.length)) throw new Error(`frame index ${JSON.stringify(id)} out of range`);
        return frames[id];
      });
      return new Traceback(list, total ?? undefined);
    }),
  );
  const traces = arrayField(d, 'traces').map((raw, i) =>
    entry(`traces[${i}]`, () => {
      if (!Array.isArray(raw) || !lengths.includes(raw.length)) {
        throw new Error(
          d.version === 1
            ? 'expected [traceback, size, count] or [traceback, size, count, samples, sizeVariance, countVariance]'
            : 'expected [traceback, size, count], [traceback, size, count, samples, sizeVariance, countVariance], either plus offHeapSize',
        );
      }
      const [id, size, count, samples, sizeVariance, countVariance] = raw as unknown[];
      if (!isIndex(id, tracebacks.length)) throw new Error(`traceback index ${JSON.stringify(id)} out of range`);
      const estimate =
        raw.length >= 6
          ? { samples: samples as number, sizeVariance: sizeVariance as number, countVariance: countVariance as number }
          : undefined;
      const offHeap = raw.length === 4 || raw.length === 7 ? (raw[raw.length - 1] as number) : 0;
      return new Trace(tracebacks[id], size as number, count as number, estimate, offHeap);
    }),
  );
  return { traces, tracebackLimit: limit, meta };
}

/**
 * Write `parts` to `path` as a gzip'd dump, atomically: a temporary file in
 * the same directory, flushed, then renamed over `path`. Throws a one-line
 * Error on failure and leaves no temporary file behind.
 */
export function writeSnapshotFile(path: string, parts: SnapshotParts): void {
  const data = gzipSync(JSON.stringify(encodeSnapshot(parts)));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing: report the first error */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw new Error(`cannot dump snapshot to ${path}: ${oneLine(err)}`);
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, ' ');
}

/**
 * Read a dump written by {@link writeSnapshotFile}. Every failure (unreadable
 * file, not gzip, not JSON, not a dump, another version, malformed contents)
 * is an Error with a one-line message starting `cannot load snapshot from <path>: `.
 */
export function readSnapshotFile(path: string): SnapshotParts {
  const fail = (reason: string): Error => new Error(`cannot load snapshot from ${path}: ${reason}`);
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw fail(oneLine(err));
  }
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) throw fail('not a gzip file (a tracemalloc dump is gzip-compressed JSON)');
  let inflated: Buffer;
  try {
    inflated = gunzipSync(data, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (err) {
    throw fail(`corrupt gzip data (${oneLine(err)})`);
  }
  let text: string;
  try {
    text = inflated.toString('utf8');
  } catch {
    throw fail(`dump too large to read (${inflated.length} bytes of JSON)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail('not a tracemalloc snapshot dump (contents are not JSON)');
  }
  try {
    return decodeSnapshot(doc);
  } catch (err) {
    throw fail(oneLine(err));
  }
}

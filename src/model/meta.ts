/**
 * Snapshot metadata: how and when a snapshot was taken.
 *
 * @module
 */

/** Capture mode of a snapshot: 'exact' (V8's allocation tracker) or 'sampling' (its sampling heap profiler). */
export type SnapshotMode = 'exact' | 'sampling';

/** Most frames a traceback keeps: the bound of `start({ frames })`, `run --frames` and the leak finder's `frames`. */
export const MAX_TRACEBACK_FRAMES = 128;

/** How and when a snapshot was taken. */
export interface SnapshotMeta {
  /** 'exact' (allocation tracker: true counts) or 'sampling' (estimates). */
  mode: SnapshotMode;
  /** Sampling mode: V8's mean sampling interval in bytes. */
  samplingInterval?: number;
  /** Line mode: mean allocations between two line samples (absent without line mode). */
  lineSampleEvery?: number;
  /** When the snapshot was taken, ms since the Unix epoch. */
  timestamp: number;
  /** Process id of the traced process. */
  pid?: number;
  /** Worker thread id (`worker_threads.threadId`); absent on the main thread. */
  threadId?: number;
  /** What the worker thread runs: its script's basename (absent on the main thread). */
  threadName?: string;
  /** What the process runs: its main script's basename (main thread only; absent for `node -e` and the REPL). */
  script?: string;
  /** `process.version` of the traced process. */
  nodeVersion?: string;
  /** Where the process's memory was when the snapshot was taken (snapshots taken by `takeSnapshot()`). */
  processMemory?: ProcessMemory;
}

/**
 * Where a process's memory is, in bytes: what `getProcessMemory()` returns
 * and a snapshot's `meta.processMemory` holds. The V8 heap (committed, of
 * which `heapUsed` by live and not yet collected objects, split into
 * traced and untraced), the ArrayBuffer backing stores outside it (traced
 * and untraced), other memory V8 is told about (`external`), and the part
 * of RSS none of these explain (native addons, the allocator's free lists,
 * thread stacks, Node's and V8's own C++ data).
 */
export interface ProcessMemory {
  /** Resident set size. */
  rss: number;
  /** V8 heap, physical memory committed (all spaces). */
  heapCommitted: number;
  /** V8 heap in use. */
  heapUsed: number;
  /** Heap bytes traced (allocated since `start()` and live). */
  tracedHeap: number;
  /** `heapUsed` not traced: allocated before `start()`, garbage not yet collected, or not sampled. */
  untracedHeap: number;
  /** Backing stores of ArrayBuffers, Buffers and typed arrays (`process.memoryUsage().arrayBuffers`). */
  arrayBuffers: number;
  /** Backing-store bytes traced. */
  tracedOffHeap: number;
  /** Other memory V8 is told about, outside the heap (`external` minus `arrayBuffers`). */
  otherExternal: number;
  /** Compiled code and bytecode with their metadata (inside the heap). */
  code: number;
  /** RSS that the heap and external memory do not explain. */
  unaccounted: number;
  /** Each V8 heap space: physical size and bytes used. */
  spaces: ReadonlyArray<{ readonly name: string; readonly size: number; readonly used: number }>;
}

const MEMORY_FIELDS = ['rss', 'heapCommitted', 'heapUsed', 'tracedHeap', 'untracedHeap', 'arrayBuffers', 'tracedOffHeap', 'otherExternal', 'code', 'unaccounted'] as const;

function checkBytes(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`snapshot meta.processMemory.${what} must be a number >= 0`);
  return value;
}

function normalizeProcessMemory(value: unknown): ProcessMemory {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('snapshot meta.processMemory must be an object');
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of MEMORY_FIELDS) out[field] = checkBytes(v[field], field);
  if (!Array.isArray(v.spaces)) throw new TypeError('snapshot meta.processMemory.spaces must be an array');
  out.spaces = Object.freeze(
    v.spaces.map((space: unknown, i) => {
      const s = space as Record<string, unknown> | null;
      if (typeof s !== 'object' || s === null || typeof s.name !== 'string') throw new TypeError(`snapshot meta.processMemory.spaces[${i}] must have a name`);
      return Object.freeze({ name: s.name, size: checkBytes(s.size, `spaces[${i}].size`), used: checkBytes(s.used, `spaces[${i}].used`) });
    }),
  );
  return Object.freeze(out) as unknown as ProcessMemory;
}

/**
 * Check `meta` and return a frozen copy holding only the known fields that
 * are set (undefined fields are left out, so copies compare equal).
 * Throws a TypeError naming the bad field.
 */
export function normalizeMeta(meta: unknown): Readonly<SnapshotMeta> {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new TypeError('snapshot meta must be an object');
  const m = meta as Record<string, unknown>;
  if (m.mode !== 'exact' && m.mode !== 'sampling') throw new TypeError(`snapshot meta.mode must be 'exact' or 'sampling', not ${JSON.stringify(m.mode)}`);
  if (typeof m.timestamp !== 'number' || !Number.isFinite(m.timestamp)) throw new TypeError('snapshot meta.timestamp must be a finite number');
  const out: SnapshotMeta = { mode: m.mode, timestamp: m.timestamp };
  if (m.samplingInterval !== undefined) {
    if (typeof m.samplingInterval !== 'number' || !Number.isFinite(m.samplingInterval) || m.samplingInterval <= 0) {
      throw new TypeError('snapshot meta.samplingInterval must be a positive number');
    }
    out.samplingInterval = m.samplingInterval;
  }
  if (m.lineSampleEvery !== undefined) {
    if (typeof m.lineSampleEvery !== 'number' || !Number.isInteger(m.lineSampleEvery) || m.lineSampleEvery < 1) {
      throw new TypeError('snapshot meta.lineSampleEvery must be an integer >= 1');
    }
    out.lineSampleEvery = m.lineSampleEvery;
  }
  if (m.pid !== undefined) {
    if (typeof m.pid !== 'number' || !Number.isInteger(m.pid) || m.pid < 0) throw new TypeError('snapshot meta.pid must be an integer >= 0');
    out.pid = m.pid;
  }
  if (m.threadId !== undefined) {
    if (typeof m.threadId !== 'number' || !Number.isInteger(m.threadId) || m.threadId < 0) throw new TypeError('snapshot meta.threadId must be an integer >= 0');
    out.threadId = m.threadId;
  }
  if (m.threadName !== undefined) {
    if (typeof m.threadName !== 'string') throw new TypeError('snapshot meta.threadName must be a string');
    out.threadName = m.threadName;
  }
  if (m.script !== undefined) {
    if (typeof m.script !== 'string') throw new TypeError('snapshot meta.script must be a string');
    out.script = m.script;
  }
  if (m.nodeVersion !== undefined) {
    if (typeof m.nodeVersion !== 'string') throw new TypeError('snapshot meta.nodeVersion must be a string');
    out.nodeVersion = m.nodeVersion;
  }
  if (m.processMemory !== undefined) out.processMemory = normalizeProcessMemory(m.processMemory);
  return Object.freeze(out);
}

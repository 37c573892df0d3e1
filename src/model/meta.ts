/**
 * Snapshot metadata: how and when a snapshot was taken.
 *
 * @module
 */

/** Capture mode of a snapshot. */
export type SnapshotMode = 'exact' | 'sampling';

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
  /** `process.version` of the traced process. */
  nodeVersion?: string;
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
  if (m.nodeVersion !== undefined) {
    if (typeof m.nodeVersion !== 'string') throw new TypeError('snapshot meta.nodeVersion must be a string');
    out.nodeVersion = m.nodeVersion;
  }
  return Object.freeze(out);
}

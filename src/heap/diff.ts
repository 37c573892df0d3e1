import { NO_DISTANCE } from './distances.js';
import type { HeapSnapshot } from './snapshot.js';
import type { AllocationFrame } from './traces.js';

/** Counts for one constructor or one allocation site. */
export interface DiffEntry {
  /** Objects present only in the later snapshot. */
  added: number;
  addedSize: number;
  /** Objects present only in the earlier snapshot (freed). */
  removed: number;
  removedSize: number;
  /** Objects present in both (by node id); sizes from the later snapshot. */
  surviving: number;
  survivingSize: number;
  countDelta: number;
  sizeDelta: number;
}

export interface ConstructorDiff extends DiffEntry {
  /** {@link HeapSnapshot.className} of the objects. */
  name: string;
}

export interface SiteDiff extends DiffEntry {
  /** Allocation traceback, innermost first; empty for untraced objects. */
  frames: AllocationFrame[];
  /** Stable text key of the traceback, e.g. `make (file:///a.js:3:1) <- main (…)`. */
  key: string;
}

export interface SnapshotDiff {
  /** Constructors with any added or removed object, by |sizeDelta| descending. */
  byConstructor: ConstructorDiff[];
  /** Allocation sites with any added or removed object (only when a snapshot has traces). */
  bySite: SiteDiff[];
  totals: DiffEntry;
}

export interface DiffOptions {
  /** Consider only objects reachable from the roots (default true), like DevTools. */
  reachableOnly?: boolean;
  /**
   * Diff even when the shared ids show two different processes (default
   * false: {@link DifferentProcessesError}); the result then means little.
   */
  allowDifferentProcesses?: boolean;
}

/**
 * Thrown by {@link diffSnapshots} for two snapshots that do not come from one
 * process: node ids are only stable within a process, so a diff across
 * processes (or Node versions) pairs unrelated objects as "surviving".
 */
export class DifferentProcessesError extends Error {
  /** Node ids present in both snapshots. */
  readonly shared: number;
  /** Of those, how many name a node of another type or name in the other snapshot. */
  readonly mismatched: number;

  constructor(shared: number, mismatched: number) {
    const pct = Math.round((100 * mismatched) / shared);
    super(`the two heap snapshots come from different processes: ${pct}% of the ${shared} object ids they share name different objects; diff snapshots of one process (pass --force to diff anyway)`);
    this.name = 'DifferentProcessesError';
    this.shared = shared;
    this.mismatched = mismatched;
  }
}

/**
 * Counts the node ids two snapshots share and how many of them name a node of
 * a different type or name in the other: almost none within one process
 * (measured: 0 to 2 of some 40,000), most across processes (82% for two runs
 * of one program, 98% across Node versions), since every process numbers its
 * objects the same way from the start.
 */
export function compareIds(before: HeapSnapshot, after: HeapSnapshot): { shared: number; mismatched: number } {
  const a = before.ids();
  const b = after.ids();
  let shared = 0;
  let mismatched = 0;
  for (let i = 0, j = 0; i < a.ids.length && j < b.ids.length; ) {
    if (a.ids[i] < b.ids[j]) i++;
    else if (b.ids[j] < a.ids[i]) j++;
    else {
      const ka = a.ordinals[i++];
      const kb = b.ordinals[j++];
      shared++;
      if (before.nodeType(ka) !== after.nodeType(kb) || before.nodeName(ka) !== after.nodeName(kb)) mismatched++;
    }
  }
  return { shared, mismatched };
}

function emptyEntry(): DiffEntry {
  return { added: 0, addedSize: 0, removed: 0, removedSize: 0, surviving: 0, survivingSize: 0, countDelta: 0, sizeDelta: 0 };
}

function frameKey(frames: AllocationFrame[]): string {
  if (frames.length === 0) return '(untraced)';
  return frames.map((f) => `${f.functionName || '(anonymous)'} (${f.scriptName}:${f.line}:${f.column})`).join(' <- ');
}

/**
 * Compares two snapshots of the same process by node id, like DevTools'
 * comparison view: objects only in `after` are new, only in `before` freed,
 * in both surviving. Grouped per constructor and, when the snapshots have
 * allocation traces, per allocation site.
 *
 * @throws DifferentProcessesError when the shared ids show two processes,
 *   unless `options.allowDifferentProcesses`.
 */
export function diffSnapshots(before: HeapSnapshot, after: HeapSnapshot, options?: DiffOptions): SnapshotDiff {
  if (!options?.allowDifferentProcesses) {
    const { shared, mismatched } = compareIds(before, after);
    // A few renamed objects are normal; the measured gap is 0% against 80%+.
    if (shared >= 100 && mismatched * 2 > shared) throw new DifferentProcessesError(shared, mismatched);
  }
  const reachableOnly = options?.reachableOnly ?? true;
  const distA = reachableOnly ? before.distances() : null;
  const distB = reachableOnly ? after.distances() : null;
  const a = before.ids();
  const b = after.ids();
  const byName = new Map<string, ConstructorDiff>();
  const traced = before.hasAllocationTraces || after.hasAllocationTraces;
  const bySite = new Map<string, SiteDiff>();
  const siteCacheA = new Map<number, SiteDiff>();
  const siteCacheB = new Map<number, SiteDiff>();
  const totals = emptyEntry();

  const entryFor = (snap: HeapSnapshot, k: number): ConstructorDiff => {
    const name = snap.className(k);
    let e = byName.get(name);
    if (!e) byName.set(name, (e = { name, ...emptyEntry() }));
    return e;
  };
  const siteFor = (snap: HeapSnapshot, k: number, cache: Map<number, SiteDiff>): SiteDiff => {
    const t = snap.traceNodeId(k);
    let s = cache.get(t);
    if (s) return s;
    const frames = snap.allocationFrames(t);
    const key = frameKey(frames);
    s = bySite.get(key);
    if (!s) bySite.set(key, (s = { key, frames, ...emptyEntry() }));
    cache.set(t, s);
    return s;
  };
  const live = (dist: Uint32Array | null, snap: HeapSnapshot, k: number): boolean =>
    k !== snap.rootIndex && (dist === null || dist[k] !== NO_DISTANCE);

  const add = (k: number): void => {
    const size = after.selfSize(k);
    for (const e of traced ? [entryFor(after, k), totals, siteFor(after, k, siteCacheB)] : [entryFor(after, k), totals]) {
      e.added++;
      e.addedSize += size;
    }
  };
  const remove = (k: number): void => {
    const size = before.selfSize(k);
    for (const e of traced ? [entryFor(before, k), totals, siteFor(before, k, siteCacheA)] : [entryFor(before, k), totals]) {
      e.removed++;
      e.removedSize += size;
    }
  };
  const survive = (k: number): void => {
    const size = after.selfSize(k);
    for (const e of traced ? [entryFor(after, k), totals, siteFor(after, k, siteCacheB)] : [entryFor(after, k), totals]) {
      e.surviving++;
      e.survivingSize += size;
    }
  };

  // Merge the two id-sorted lists.
  let i = 0;
  let j = 0;
  const na = a.ids.length;
  const nb = b.ids.length;
  while (i < na || j < nb) {
    const idA = i < na ? a.ids[i] : Infinity;
    const idB = j < nb ? b.ids[j] : Infinity;
    if (idA < idB) {
      const k = a.ordinals[i++];
      if (live(distA, before, k)) remove(k);
    } else if (idB < idA) {
      const k = b.ordinals[j++];
      if (live(distB, after, k)) add(k);
    } else {
      const ka = a.ordinals[i++];
      const kb = b.ordinals[j++];
      const inA = live(distA, before, ka);
      const inB = live(distB, after, kb);
      if (inA && inB) survive(kb);
      else if (inA) remove(ka);
      else if (inB) add(kb);
    }
  }
  const finish = <T extends DiffEntry>(e: T): T => {
    e.countDelta = e.added - e.removed;
    e.sizeDelta = e.addedSize - e.removedSize;
    return e;
  };
  const order = (x: DiffEntry, y: DiffEntry): number => Math.abs(y.sizeDelta) - Math.abs(x.sizeDelta) || y.added + y.removed - (x.added + x.removed);
  return {
    byConstructor: [...byName.values()].map(finish).filter((e) => e.added || e.removed).sort(order),
    bySite: [...bySite.values()].map(finish).filter((e) => e.added || e.removed).sort(order),
    totals: finish(totals),
  };
}

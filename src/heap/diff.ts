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
 */
export function diffSnapshots(before: HeapSnapshot, after: HeapSnapshot, options?: DiffOptions): SnapshotDiff {
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

import type { Traceback } from '../model/index.js';

/**
 * The site of a traceback: its most recent frame. One line can be reached by
 * several stacks (inlined frames, the first call versus later ones), which
 * would split its growth; the site's series sums them all.
 */
export function siteKey(traceback: Traceback): string {
  return traceback.frames.at(-1)!.key;
}

interface Entry {
  /** The traceback with the most live objects at the last snapshot that saw the site. */
  traceback: Traceback;
  best: { count: number; at: number };
  counts: number[];
  sizes: number[];
}

/** Live count and bytes of each allocation site, one value per snapshot. */
export class SiteSeries {
  private readonly sites = new Map<string, Entry>();
  private snapshots = 0;

  /** Record one snapshot: every traceback's live count and bytes (absent sites count 0). */
  add(perTraceback: Iterable<{ traceback: Traceback; count: number; size: number }>): void {
    const at = this.snapshots++;
    for (const { traceback, count, size } of perTraceback) {
      const key = siteKey(traceback);
      let entry = this.sites.get(key);
      if (!entry) {
        entry = { traceback, best: { count, at }, counts: new Array<number>(at).fill(0), sizes: new Array<number>(at).fill(0) };
        this.sites.set(key, entry);
      }
      if (entry.counts.length === at) {
        entry.counts.push(0);
        entry.sizes.push(0);
      }
      entry.counts[at] += count;
      entry.sizes[at] += size;
      if (entry.best.at !== at || count > entry.best.count) {
        entry.traceback = traceback;
        entry.best = { count, at };
      }
    }
    for (const entry of this.sites.values()) {
      if (entry.counts.length === at) {
        entry.counts.push(0);
        entry.sizes.push(0);
      }
    }
  }

  get size(): number {
    return this.sites.size;
  }

  entries(): IterableIterator<{ traceback: Traceback; counts: number[]; sizes: number[] }> {
    return this.sites.values();
  }
}

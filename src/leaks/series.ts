import type { Traceback } from '../model/index.js';

/** Live count and bytes of each allocation site, one value per snapshot. */
export class SiteSeries {
  private readonly sites = new Map<string, { traceback: Traceback; counts: number[]; sizes: number[] }>();
  private snapshots = 0;

  /** Record one snapshot: every site's live count and bytes (absent sites count 0). */
  add(perSite: Iterable<{ traceback: Traceback; count: number; size: number }>): void {
    const at = this.snapshots++;
    for (const { traceback, count, size } of perSite) {
      let entry = this.sites.get(traceback.key);
      if (!entry) {
        entry = { traceback, counts: new Array<number>(at).fill(0), sizes: new Array<number>(at).fill(0) };
        this.sites.set(traceback.key, entry);
      }
      if (entry.counts.length === at) {
        entry.counts.push(0);
        entry.sizes.push(0);
      }
      entry.counts[at] += count;
      entry.sizes[at] += size;
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

/**
 * Node ordinals sorted by node id, for id lookups and for matching two
 * snapshots by id. Built by a two-pass LSD radix sort (16 bits per pass): linear
 * time, no comparator calls, which matters at ten million nodes.
 */
export interface IdIndex {
  /** Node ids in ascending order. */
  ids: Uint32Array;
  /** ordinals[i] is the node whose id is ids[i]. */
  ordinals: Uint32Array;
}

export function buildIdIndex(nodeId: Uint32Array): IdIndex {
  const n = nodeId.length;
  let keys = new Uint32Array(nodeId);
  let vals = new Uint32Array(n);
  for (let i = 0; i < n; i++) vals[i] = i;
  let keys2 = new Uint32Array(n);
  let vals2 = new Uint32Array(n);
  const counts = new Uint32Array(65536);
  for (let shift = 0; shift < 32; shift += 16) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const pos = counts[(keys[i] >>> shift) & 0xffff]++;
      keys2[pos] = keys[i];
      vals2[pos] = vals[i];
    }
    [keys, keys2] = [keys2, keys];
    [vals, vals2] = [vals2, vals];
  }
  return { ids: keys, ordinals: vals };
}

/** Index in `ids` of `id`, or -1. */
export function findId(index: IdIndex, id: number): number {
  const ids = index.ids;
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid];
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

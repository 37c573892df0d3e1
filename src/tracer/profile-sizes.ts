/**
 * Recovering object sizes from V8's sampling heap profile.
 *
 * The protocol never reports a sampled object's own size. Each sample's
 * `size` is already scaled: s × k with k = round(1 / p(s)), where
 * p(s) = 1 - exp(-s / interval) is the chance that an object of s bytes is
 * sampled (88 B × 745 = 65560 B at a 64 KiB interval). Several (s, k) pairs
 * fit one reported value, so the sample alone cannot give object counts.
 * A profile node's `selfSize` is computed differently, per size class:
 * about Σ s × round(n / p(s)) over the n samples of each size, and that
 * second rounding points at the true sizes when a node has many samples
 * of a size.
 */

/** Probability that V8 samples an object of `size` bytes. */
export function sampleProbability(size: number, interval: number): number {
  return -Math.expm1(-size / interval);
}

function scaledCount(samples: number, size: number, interval: number): number {
  return Math.floor(samples / sampleProbability(size, interval) + 0.5);
}

const candidatesCache = new Map<string, number[]>();

/**
 * Object sizes consistent with one reported sample size: s divides it,
 * s is 8-byte aligned (heap objects are, in Node's builds without pointer
 * compression), and round(1/p(s)) = reported / s.
 */
export function sizeCandidates(reported: number, interval: number): number[] {
  const key = `${reported}/${interval}`;
  const cached = candidatesCache.get(key);
  if (cached) return cached;
  const found: number[] = [];
  const maxScale = Math.max(1, Math.min(Math.floor(reported / 4), Math.ceil(interval / 4) + 1));
  for (let k = 1; k <= maxScale; k++) {
    if (reported % k !== 0) continue;
    const size = reported / k;
    if (k !== 1 && size % 8 !== 0) continue;
    if (scaledCount(1, size, interval) === k) found.push(size);
  }
  if (found.length === 0) found.push(reported);
  candidatesCache.set(key, found);
  return found;
}

const MAX_COMBINATIONS = 4096;

/**
 * The object size behind each distinct reported sample size of one profile
 * node: the combination of candidates whose predicted `selfSize` comes
 * closest to the one V8 reported (V8's own total can differ from the
 * prediction by a few objects, so the closest, not an exact match, wins).
 * Ties, as with a single sample, go to the smallest candidate, the common
 * case for JavaScript objects; counts there are rough, and the error bounds
 * say so.
 */
export function resolveSizes(groups: Map<number, number>, selfSize: number, interval: number): Map<number, number> {
  const entries = [...groups].map(([reported, samples]) => ({ reported, samples, options: sizeCandidates(reported, interval) }));
  // Candidates come largest first; try the smallest first so ties keep it.
  for (const e of entries) e.options = [...e.options].sort((x, y) => x - y);
  const combinations = entries.reduce((n, e) => n * e.options.length, 1);
  const chosen = new Map<number, number>();
  if (combinations > MAX_COMBINATIONS) {
    for (const e of entries) chosen.set(e.reported, e.options[0]);
    return chosen;
  }
  let best = Infinity;
  let bestPick: number[] = entries.map(() => 0);
  const pick = new Array<number>(entries.length).fill(0);
  for (let c = 0; c < combinations; c++) {
    let rest = c;
    let total = 0;
    for (let i = 0; i < entries.length; i++) {
      pick[i] = rest % entries[i].options.length;
      rest = Math.floor(rest / entries[i].options.length);
      const size = entries[i].options[pick[i]];
      total += size * scaledCount(entries[i].samples, size, interval);
    }
    const miss = Math.abs(total - selfSize);
    if (miss < best) {
      best = miss;
      bestPick = [...pick];
    }
  }
  entries.forEach((e, i) => chosen.set(e.reported, e.options[bestPick[i]]));
  return chosen;
}

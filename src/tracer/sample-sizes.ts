/**
 * Recovering object sizes from V8's sampling heap profile.
 *
 * The protocol never reports a sampled object's own size. Each sample's
 * `size` is already scaled: s × k with k = round(1 / p(s)), where
 * p(s) = 1 - exp(-s / interval) is the chance that an object of s bytes is
 * sampled (88 B × 745 = 65560 B at a 64 KiB interval). Several (s, k) pairs
 * fit one reported value, so the sample alone cannot give object counts.
 * A profile node's `selfSize` is computed differently, per size class:
 * Σ s × floor(n × 1/p(s) + 0.5) over the n samples of each size, and that
 * second rounding singles out the true sizes whenever a node has two or
 * more samples of a size.
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
 * s is 4-byte aligned (heap objects are), and round(1/p(s)) = reported / s.
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
    if (k !== 1 && size % 4 !== 0) continue;
    if (scaledCount(1, size, interval) === k) found.push(size);
  }
  if (found.length === 0) found.push(reported);
  candidatesCache.set(key, found);
  return found;
}

const MAX_COMBINATIONS = 4096;

/**
 * The object size behind each distinct reported sample size of one profile
 * node, chosen so that the node's `selfSize` comes out as V8 computed it.
 * Where the check cannot decide (one sample, or too many combinations),
 * the 8-byte aligned candidate nearest to the geometric middle of the
 * candidates is taken: counts there are rough, and the error bounds say so.
 */
export function resolveSizes(groups: Map<number, number>, selfSize: number, interval: number): Map<number, number> {
  const entries = [...groups].map(([reported, samples]) => ({ reported, samples, options: sizeCandidates(reported, interval) }));
  const combinations = entries.reduce((n, e) => n * e.options.length, 1);
  const chosen = new Map<number, number>();
  if (combinations <= MAX_COMBINATIONS) {
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
      if (total === selfSize && entries.some((e) => e.samples > 1 || e.options.length === 1)) {
        entries.forEach((e, i) => chosen.set(e.reported, e.options[pick[i]]));
        return chosen;
      }
    }
  }
  for (const e of entries) chosen.set(e.reported, middleCandidate(e.options));
  return chosen;
}

function middleCandidate(options: number[]): number {
  const aligned = options.filter((s) => s % 8 === 0);
  const pool = aligned.length > 0 ? aligned : options;
  const middle = Math.sqrt(pool[0] * pool[pool.length - 1]);
  return pool.reduce((best, s) => (Math.abs(Math.log(s / middle)) < Math.abs(Math.log(best / middle)) ? s : best));
}

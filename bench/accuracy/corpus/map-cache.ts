/**
 * A memoising cache: keys are built by a small helper, values computed on a
 * miss by another; both helpers get inlined into the lookup, which is
 * inlined into the request loop.
 */
interface Price {
  sku: string;
  amount: number;
  currency: string;
  history: number[];
}

const cache = new Map<string, Price>();
export const kept = { cacheKey: () => cache.keys(), compute: () => cache.values() };
export const grown = { cache };

function cacheKey(region: number, sku: number): string {
  return 'r' + region + ':' + sku; // @site cacheKey
}

function compute(sku: number): Price {
  // Its own string, not the key, which on V8 14 is the original the Map copied (sites.ts, @key).
  return { sku: 'sku-' + sku, amount: sku * 1.25, currency: 'EUR', history: [sku, sku + 1, sku + 2] }; // @site compute
}

function lookup(region: number, sku: number): Price {
  const key = cacheKey(region, sku);
  let hit = cache.get(key); // @key cacheKey
  if (hit === undefined) {
    hit = compute(sku);
    cache.set(key, hit); // @store cache
  }
  return hit;
}

export function run(n: number): number {
  let total = 0;
  // Every key is asked for twice: the second lookup hits the cache.
  for (let i = 0; i < 2 * n; i++) total += lookup(i % 4, i >> 1).amount;
  return total;
}

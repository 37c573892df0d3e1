import http from 'node:http';

/** Builds many small objects, arrays and strings, keeping a rolling window alive. */
export function allocationHeavy(rounds = 2_000_000): number {
  const window: unknown[] = new Array(10_000);
  let checksum = 0;
  for (let i = 0; i < rounds; i++) {
    const item = { id: i, name: 'item-' + i, tags: [i & 7, i & 15], nested: { at: i * 2 } };
    window[i % window.length] = item;
    checksum += item.tags.length + item.name.length;
  }
  return checksum;
}

/**
 * A memoising cache keyed by built strings: each round builds a key, looks
 * it up and, on a miss, stores a small record; a rolling window of keys
 * is evicted. Line mode's worst case for key sites: a Map operation on a
 * fresh string per allocation.
 */
export function keyedCache(rounds = 1_000_000): number {
  const cache = new Map<string, { n: number }>();
  let checksum = 0;
  for (let i = 0; i < rounds; i++) {
    const key = 'k' + (i % 50_000) + ':' + (i & 3);
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = { n: i };
      cache.set(key, hit);
    }
    checksum += hit.n & 1;
    if (cache.size > 40_000) cache.delete('k' + ((i + 1) % 50_000) + ':' + ((i + 1) & 3));
  }
  return checksum;
}

const catalog = JSON.stringify(
  Array.from({ length: 200 }, (_, i) => ({ sku: `sku-${i}`, price: i * 1.5, stock: i % 13, labels: ['a', 'b', String(i)] })),
);

/**
 * A loopback HTTP service: each request parses a JSON catalogue, filters
 * and reshapes it, and answers JSON; the client keeps one socket alive.
 */
export async function httpService(requests = 3000): Promise<number> {
  const server = http.createServer((req, res) => {
    const items = JSON.parse(catalog) as Array<{ sku: string; price: number; stock: number }>;
    const inStock = items.filter((x) => x.stock > 0).map((x) => ({ sku: x.sku, total: x.price * x.stock }));
    const body = JSON.stringify({ path: req.url, count: inStock.length, items: inStock.slice(0, 20) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let bytes = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: `/items?page=${i}`, agent }, (res) => {
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  const lanes = 4;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < requests; i += lanes) await one(i);
    }),
  );
  agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bytes;
}

// The app of bench/attach.ts: an Express service whose GET /catalog builds a
// JSON page per request and keeps one page in fifty, a slow leak. Run as
// plain `node`; prints its HTTP port as JSON.
import express from 'express';
import type { AddressInfo } from 'node:net';

const kept: unknown[] = [];

function catalogPage(page: number): Array<{ id: number; name: string; price: number; tags: string[] }> {
  const items = [];
  for (let i = 0; i < 100; i++) items.push({ id: page * 100 + i, name: `item-${page}-${i}`, price: (i * 7) % 100, tags: ['a', `t${i % 5}`] });
  return items;
}

let pages = 0;
const app = express();
app.get('/catalog', (_req, res) => {
  const items = catalogPage(pages++);
  if (pages % 50 === 0) kept.push(items);
  res.json(items);
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});

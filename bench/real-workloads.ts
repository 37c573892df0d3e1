/**
 * Workloads built on real packages, for benchmarks that need JIT-compiled
 * library code rather than a hand-written loop: an Express app under
 * keep-alive load, acorn parsing real library files, the TypeScript compiler
 * transpiling this project's sources, and JSON-heavy data reshaping. Each is
 * cut into rounds of roughly equal work so that a caller can warm up, time
 * a steady state, and watch the speed per round after a disturbance.
 *
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocationHeavy, httpService } from './workloads.js';

/** Work cut into rounds; `close` releases whatever `round` keeps open (servers, sockets). */
export interface RoundWorkload {
  round(): unknown;
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// A round that takes this long means a hung server or client: fail the child instead of waiting.
const ROUND_LIMIT_MS = 60_000;

/** The overhead benchmark's allocation loop, 200k objects a round. */
function alloc(): RoundWorkload {
  return { round: () => allocationHeavy(200_000), close: async () => {} };
}

/** The overhead benchmark's loopback JSON service, 300 requests (and one server) a round. */
function httpJson(): RoundWorkload {
  return { round: () => httpService(300), close: async () => {} };
}

// ---------------------------------------------------------------- Express

interface Product {
  id: number;
  sku: string;
  name: string;
  category: string;
  price: number;
  stock: number;
  tags: string[];
  description: string;
}

const CATEGORIES = ['books', 'garden', 'kitchen', 'toys', 'tools', 'music'];

function products(n: number): Product[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    sku: `SKU-${(i * 7919) % 100000}`,
    name: `Product <${i}> & co`,
    category: CATEGORIES[i % CATEGORIES.length],
    price: Math.round(((i * 37) % 500) * 100 + 99) / 100,
    stock: (i * 13) % 40,
    tags: [`t${i % 5}`, `t${i % 11}`],
    description: `A description of product ${i}, long enough to be realistic. `.repeat(3),
  }));
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

function productPage(p: Product, related: Product[]): string {
  const items = related.map((r) => `<li><a href="/products/${r.id}">${escapeHtml(r.name)}</a> ${r.price.toFixed(2)} €</li>`).join('\n');
  return `<!doctype html><html><head><title>${escapeHtml(p.name)}</title></head><body>
<h1>${escapeHtml(p.name)}</h1><p class="sku">${p.sku}</p><p>${escapeHtml(p.description)}</p>
<p class="price">${p.price.toFixed(2)} €</p><p>${p.stock > 0 ? `${p.stock} in stock` : 'sold out'}</p>
<ul class="tags">${p.tags.map((t) => `<li>${escapeHtml(t)}</li>`).join('')}</ul>
<h2>Related</h2><ul>${items}</ul></body></html>`;
}

interface OrderLine {
  sku: string;
  qty: number;
}

/**
 * An Express 5 app on 127.0.0.1: request-id and token middleware, JSON body
 * parsing, a filtered and paginated catalogue, an item lookup, order
 * validation and pricing, and an HTML page from a template; a client of
 * Node's own http with a keep-alive agent sends 200 requests a round (four
 * kinds in turn, four at a time).
 */
async function expressApp(): Promise<RoundWorkload> {
  const { default: express } = await import('express');
  const catalog = products(2000);
  const bySku = new Map(catalog.map((p) => [p.sku, p]));
  const app = express();
  let nextId = 0;
  app.use((req, res, next) => {
    res.setHeader('x-request-id', `req-${++nextId}`);
    next();
  });
  app.use('/api', (req, res, next) => {
    if (req.get('authorization') !== 'Bearer bench-token') res.status(401).json({ error: 'unauthorized' });
    else next();
  });
  app.use(express.json({ limit: '100kb' }));
  app.get('/api/products', (req, res) => {
    const category = String(req.query.category ?? '');
    const page = Math.max(0, Number(req.query.page ?? 0));
    const sort = req.query.sort === 'price' ? 'price' : 'name';
    const hits = catalog.filter((p) => (category === '' || p.category === category) && p.stock > 0);
    hits.sort(sort === 'price' ? (a, b) => a.price - b.price : (a, b) => a.name.localeCompare(b.name));
    const items = hits.slice(page * 20, page * 20 + 20).map(({ id, sku, name, price }) => ({ id, sku, name, price }));
    res.json({ category, page, total: hits.length, items });
  });
  app.get('/api/products/:id', (req, res) => {
    const p = catalog[Number(req.params.id)];
    if (p === undefined) res.status(404).json({ error: 'not found' });
    else res.json(p);
  });
  app.post('/api/orders', (req, res) => {
    const body = req.body as { customer?: { email?: string }; lines?: OrderLine[] };
    const lines = Array.isArray(body.lines) ? body.lines : [];
    const errors: string[] = [];
    if (typeof body.customer?.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.customer.email)) errors.push('customer.email');
    const priced = lines.map((l, i) => {
      const p = bySku.get(l.sku);
      if (p === undefined || !Number.isInteger(l.qty) || l.qty <= 0) errors.push(`lines[${i}]`);
      return { sku: l.sku, qty: l.qty, unit: p?.price ?? 0, amount: Math.round((p?.price ?? 0) * l.qty * 100) / 100 };
    });
    if (errors.length > 0) {
      res.status(422).json({ errors });
      return;
    }
    const net = priced.reduce((s, l) => s + l.amount, 0);
    res.status(201).json({ id: `ord-${nextId}`, lines: priced, net, vat: Math.round(net * 20) / 100, total: Math.round(net * 120) / 100 });
  });
  app.get('/products/:id', (req, res) => {
    const p = catalog[Number(req.params.id)];
    if (p === undefined) {
      res.status(404).send('not found');
      return;
    }
    const related = catalog.filter((r) => r.category === p.category && r.id !== p.id).slice(0, 12);
    res.type('html').send(productPage(p, related));
  });

  const server = http.createServer(app);
  // Idle keep-alive sockets must outlive a caller's pause between rounds (a GC-heavy setup takes seconds):
  // a server closing one as the client reuses it resets the request.
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const headers = { authorization: 'Bearer bench-token' };
  let counter = 0;

  function request(i: number): Promise<number> {
    const kind = i % 4;
    const order = JSON.stringify({
      customer: { email: `buyer${i}@example.test`, name: `Buyer ${i}` },
      lines: Array.from({ length: 1 + (i % 6) }, (_, k) => ({ sku: catalog[(i * 31 + k * 17) % catalog.length].sku, qty: 1 + (k % 3) })),
    });
    const options: http.RequestOptions =
      kind === 0
        ? { path: `/api/products?category=${CATEGORIES[i % CATEGORIES.length]}&page=${i % 5}&sort=${i % 2 ? 'price' : 'name'}`, headers }
        : kind === 1
          ? { path: `/api/products/${(i * 97) % catalog.length}`, headers }
          : kind === 2
            ? { method: 'POST', path: '/api/orders', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(order) } }
            : { path: `/products/${(i * 53) % catalog.length}` };
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, agent, ...options }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => (res.statusCode === 200 || res.statusCode === 201 ? resolve(bytes) : reject(new Error(`status ${res.statusCode} for ${options.path}`))));
      });
      req.setTimeout(ROUND_LIMIT_MS, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(kind === 2 ? order : undefined);
    });
  }

  return {
    async round() {
      const deadline = Date.now() + ROUND_LIMIT_MS;
      const requests = 200;
      const first = counter;
      counter += requests;
      let bytes = 0;
      await Promise.all(
        Array.from({ length: 4 }, async (_, lane) => {
          for (let i = lane; i < requests && Date.now() < deadline; i += 4) bytes += await request(first + i);
        }),
      );
      if (Date.now() >= deadline) throw new Error('express round ran out of time');
      return bytes;
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------- acorn

/** acorn parsing two real library files (about 0.55 MB) a round, with locations, and walking each tree. */
async function acornParse(): Promise<RoundWorkload> {
  const acorn = await import('acorn');
  const files = (
    [
      ['acorn/dist/acorn.js', 'script'],
      ['protobufjs/dist/protobuf.js', 'script'],
    ] as const
  ).map(([f, sourceType]) => ({ text: readFileSync(join(ROOT, 'node_modules', f), 'utf8'), sourceType }));
  // A generic walk over every child node, as linters and bundlers do.
  const count = (node: unknown, kinds: Map<string, number>): void => {
    if (Array.isArray(node)) for (const n of node) count(n, kinds);
    else if (node !== null && typeof node === 'object' && typeof (node as { type?: unknown }).type === 'string') {
      const type = (node as { type: string }).type;
      kinds.set(type, (kinds.get(type) ?? 0) + 1);
      for (const key in node) if (key !== 'loc') count((node as Record<string, unknown>)[key], kinds);
    }
  };
  return {
    round() {
      const kinds = new Map<string, number>();
      for (const f of files) count(acorn.parse(f.text, { ecmaVersion: 'latest', sourceType: f.sourceType, locations: true }), kinds);
      return kinds.size;
    },
    close: async () => {},
  };
}

// ---------------------------------------------------------------- TypeScript

/** The TypeScript compiler's transpileModule (parse, transform, emit with source maps) over this project's src/model and src/report, about 150 kB. */
async function tscTranspile(): Promise<RoundWorkload> {
  const { default: ts } = await import('typescript');
  const dirs = ['src/model', 'src/report'].map((d) => join(ROOT, d));
  const sources = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ name: join(d, f), text: readFileSync(join(d, f), 'utf8') })),
  );
  const compilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, sourceMap: true, strict: true };
  return {
    round() {
      let out = 0;
      for (const s of sources) out += ts.transpileModule(s.text, { compilerOptions, fileName: s.name }).outputText.length;
      return out;
    },
    close: async () => {},
  };
}

// ---------------------------------------------------------------- JSON

interface Order {
  id: string;
  customer: { id: number; country: string };
  placedAt: string;
  lines: Array<{ sku: string; qty: number; price: number }>;
  status: string;
}

/**
 * A reporting job over a JSON export: JSON.parse a 2.6 MB document of orders,
 * group by country and customer through small helpers, and JSON.stringify
 * a summary with a replacer plus a re-serialised, filtered copy.
 */
function jsonReshape(): RoundWorkload {
  const countries = ['FR', 'DE', 'US', 'JP', 'BR', 'IN', 'NG'];
  const statuses = ['paid', 'shipped', 'refunded', 'pending'];
  const orders: Order[] = Array.from({ length: 12_000 }, (_, i) => ({
    id: `o-${i}`,
    customer: { id: (i * 7) % 700, country: countries[i % countries.length] },
    placedAt: new Date(1_700_000_000_000 + i * 3_600_000).toISOString(),
    lines: Array.from({ length: 1 + (i % 4) }, (_, k) => ({ sku: `s${(i + k) % 300}`, qty: 1 + ((i + k) % 5), price: ((i * 13 + k) % 900) / 10 })),
    status: statuses[i % statuses.length],
  }));
  const text = JSON.stringify(orders);
  const lineTotal = (l: { qty: number; price: number }): number => l.qty * l.price;
  const orderTotal = (o: Order): number => o.lines.reduce((s, l) => s + lineTotal(l), 0);
  const month = (iso: string): string => iso.slice(0, 7);
  return {
    round() {
      const parsed = JSON.parse(text) as Order[];
      const byCountry = new Map<string, { orders: number; revenue: number; customers: Set<number>; months: Record<string, number> }>();
      for (const o of parsed) {
        if (o.status === 'refunded') continue;
        let g = byCountry.get(o.customer.country);
        if (g === undefined) byCountry.set(o.customer.country, (g = { orders: 0, revenue: 0, customers: new Set(), months: {} }));
        const total = orderTotal(o);
        g.orders++;
        g.revenue += total;
        g.customers.add(o.customer.id);
        g.months[month(o.placedAt)] = (g.months[month(o.placedAt)] ?? 0) + total;
      }
      const summary = JSON.stringify(
        [...byCountry].map(([country, g]) => ({ country, orders: g.orders, revenue: g.revenue, customers: g.customers.size, months: g.months })),
        (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v),
      );
      const pending = JSON.stringify(parsed.filter((o) => o.status === 'pending'));
      return summary.length + pending.length;
    },
    close: async () => {},
  };
}

/** The workloads by name. */
export const ROUND_WORKLOADS = {
  alloc: async () => alloc(),
  http: async () => httpJson(),
  express: expressApp,
  acorn: acornParse,
  tsc: tscTranspile,
  json: async () => jsonReshape(),
} satisfies Record<string, () => Promise<RoundWorkload>>;

/** One of {@link ROUND_WORKLOADS}' names. */
export type RoundWorkloadName = keyof typeof ROUND_WORKLOADS;

/**
 * A request handler as a service writes it: parse the query, validate,
 * build a domain object through a few small helpers, keep sessions and an
 * audit trail, answer with JSON. Helpers are inlined into `handle`, which
 * is inlined into the dispatch loop.
 */
interface Request {
  method: string;
  path: string;
  query: string;
}
interface Cart {
  user: string;
  items: Array<{ sku: number; qty: number }>;
  createdAt: number;
}
interface AuditEntry {
  at: number;
  user: string;
  action: string;
  detail: string;
}

const carts = new Map<string, Cart>();
const audit: AuditEntry[] = [];
export const kept = { userOf: () => carts.keys(), newCart: () => carts.values(), auditEntry: audit };
export const grown = { carts, audit };

function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

function userOf(params: Map<string, string>): string {
  return 'user-' + (params.get('u') ?? 'anon'); // @site userOf
}

function newCart(user: string, sku: number, now: number): Cart {
  return { user, items: [{ sku, qty: 1 }], createdAt: now }; // @site newCart
}

function auditEntry(user: string, action: string, sku: number, now: number): AuditEntry {
  return { at: now, user, action, detail: `sku=${sku};ts=${now}` }; // @site auditEntry
}

function handle(req: Request, now: number): string {
  const params = parseQuery(req.query);
  const sku = Number(params.get('sku'));
  if (!Number.isFinite(sku)) return JSON.stringify({ error: 'bad sku' });
  const user = userOf(params);
  let cart = carts.get(user); // @key userOf
  if (cart === undefined) {
    cart = newCart(user, sku, now);
    carts.set(user, cart); // @store carts
  }
  if (sku % 8 === 0) audit.push(auditEntry(cart.user, req.method, sku, now)); // @store audit
  return JSON.stringify({ ok: true, user, items: cart.items.length });
}

export function run(n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const req: Request = { method: i % 5 ? 'GET' : 'POST', path: '/cart', query: `u=${i % (n >> 1)}&sku=${i}` };
    bytes += handle(req, 1_700_000_000_000 + i).length;
  }
  return bytes;
}

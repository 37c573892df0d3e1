/**
 * Messages arrive as JSON text; the parsed documents of orders are kept,
 * with a summary object built by a small helper that V8 inlines.
 */
interface Order {
  id: number;
  customer: { name: string; tier: string };
  lines: Array<{ sku: string; qty: number }>;
}

const orders: Order[] = [];
const summaries: Array<{ id: number; items: number; big: boolean }> = [];
export const kept = { parse: orders, summarise: summaries };
export const grown = { orders, summaries };

function encode(i: number): string {
  return JSON.stringify({ id: i, customer: { name: 'c' + (i % 100), tier: i % 3 ? 'std' : 'gold' }, lines: [{ sku: 's' + (i % 7), qty: i % 4 }] });
}

function summarise(o: Order): { id: number; items: number; big: boolean } {
  return { id: o.id, items: o.lines.length, big: o.lines[0].qty > 2 }; // @site summarise
}

function receive(text: string): void {
  const order = JSON.parse(text) as Order; // @site parse
  if (order.id % 2 === 0) {
    orders.push(order); // @store orders
    summaries.push(summarise(order)); // @store summaries
  }
}

export function run(n: number): number {
  for (let i = 0; i < n; i++) receive(encode(i));
  return orders.length;
}

/**
 * Array pipelines: `map` and `filter` with arrow callbacks, which V8 inlines
 * together with the built-ins into the caller. Every fourth page's view is
 * kept (a page cache), and its rows are indexed by id.
 */
interface Row {
  id: number;
  price: number;
  qty: number;
}
interface View {
  id: number;
  total: number;
  label: string;
}

const pages: View[][] = [];
const byId = new Map<number, View>();
export const kept = { toView: pages, row: () => byId.values() };
export const grown = { pages, byId };

function toView(rows: Row[]): View[] {
  const inStock = rows.filter((r) => r.qty > 0);
  return inStock.map((r) => { // @site toView
    return { id: r.id, total: r.price * r.qty, label: 'item ' + r.id }; // @site row
  });
}

function index(view: View[]): void {
  for (const v of view) byId.set(v.id, v); // @store byId
}

export function run(n: number): number {
  const rows: Row[] = [];
  for (let i = 0; i < 16; i++) rows.push({ id: i, price: 1 + i, qty: i % 5 });
  let count = 0;
  for (let page = 0; page < n / 16; page++) {
    for (let i = 0; i < 16; i++) rows[i].id = page * 16 + i;
    const view = toView(rows);
    count += view.length;
    if (page % 4 !== 0) continue;
    pages.push(view); // @store pages
    index(view);
  }
  return count;
}

/**
 * Log lines and CSV rows built from template literals, concatenation and
 * join, by small formatting helpers that V8 inlines into the loop.
 */
interface Event {
  at: number;
  user: number;
  kind: string;
}

const lines: string[] = [];
const rows: string[] = [];
const tags: string[] = [];
export const kept = { formatLine: lines, csvRow: rows, tagList: tags };
export const grown = { lines, rows, tags };

const KINDS = ['login', 'logout', 'view', 'click'];
const START = 1_600_000_000;

function formatLine(e: Event): string {
  return `[${e.at}] user=${e.user} kind=${e.kind}`; // @site formatLine
}

function csvRow(e: Event): string {
  // Seconds since the service started: not the numbers formatLine printed, whose strings V8 caches and shares.
  let row = String(e.at - START); // @site csvRow
  row += ',' + e.user; // @site csvRow
  row += ',' + e.kind; // @site csvRow
  return row;
}

function tagList(e: Event): string {
  return [e.kind, 'u' + e.user, 't' + (e.at % 60)].join('|'); // @site tagList
}

export function run(n: number): number {
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const e: Event = { at: 1_700_000_000 + i, user: i % 1000, kind: KINDS[i % 4] };
    const line = formatLine(e);
    chars += line.length;
    if (i % 2 === 0) lines.push(line); // @store lines
    if (i % 3 === 0) rows.push(csvRow(e)); // @store rows
    if (i % 4 === 0) tags.push(tagList(e)); // @store tags
  }
  return chars;
}

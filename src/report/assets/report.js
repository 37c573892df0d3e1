/**
 * The browser side of the HTML report, an ES module in plain JavaScript.
 *
 * `html.ts` inlines it into the page as `<script type="module">`, with the
 * model's size formatter in place of the import below, so the page prints
 * sizes exactly as `tracemalloc top` does. Node tests import it as it is and
 * test the pure functions; `main` runs only where there is a `document`.
 *
 * It reads the JSON data block and builds everything with textContent and
 * DOM properties, never innerHTML: file and function names are untrusted.
 */
import { formatSize } from '../../model/format-size.js';

/**
 * An integer with thousands separators (`3,000`), `+` before non-negative
 * values when `sign` is set.
 * @param {number} n
 * @param {boolean} [sign]
 */
export function formatInteger(n, sign) {
  const text = Math.round(n).toLocaleString('en-US');
  return sign && n >= 0 ? `+${text}` : text;
}

/** @param {string} file */
export function baseName(file) {
  const i = file.lastIndexOf('/');
  return i >= 0 ? file.slice(i + 1) : file;
}

/** `file:line`, or '' for the root, which has no file. */
export function where(file, line) {
  return file ? `${file}:${line}` : '';
}

/** @param {string} name */
export function functionName(name) {
  return name || '(anonymous)';
}

/** A small string hash, for stable colours. */
export function hash(text) {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return Math.abs(h);
}

// ---- flame graph (icicle: callers on top, allocating frames below) ----

/** Each node of a flame tree mapped to its parent (the root has none). */
export function parentsOf(root) {
  const parents = new Map();
  const stack = [root];
  while (stack.length) {
    const n = stack.pop();
    for (const child of n.children) {
      parents.set(child, n);
      stack.push(child);
    }
  }
  return parents;
}

/**
 * The bars drawn when the graph is zoomed on `node`: its ancestors as full
 * width dimmed bars, then `node` at full width and its descendants scaled to
 * it. Bars narrower than 0.05% are left out, with their children.
 * `left` and `width` are percents, `depth` is the row.
 */
export function layoutFlame(node, parents) {
  const ancestors = [];
  for (let p = parents.get(node); p; p = parents.get(p)) ancestors.unshift(p);
  const bars = ancestors.map((n, depth) => ({ node: n, left: 0, width: 100, depth, dim: true }));
  const scale = node.value > 0 ? 100 / node.value : 0;
  const place = (n, left, depth) => {
    const width = n.value * scale;
    if (width < 0.05) return;
    bars.push({ node: n, left, width, depth, dim: false });
    let x = left;
    for (const child of n.children) {
      place(child, x, depth + 1);
      x += child.value * scale;
    }
  };
  place(node, 0, ancestors.length);
  const rows = bars.reduce((most, bar) => Math.max(most, bar.depth + 1), 0);
  return { bars, rows };
}

/** The text on a bar: `fn file.js:12`, or `all (label)` for the root. */
export function frameLabel(n, root, label) {
  return n === root ? `all (${label})` : `${functionName(n.name)} ${baseName(n.file)}:${n.line}`;
}

/** The tooltip of a bar. */
export function frameTitle(n, root) {
  const name = n === root ? 'all' : `${functionName(n.name)} at ${where(n.file, n.line)}`;
  return `${name} — ${formatSize(n.value)}, ${formatInteger(n.count)} objects`;
}

/** A bar's colour: blue for node_modules, yellow for Node's own code, warm hues for the program's. */
export function frameColor(n, dim) {
  const hue = n.file.includes('node_modules') ? 200 : n.file.startsWith('node:') ? 40 : 12 + (hash(n.file) % 40);
  return `hsl(${hue}, 70%, ${dim ? 82 : 62 + (hash(n.name) % 14)}%)`;
}

/** The rows of the details box of a clicked frame, as [title, text]. */
export function detailRows(n, root, label) {
  const isRoot = n === root;
  const total = root.value || 1;
  return [
    ['Function', isRoot ? 'all' : functionName(n.name)],
    ['Location', isRoot ? '' : where(n.file, n.line)],
    [label, `${formatSize(n.value)} (${((100 * n.value) / total).toFixed(1)}% of ${formatSize(root.value)})`],
    ['Objects', formatInteger(n.count)],
    ['Allocated here (self)', formatSize(n.self)],
  ];
}

// ---- sortable table ----

/** The most recent frame of a site, where it allocated. */
export function topFrame(site) {
  return site.frames[site.frames.length - 1] || { file: '', line: 0, function: '' };
}

/** Rows sorted by a column's value (text in locale order), largest first when `descending`; a new array. */
export function sortRows(rows, column, descending) {
  const dir = descending ? -1 : 1;
  return rows.slice().sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    return dir * (typeof x === 'string' ? x.localeCompare(y) : x - y);
  });
}

/**
 * The columns of the sites table and of the growth table. Each column has a
 * key, a title, a sort value and a text; `numeric` ones align right. Line
 * mode marks the rows that are V8's function starts rather than allocating
 * lines; sampling mode adds the 95% bounds.
 */
export function tableColumns(data) {
  const lineMode = data.lines.some((s) => s.frames.some((f) => f.atLine));
  const location = (s) => {
    const f = topFrame(s);
    return where(f.file, f.line);
  };
  const base = [
    { key: 'location', title: 'Location', value: location, text: location },
    {
      key: 'function',
      title: 'Function',
      value: (s) => topFrame(s).function,
      text: (s) => {
        const f = topFrame(s);
        return functionName(f.function) + (lineMode && !f.atLine ? ' (function start)' : '');
      },
    },
    { key: 'size', title: 'Size', numeric: true, value: (s) => s.size, text: (s) => formatSize(s.size) },
    { key: 'count', title: 'Count', numeric: true, value: (s) => s.count, text: (s) => formatInteger(s.count) },
    {
      key: 'average',
      title: 'Average',
      numeric: true,
      value: (s) => (s.count ? s.size / s.count : 0),
      text: (s) => (s.count ? formatSize(s.size / s.count) : ''),
    },
  ];
  const bounds = {
    key: 'bounds',
    title: '95% bounds',
    numeric: true,
    value: (s) => (s.estimate ? s.estimate.sizeHigh : 0),
    text: (s) => {
      if (!s.estimate) return '';
      const sign = s.sizeDiff !== undefined;
      return `${formatSize(s.estimate.sizeLow, sign)} … ${formatSize(s.estimate.sizeHigh, sign)}`;
    },
  };
  const diff = [
    base[0],
    base[1],
    { key: 'sizeDiff', title: 'Size change', numeric: true, value: (s) => s.sizeDiff, text: (s) => formatSize(s.sizeDiff, true) },
    { key: 'countDiff', title: 'Count change', numeric: true, value: (s) => s.countDiff, text: (s) => formatInteger(s.countDiff, true) },
    base[2],
    base[3],
  ];
  // Buffers' and ArrayBuffers' bytes outside the V8 heap, part of Size: a column only when there are any.
  const offHeap = { key: 'offHeap', title: 'Off-heap', numeric: true, value: (s) => s.offHeapSize || 0, text: (s) => (s.offHeapSize ? formatSize(s.offHeapSize) : '') };
  const offHeapDiff = { key: 'offHeapDiff', title: 'Off-heap change', numeric: true, value: (s) => s.offHeapSizeDiff || 0, text: (s) => (s.offHeapSizeDiff ? formatSize(s.offHeapSizeDiff, true) : '') };
  const anyOffHeap = data.lines.some((s) => s.offHeapSize > 0) || (data.diff?.lines ?? []).some((s) => s.offHeapSize > 0 || s.offHeapSizeDiff);
  const sites = anyOffHeap ? [...base, offHeap] : base;
  const diffs = anyOffHeap ? [...diff, offHeapDiff] : diff;
  const sampled = data.info.mode === 'sampling';
  return { sites: sampled ? [...sites, bounds] : sites, diff: sampled ? [...diffs, bounds] : diffs };
}

/** The column a table is first sorted by: size (or its change), largest first. */
export function initialSortKey(columns) {
  return columns[columns.length > 2 ? 2 : 0].key;
}

// ---- the page ----

function main(doc) {
  const data = JSON.parse(doc.getElementById('report-data').textContent);

  const el = (tag, attributes, text) => {
    const e = doc.createElement(tag);
    for (const [k, v] of Object.entries(attributes || {})) e.setAttribute(k, v);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };

  const tabs = doc.querySelectorAll('[data-tab]');
  const show = (name) => {
    for (const t of tabs) {
      t.setAttribute('aria-selected', t.getAttribute('data-tab') === name ? 'true' : 'false');
      doc.getElementById(`panel-${t.getAttribute('data-tab')}`).hidden = t.getAttribute('data-tab') !== name;
    }
  };
  for (const t of tabs) t.addEventListener('click', () => show(t.getAttribute('data-tab')));

  const flame = (container, details, root, label) => {
    const parents = parentsOf(root);
    const select = (n) => {
      details.textContent = '';
      const dl = el('dl');
      for (const [title, text] of detailRows(n, root, label)) {
        dl.appendChild(el('dt', null, title));
        dl.appendChild(el('dd', { 'data-field': title }, text));
      }
      details.appendChild(dl);
      details.hidden = false;
    };
    const zoom = (node) => {
      container.textContent = '';
      const { bars, rows } = layoutFlame(node, parents);
      for (const { node: n, left, width, depth, dim } of bars) {
        const d = el('div', { class: `frame${dim ? ' ancestor' : ''}${n === root ? ' root' : ''}`, role: 'button', tabindex: '0' });
        d.style.left = `${left}%`;
        d.style.width = `${width}%`;
        d.style.top = `${depth * 20}px`;
        d.textContent = frameLabel(n, root, label);
        d.title = frameTitle(n, root);
        d.style.background = frameColor(n, dim);
        d.dataset.name = n === root ? '' : n.name;
        d.dataset.file = n.file;
        d.dataset.line = String(n.line);
        const open = () => {
          select(n);
          zoom(n);
        };
        d.addEventListener('click', open);
        d.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter') open();
        });
        container.appendChild(d);
      }
      container.style.height = `${rows * 20 + 4}px`;
    };
    zoom(root);
  };

  const table = (container, columns, rows) => {
    const head = el('tr');
    const body = el('tbody');
    let sortKey = null;
    let descending = true;
    const sort = (key) => {
      descending = sortKey === key ? !descending : true;
      sortKey = key;
      const sorted = sortRows(rows, columns.find((c) => c.key === key), descending);
      for (const th of head.children) {
        th.setAttribute('aria-sort', th.getAttribute('data-key') === key ? (descending ? 'descending' : 'ascending') : 'none');
      }
      body.textContent = '';
      for (const r of sorted) {
        const tr = el('tr');
        for (const c of columns) tr.appendChild(el('td', { class: c.numeric ? 'num' : '' }, c.text(r)));
        body.appendChild(tr);
      }
    };
    for (const col of columns) {
      const th = el('th', { scope: 'col', 'data-key': col.key, 'aria-sort': 'none' });
      const b = el('button', { type: 'button' }, col.title);
      b.addEventListener('click', () => sort(col.key));
      th.appendChild(b);
      head.appendChild(th);
    }
    const t = el('table', { class: 'sites' });
    const thead = el('thead');
    thead.appendChild(head);
    t.appendChild(thead);
    t.appendChild(body);
    container.appendChild(t);
    sort(initialSortKey(columns));
  };

  const columns = tableColumns(data);
  flame(doc.getElementById('flame'), doc.getElementById('details'), data.flame, 'live memory');
  table(doc.getElementById('table'), columns.sites, data.lines);
  if (data.diff) {
    flame(doc.getElementById('diff-flame'), doc.getElementById('diff-details'), data.diff.flame, 'growth');
    table(doc.getElementById('diff-table'), columns.diff, data.diff.lines);
  }
  show('flame');
  doc.body.setAttribute('data-ready', 'true');
}

if (typeof document !== 'undefined') main(document);

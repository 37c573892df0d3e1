/**
 * The browser side of the HTML report, an ES module in plain JavaScript.
 *
 * `html.ts` inlines it into the page as `<script type="module">`, with the
 * modules imported below in place of the imports (the model's size
 * formatter, so the page prints sizes exactly as `tracemalloc top` does;
 * the timeline's replay; the flame tree of report/flame.ts). Node tests import it as it is and
 * test the pure functions; `main` runs only where there is a `document`.
 *
 * It reads the JSON data block and builds everything with textContent and
 * DOM properties, never innerHTML: file and function names are untrusted.
 */
import { formatSize } from '../../model/format-size.js';
import { rangeSites, topSeries } from '../../model/timeline.js';
import { buildFlameTree } from '../flame.js';

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

// ---- timeline ----

/** How a timeline's thread is named in its selector: `pid 12 server.mjs`, `pid 12 thread 1 worker.mjs`. */
export function timelineName(header) {
  const thread = header.threadId !== undefined ? ` thread ${header.threadId}${header.threadName ? ` ${header.threadName}` : ''}` : '';
  return `pid ${header.pid}${thread}${header.script ? ` ${header.script}` : ''}`;
}

/**
 * The ticks a selection from `t1` to `t2` ms covers: samples born after
 * tick `from` (-1: from the start) up to tick `to`, alive at `to`. Each end
 * goes to the last tick at or before it; a selection between two ticks
 * takes the next one.
 */
export function tickRange(ticks, t1, t2) {
  const [a, b] = t1 <= t2 ? [t1, t2] : [t2, t1];
  let from = -1;
  let to = -1;
  for (let i = 0; i < ticks.length; i++) {
    if (ticks[i].t <= a) from = i;
    if (ticks[i].t <= b) to = i;
  }
  if (to <= from) to = Math.min(from + 1, ticks.length - 1);
  return { from, to: Math.max(to, 0) };
}

/**
 * {@link tickRange} over the ticks that read the samples (light ticks
 * between them know no sites), as indices into all of `ticks`; null when
 * no tick read them.
 */
export function readRange(ticks, t1, t2) {
  const reads = [];
  ticks.forEach((t, i) => {
    if (t.read) reads.push(i);
  });
  if (reads.length === 0) return null;
  const { from, to } = tickRange(reads.map((i) => ticks[i]), t1, t2);
  return { from: from < 0 ? -1 : reads[from], to: reads[to] };
}

/**
 * The lines of the chart: traced memory (at the ticks that know it), V8's
 * heap in use (every tick, garbage included: the curve between two reads),
 * the traced off-heap part when there is any, and the `limit` sites with
 * most live bytes at the end. Values are null where a tick does not know them.
 */
export function chartSeries(timeline, limit) {
  const series = [];
  if (timeline.ticks.some((t) => t.traced !== null)) series.push({ name: 'traced', values: timeline.ticks.map((t) => t.traced), color: '#222', width: 2 });
  series.push({ name: 'V8 heap used', values: timeline.ticks.map((t) => t.heapUsed), color: '#999', width: 1, dash: '4 3' });
  if (timeline.ticks.some((t) => t.offHeap > 0)) series.push({ name: 'off-heap', values: timeline.ticks.map((t) => t.offHeap), color: '#0a7', width: 2 });
  for (const s of timeline.sampled ? topSeries(timeline, limit) : []) {
    const f = s.frames[s.frames.length - 1] || { file: '', line: 0, function: '' };
    series.push({ name: `${functionName(f.function)} ${baseName(f.file)}:${f.line}`, values: s.values, color: `hsl(${(hash(f.file + f.function) % 12) * 30}, 65%, 45%)`, width: 1 });
  }
  return series;
}

/** SVG polyline points for values at tick times, `x` and `y` mapping time and bytes to pixels; null values are skipped. */
export function polylinePoints(ticks, values, x, y) {
  const points = [];
  ticks.forEach((t, i) => {
    if (values[i] !== null && values[i] !== undefined) points.push(`${x(t.t).toFixed(1)},${y(values[i]).toFixed(1)}`);
  });
  return points.join(' ');
}

/** The last value a line knows. */
export function lastKnown(values) {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
  return 0;
}

/** The sites of a range as table and flame rows (frames oldest first). */
export function rangeRows(timeline, from, to) {
  return rangeSites(timeline, from, to).map((r) => {
    const row = { frames: r.frames, totalFrames: r.frames.length, size: r.size, count: r.count };
    if (r.offHeapSize > 0) row.offHeapSize = r.offHeapSize;
    return row;
  });
}

/** Seconds for axis labels and range text: `12.3 s`. */
export function formatSeconds(ms) {
  return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
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
    container.textContent = '';
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
  if (data.timelines && data.timelines.length > 0) {
    // Shown first: the chart takes the width of its visible panel.
    show('timeline');
    timelinePanel(doc, data.timelines, el, flame, table);
  } else {
    show('flame');
  }
  doc.body.setAttribute('data-ready', 'true');
}

const SVG = 'http://www.w3.org/2000/svg';

/** The timeline tab: a chart per process or thread, and what a dragged range allocated that is still alive at its end. */
function timelinePanel(doc, timelines, el, flame, table) {
  const select = doc.getElementById('timeline-thread');
  const chart = doc.getElementById('timeline-chart');
  const legend = doc.getElementById('timeline-legend');
  const rangeText = doc.getElementById('timeline-range');
  const svgEl = (tag, attributes) => {
    const e = doc.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
    return e;
  };
  const showRange = (timeline, from, to) => {
    const ticks = timeline.ticks;
    const since = from < 0 ? 'the start' : formatSeconds(ticks[from].t);
    const end = formatSeconds(ticks[to].t);
    if (!timeline.sampled) {
      rangeText.textContent = `${timeline.header.mode} mode records totals only (V8's tracker has no per-site figures without a heap snapshot); sites over time need sampling mode.`;
      return;
    }
    const rows = rangeRows(timeline, from, to);
    const total = rows.reduce((sum, r) => sum + r.size, 0);
    rangeText.textContent = `Allocated after ${since} up to ${end} and still alive at ${end}: ${formatSize(total)} in ${rows.length} sites`;
    flame(doc.getElementById('timeline-flame'), doc.getElementById('timeline-details'), buildFlameTree(rows), 'live memory');
    table(doc.getElementById('timeline-table'), tableColumns({ lines: rows, info: { mode: 'timeline' }, diff: null }).sites, rows);
  };
  const draw = (timeline) => {
    chart.textContent = '';
    legend.textContent = '';
    const ticks = timeline.ticks;
    if (ticks.length === 0) {
      rangeText.textContent = 'No reads recorded: the program ended before the first one.';
      return;
    }
    const width = Math.max(300, chart.clientWidth || 800);
    const height = 240;
    const [left, right, top, bottom] = [72, 12, 10, 24];
    const tMax = Math.max(1, ticks[ticks.length - 1].t);
    const series = chartSeries(timeline, 5);
    const yMax = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
    const x = (t) => left + (t / tMax) * (width - left - right);
    const y = (v) => top + (1 - v / yMax) * (height - top - bottom);
    const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, 'data-role': 'chart', role: 'img', 'aria-label': 'live memory over time' });
    for (const f of [0, 0.5, 1]) {
      const label = svgEl('text', { x: left - 6, y: y(yMax * f) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#666' });
      label.textContent = formatSize(yMax * f);
      svg.appendChild(label);
      const time = svgEl('text', { x: x(tMax * f), y: height - 6, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle', 'font-size': 11, fill: '#666' });
      time.textContent = formatSeconds(tMax * f);
      svg.appendChild(time);
      svg.appendChild(svgEl('line', { x1: left, x2: width - right, y1: y(yMax * f), y2: y(yMax * f), stroke: '#eee' }));
    }
    const shade = svgEl('rect', { x: left, y: top, width: 0, height: height - top - bottom, fill: '#4a90e2', 'fill-opacity': 0.15, 'data-role': 'selection' });
    svg.appendChild(shade);
    for (const s of series) {
      const line = svgEl('polyline', { points: polylinePoints(ticks, s.values, x, y), fill: 'none', stroke: s.color, 'stroke-width': s.width, 'data-series': s.name });
      if (s.dash) line.setAttribute('stroke-dasharray', s.dash);
      svg.appendChild(line);
      const item = el('span', { class: 'legend-item' });
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = s.color;
      item.appendChild(swatch);
      item.appendChild(doc.createTextNode(`${s.name} ${formatSize(lastKnown(s.values))}`));
      legend.appendChild(item);
    }
    chart.appendChild(svg);
    // Drag to choose a range; each end snaps to a tick.
    const timeAt = (ev) => ((Math.min(width - right, Math.max(left, ev.clientX - svg.getBoundingClientRect().left)) - left) / (width - left - right)) * tMax;
    const mark = (from, to) => {
      const a = from < 0 ? 0 : ticks[from].t;
      shade.setAttribute('x', String(x(a)));
      shade.setAttribute('width', String(Math.max(1, x(ticks[to].t) - x(a))));
    };
    let anchor = null;
    svg.addEventListener('mousedown', (ev) => {
      anchor = timeAt(ev);
      ev.preventDefault();
    });
    // Ranges end at ticks that read the samples; exact mode's ticks read none, and any tick will do.
    const range = (t1, t2) => (timeline.sampled ? readRange(ticks, t1, t2) : tickRange(ticks, t1, t2));
    svg.addEventListener('mousemove', (ev) => {
      if (anchor === null) return;
      const r = range(anchor, timeAt(ev));
      if (r) mark(r.from, r.to);
    });
    const finish = (ev) => {
      if (anchor === null) return;
      const r = range(anchor, timeAt(ev));
      anchor = null;
      if (!r) return;
      mark(r.from, r.to);
      showRange(timeline, r.from, r.to);
    };
    svg.addEventListener('mouseup', finish);
    svg.addEventListener('mouseleave', finish);
    const all = range(0, tMax) ?? { to: ticks.length - 1 };
    mark(-1, all.to);
    showRange(timeline, -1, all.to);
  };
  timelines.forEach((timeline, i) => select.appendChild(el('option', { value: String(i) }, timelineName(timeline.header))));
  select.hidden = timelines.length < 2;
  select.addEventListener('change', () => draw(timelines[Number(select.value)]));
  draw(timelines[0]);
}

if (typeof document !== 'undefined') main(document);

/**
 * The browser side of the HTML report, as source text embedded in the page.
 * It reads the JSON data block and builds everything with textContent and
 * DOM properties, never innerHTML: file and function names are untrusted.
 * (No template literals here: this file's text is itself a template value.)
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

  function fmtSize(size, sign) {
    var v = size;
    for (var i = 0; i < UNITS.length; i++) {
      var u = UNITS[i];
      if (Math.abs(v) < 100 && u !== 'B') return signed(v.toFixed(1), v, sign) + ' ' + u;
      if (Math.abs(v) < 10 * 1024 || u === 'TiB') return signed(v.toFixed(0), v, sign) + ' ' + u;
      v /= 1024;
    }
    return size + ' B';
  }
  function signed(text, v, sign) { return sign && v >= 0 ? '+' + text : text; }
  function fmtInt(n, sign) { var t = Math.round(n).toLocaleString('en-US'); return sign && n >= 0 ? '+' + t : t; }
  function el(tag, props, text) {
    var e = document.createElement(tag);
    if (props) for (var k in props) if (Object.prototype.hasOwnProperty.call(props, k)) e.setAttribute(k, props[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function baseName(file) { var i = file.lastIndexOf('/'); return i >= 0 ? file.slice(i + 1) : file; }
  function where(file, line) { return file ? file + ':' + line : ''; }
  function fnName(name) { return name || '(anonymous)'; }

  // ---- tabs ----
  var tabs = document.querySelectorAll('[data-tab]');
  function show(name) {
    for (var i = 0; i < tabs.length; i++) {
      var t = tabs[i];
      var on = t.getAttribute('data-tab') === name;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      document.getElementById('panel-' + t.getAttribute('data-tab')).hidden = !on;
    }
  }
  for (var i = 0; i < tabs.length; i++) tabs[i].addEventListener('click', function (ev) { show(ev.currentTarget.getAttribute('data-tab')); });

  // ---- flame graph (icicle: callers on top, allocating frames below) ----
  function Flame(container, details, root, total, label) {
    this.container = container; this.details = details; this.root = root; this.total = total || 1; this.label = label;
    this.parents = new Map();
    var stack = [root];
    while (stack.length) {
      var n = stack.pop();
      for (var j = 0; j < n.children.length; j++) { this.parents.set(n.children[j], n); stack.push(n.children[j]); }
    }
    this.zoom(root);
  }
  Flame.prototype.zoom = function (node) {
    var self = this;
    var c = this.container;
    c.textContent = '';
    var ancestors = [];
    for (var p = this.parents.get(node); p; p = this.parents.get(p)) ancestors.unshift(p);
    var depth = 0;
    function bar(n, left, width, dim) {
      var d = el('div', { 'class': 'frame' + (dim ? ' ancestor' : '') + (n === self.root ? ' root' : ''), role: 'button', tabindex: '0' });
      d.style.left = left + '%';
      d.style.width = width + '%';
      d.style.top = (depth * 20) + 'px';
      var name = n === self.root ? 'all (' + self.label + ')' : fnName(n.name) + ' ' + baseName(n.file) + ':' + n.line;
      d.textContent = name;
      d.title = (n === self.root ? 'all' : fnName(n.name) + ' at ' + where(n.file, n.line)) + ' — ' + fmtSize(n.value) + ', ' + fmtInt(n.count) + ' objects';
      d.dataset.name = n === self.root ? '' : n.name;
      d.dataset.file = n.file;
      d.dataset.line = String(n.line);
      var hue = n.file.indexOf('node_modules') >= 0 ? 200 : n.file.indexOf('node:') === 0 ? 40 : 12 + (hash(n.file) % 40);
      d.style.background = 'hsl(' + hue + ', 70%, ' + (dim ? 82 : 62 + (hash(n.name) % 14)) + '%)';
      d.addEventListener('click', function () { self.select(n); self.zoom(n); });
      d.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { self.select(n); self.zoom(n); } });
      c.appendChild(d);
    }
    for (var a = 0; a < ancestors.length; a++) { bar(ancestors[a], 0, 100, true); depth++; }
    var scale = node.value > 0 ? 100 / node.value : 0;
    var maxDepth = depth;
    function draw(n, left, level) {
      var width = n.value * scale;
      if (width < 0.05) return;
      var saved = depth; depth = level; bar(n, left, width, false); depth = saved;
      if (level > maxDepth) maxDepth = level;
      var x = left;
      for (var k = 0; k < n.children.length; k++) { draw(n.children[k], x, level + 1); x += n.children[k].value * scale; }
    }
    draw(node, 0, depth);
    c.style.height = ((maxDepth + 1) * 20 + 4) + 'px';
  };
  Flame.prototype.select = function (n) {
    var d = this.details;
    d.textContent = '';
    var isRoot = n === this.root;
    var rows = [
      ['Function', isRoot ? 'all' : fnName(n.name)],
      ['Location', isRoot ? '' : where(n.file, n.line)],
      [this.label, fmtSize(n.value) + ' (' + (100 * n.value / this.total).toFixed(1) + '% of ' + fmtSize(this.total) + ')'],
      ['Objects', fmtInt(n.count)],
      ['Allocated here (self)', fmtSize(n.self)]
    ];
    var dl = el('dl');
    for (var i = 0; i < rows.length; i++) {
      dl.appendChild(el('dt', null, rows[i][0]));
      dl.appendChild(el('dd', { 'data-field': rows[i][0] }, rows[i][1]));
    }
    d.appendChild(dl);
    d.hidden = false;
  };
  function hash(s) { var h = 0; for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return Math.abs(h); }

  // ---- sortable table ----
  function Table(container, columns, rows) {
    this.columns = columns; this.rows = rows.slice(); this.body = null; this.sortKey = null; this.desc = true;
    var table = el('table', { 'class': 'sites' });
    var head = el('tr');
    var self = this;
    columns.forEach(function (col) {
      var th = el('th', { scope: 'col', 'data-key': col.key, 'aria-sort': 'none' });
      var b = el('button', { type: 'button' }, col.title);
      b.addEventListener('click', function () { self.sort(col.key); });
      th.appendChild(b);
      head.appendChild(th);
    });
    var thead = el('thead'); thead.appendChild(head); table.appendChild(thead);
    this.body = el('tbody'); table.appendChild(this.body);
    this.head = head;
    container.appendChild(table);
    this.sort(columns[columns.length > 2 ? 2 : 0].key);
  }
  Table.prototype.sort = function (key) {
    if (this.sortKey === key) this.desc = !this.desc; else { this.sortKey = key; this.desc = true; }
    var col = this.columns.filter(function (c) { return c.key === key; })[0];
    var dir = this.desc ? -1 : 1;
    this.rows.sort(function (a, b) {
      var x = col.value(a), y = col.value(b);
      if (typeof x === 'string') return dir * x.localeCompare(y);
      return dir * (x - y);
    });
    var ths = this.head.children;
    for (var i = 0; i < ths.length; i++) {
      ths[i].setAttribute('aria-sort', ths[i].getAttribute('data-key') === key ? (this.desc ? 'descending' : 'ascending') : 'none');
    }
    this.body.textContent = '';
    var cols = this.columns;
    var body = this.body;
    this.rows.forEach(function (r) {
      var tr = el('tr');
      cols.forEach(function (c) { tr.appendChild(el('td', { 'class': c.numeric ? 'num' : '' }, c.text(r))); });
      body.appendChild(tr);
    });
  };

  function top(site) { return site.frames[site.frames.length - 1] || { file: '', line: 0, function: '' }; }
  // Line mode: mark the rows that are V8's function starts rather than allocating lines.
  var lineMode = data.lines.some(function (s) { return s.frames.some(function (f) { return f.atLine; }); });
  function bounds(site) { return site.estimate ? fmtSize(site.estimate.sizeLow, site.sizeDiff !== undefined) + ' … ' + fmtSize(site.estimate.sizeHigh, site.sizeDiff !== undefined) : ''; }
  var baseColumns = [
    { key: 'location', title: 'Location', value: function (s) { var f = top(s); return where(f.file, f.line); }, text: function (s) { var f = top(s); return where(f.file, f.line); } },
    { key: 'function', title: 'Function', value: function (s) { return top(s).function; }, text: function (s) { var f = top(s); return fnName(f.function) + (lineMode && !f.atLine ? ' (function start)' : ''); } },
    { key: 'size', title: 'Size', numeric: true, value: function (s) { return s.size; }, text: function (s) { return fmtSize(s.size); } },
    { key: 'count', title: 'Count', numeric: true, value: function (s) { return s.count; }, text: function (s) { return fmtInt(s.count); } },
    { key: 'average', title: 'Average', numeric: true, value: function (s) { return s.count ? s.size / s.count : 0; }, text: function (s) { return s.count ? fmtSize(s.size / s.count) : ''; } }
  ];
  var sampled = data.info.mode === 'sampling';
  var estimateColumn = { key: 'bounds', title: '95% bounds', numeric: true, value: function (s) { return s.estimate ? s.estimate.sizeHigh : 0; }, text: bounds };

  new Flame(document.getElementById('flame'), document.getElementById('details'), data.flame, data.flame.value, 'live memory');
  new Table(document.getElementById('table'), sampled ? baseColumns.concat([estimateColumn]) : baseColumns, data.lines);
  if (data.diff) {
    new Flame(document.getElementById('diff-flame'), document.getElementById('diff-details'), data.diff.flame, data.diff.flame.value, 'growth');
    var diffColumns = [
      baseColumns[0], baseColumns[1],
      { key: 'sizeDiff', title: 'Size change', numeric: true, value: function (s) { return s.sizeDiff; }, text: function (s) { return fmtSize(s.sizeDiff, true); } },
      { key: 'countDiff', title: 'Count change', numeric: true, value: function (s) { return s.countDiff; }, text: function (s) { return fmtInt(s.countDiff, true); } },
      baseColumns[2], baseColumns[3]
    ];
    new Table(document.getElementById('diff-table'), sampled ? diffColumns.concat([estimateColumn]) : diffColumns, data.diff.lines);
  }
  show('flame');
  document.body.setAttribute('data-ready', 'true');
})();
`;

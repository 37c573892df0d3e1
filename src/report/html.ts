/**
 * The self-contained HTML report: one file with its data, styles and script
 * inline, a Content-Security-Policy that forbids any network access and any
 * script but its own, a flame graph of live memory by traceback, a sortable
 * table of sites and, given an older snapshot, the growth since then.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatSize } from '../model/index.js';
import { escapeHtml, jsonForScript } from './escape.js';
import { buildFlameTree } from './flame.js';
import type { ReportInput, Reporter } from './reporter.js';
import type { SnapshotInfo } from './sites.js';

/** The browser script, next to this module in the source tree and in dist/ (the build copies it). */
const CLIENT_ASSET = new URL('./assets/report.js', import.meta.url);

/** `import { a, b } from './x.js';` with a relative specifier, on a line of its own. */
const RELATIVE_IMPORT = /^import \{[^}]*\} from '(\.{1,2}\/[^']+)';$/gm;

let clientText: string | undefined;

function readAsset(url: URL): string {
  try {
    return readFileSync(url, 'utf8');
  } catch (err) {
    // A dist/ built by plain tsc lacks the asset: say how to get it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`the HTML report's script ${fileURLToPath(url)} is missing; 'npm run build' copies src/report/assets into dist`);
    throw err;
  }
}

/**
 * The page's script: the asset with each relative import replaced by the
 * module it names (an inline script cannot fetch one). Only leaf modules can
 * be inlined this way, so one that imports anything is refused. Read once.
 */
export function clientScript(): string {
  if (clientText !== undefined) return clientText;
  const text = readAsset(CLIENT_ASSET).replace(RELATIVE_IMPORT, (_, specifier: string) => {
    const url = new URL(specifier, CLIENT_ASSET);
    const source = readAsset(url).replace(/^\/\/# sourceMappingURL=.*$/m, '');
    if (/^\s*import\b|^\s*export\b[^;\n]*\bfrom\s*['"]/m.test(source)) {
      throw new Error(`${fileURLToPath(url)} imports other modules: the HTML report can only inline a module that imports nothing`);
    }
    return source;
  });
  if (/^\s*import\b/m.test(text)) throw new Error(`${fileURLToPath(CLIENT_ASSET)}: only relative named imports on a line of their own can be inlined`);
  if (/<\/script/i.test(text)) throw new Error(`${fileURLToPath(CLIENT_ASSET)}: '</script' would end the page's script early`);
  clientText = text;
  return text;
}

const STYLE = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { padding: 12px 16px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 16px; margin: 0 0 4px; }
.meta { color: #666; }
nav { padding: 8px 16px 0; }
nav button { font: inherit; padding: 6px 12px; border: 1px solid #ccc; border-bottom: none; background: #eee; cursor: pointer; }
nav button[aria-selected="true"] { background: #fff; font-weight: 600; }
section { padding: 12px 16px; background: #fff; border-top: 1px solid #ccc; }
.flame { position: relative; width: 100%; overflow: hidden; }
.frame { position: absolute; height: 19px; box-sizing: border-box; border: 1px solid #fff; padding: 0 4px; overflow: hidden;
  white-space: nowrap; text-overflow: ellipsis; font: 12px/17px ui-monospace, monospace; cursor: pointer; }
.frame:hover { filter: brightness(0.9); }
.frame.root { background: #ddd !important; }
.details { margin: 8px 0; padding: 8px; border: 1px solid #ddd; background: #fffbe6; }
.details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.details dt { color: #666; }
.details dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
table.sites { border-collapse: collapse; width: 100%; margin-top: 8px; }
.sites th, .sites td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; }
.sites td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sites th button { font: inherit; font-weight: 600; border: none; background: none; cursor: pointer; padding: 0; }
.sites th[aria-sort="descending"] button::after { content: " ▼"; }
.sites th[aria-sort="ascending"] button::after { content: " ▲"; }
.note { color: #666; font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font: 12px ui-monospace, monospace; margin: 4px 0 8px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
svg[data-role="chart"] { cursor: crosshair; user-select: none; background: #fff; }
`;

function describe(info: SnapshotInfo): string {
  const parts = [`${info.mode} mode`];
  if (info.samplingInterval) parts.push(`sampling every ${formatSize(info.samplingInterval)}`);
  parts.push(`${info.tracebackLimit} frames`);
  if (info.pid !== undefined) parts.push(`pid ${info.pid}`);
  if (info.nodeVersion) parts.push(`Node ${info.nodeVersion}`);
  if (info.timestamp) parts.push(new Date(info.timestamp).toISOString());
  return parts.join(', ');
}

const TIMELINE_PANEL = `<section id="panel-timeline" role="tabpanel" hidden>
<p class="note">Traced memory over the run, read every second or so without a heap snapshot, and the sites with most live memory at its end. Drag across the chart to choose a range: below is what was allocated in it and is still alive at its end.</p>
<select id="timeline-thread" aria-label="process or thread"></select>
<div id="timeline-chart"></div>
<div id="timeline-legend" class="legend"></div>
<p id="timeline-range" class="meta"></p>
<div id="timeline-flame" class="flame"></div>
<div id="timeline-details" class="details" hidden></div>
<div id="timeline-table"></div>
</section>`;

/** The HTML reporter: flame graphs and tables, and the growth view when given an older snapshot. */
export const html: Reporter = {
  format: 'html',
  extension: '.html',
  description: 'write a self-contained HTML report',
  showsDiff: true,
  render: renderHtml,
};

/** The report page. Every string from the snapshot is escaped or travels as escaped JSON. */
export function renderHtml(input: ReportInput): string {
  const flame = buildFlameTree(input.sites);
  const data = {
    title: input.title,
    info: input.info,
    flame,
    lines: input.lines,
    diff: input.diff
      ? { old: input.diff.old, flame: buildFlameTree(input.diff.growth, (s) => s.sizeDiff ?? 0), lines: input.diff.lines }
      : null,
    timelines: input.timelines ?? [],
  };
  const timelines = input.timelines ?? [];
  const script = clientScript();
  const scriptHash = createHash('sha256').update(script).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:`;
  // Line mode mixes allocating lines with V8's function starts; say which is which.
  const lineNote = input.sites.some((site) => site.frames.some((f) => f.atLine))
    ? 'Line mode: lines are allocating lines; a function marked (function start) holds what V8 saw in it that no instrumented line explains.'
    : 'Lines are where each function starts: V8 records allocation sites per function.';
  const diffTab = input.diff ? '<button type="button" role="tab" data-tab="diff">Growth since older snapshot</button>' : '';
  const diffPanel = input.diff
    ? `<section id="panel-diff" role="tabpanel" hidden>
<p class="meta">Compared with ${escapeHtml(describe(input.diff.old))}. The flame graph shows memory that grew (freed memory is not drawn); the table lists every line that changed.</p>
<div id="diff-flame" class="flame"></div>
<div id="diff-details" class="details" hidden></div>
<div id="diff-table"></div>
</section>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tracemalloc: ${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>tracemalloc: ${escapeHtml(input.title)}</h1>
<div class="meta">${escapeHtml(describe(input.info))}; ${escapeHtml(formatSize(flame.value))} live in ${input.sites.length} tracebacks</div>
</header>
<nav role="tablist">
${timelines.length > 0 ? '<button type="button" role="tab" data-tab="timeline">Timeline</button>' : ''}
<button type="button" role="tab" data-tab="flame">Flame graph</button>
<button type="button" role="tab" data-tab="table">Sites</button>
${diffTab}
</nav>
${timelines.length > 0 ? TIMELINE_PANEL : ''}
<section id="panel-flame" role="tabpanel">
<p class="note">Live memory by traceback: callers above, allocating functions below; width is bytes. Click a frame to zoom in and see its details; click the top bar to zoom out.</p>
<div id="flame" class="flame"></div>
<div id="details" class="details" hidden></div>
</section>
<section id="panel-table" role="tabpanel" hidden>
<p class="note">Live memory by line. Click a column to sort. ${lineNote}</p>
<div id="table"></div>
</section>
${diffPanel}
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script type="module">${script}</script>
</body>
</html>
`;
}

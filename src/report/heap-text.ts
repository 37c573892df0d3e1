/**
 * Text and JSON renderings of heap snapshot census and diff results.
 */
import type { Census, RetainerPathStep, SnapshotDiff } from '../heap/index.js';
import { formatInt, formatSize } from '../model/index.js';
import type { TextStyle } from './text.js';

function pad(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

function table(header: string[], rows: string[][], alignLeftFrom: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= alignLeftFrom ? c : pad(c, widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `.name`, `[3]` or `{context}` for one step, then the node reached. */
function step(s: RetainerPathStep): string {
  const edge = s.edgeType === 'element' || s.edgeType === 'hidden' ? `[${s.edge}]` : s.edgeType === 'context' ? `{${s.edge}}` : `.${s.edge}`;
  return `${edge} → ${s.node}`;
}

/** A retainer path on one line, from the GC roots to the object. */
export function formatPath(path: RetainerPathStep[] | null): string {
  if (path === null) return '(unreachable: only weak references left)';
  if (path.length === 0) return '(the root)';
  return ['(root)', ...path.map(step)].join(' ');
}

/** The `heap` report: census, biggest objects, retainer paths, duplicated strings. */
export function renderCensus(file: string, result: Census, paths: Array<RetainerPathStep[] | null>, limit: number, style: TextStyle): string {
  const out: string[] = [];
  out.push(style.bold(`Heap snapshot ${file}: ${formatInt(result.totalCount)} live objects, ${formatSize(result.totalSize)}`));
  out.push('');
  out.push(style.bold(`[ Top ${Math.min(limit, result.groups.length)} constructors by retained size ]`));
  out.push(
    ...table(
      ['Count', 'Self size', 'Retained', 'Constructor'],
      result.groups.slice(0, limit).map((g) => [formatInt(g.count), formatSize(g.selfSize), formatSize(g.retainedSize), g.name]),
      3,
    ),
  );
  out.push('');
  out.push(style.bold(`[ Top ${Math.min(limit, result.topObjects.length)} objects by retained size ]`));
  result.topObjects.slice(0, limit).forEach((o, i) => {
    const preview = o.preview ? ` ${o.preview}` : '';
    out.push(`#${i + 1}: ${o.name} @${o.id} (${o.type}): retained=${formatSize(o.retainedSize)}, self=${formatSize(o.selfSize)}${preview}`);
    if (i < paths.length) out.push(`    retained by: ${formatPath(paths[i])}`);
  });
  if (result.duplicatedStrings.length > 0) {
    out.push('');
    out.push(style.bold(`[ Duplicated strings ]`));
    out.push(
      ...table(
        ['Copies', 'Total size', 'Value'],
        result.duplicatedStrings.slice(0, limit).map((d) => [formatInt(d.count), formatSize(d.totalSize), d.included ? JSON.stringify(d.value) : d.value]),
        2,
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

/** The JSON document of `heap --json`. */
export function censusJson(file: string, result: Census, paths: Array<RetainerPathStep[] | null>, limit: number): object {
  return {
    file,
    totalCount: result.totalCount,
    totalSize: result.totalSize,
    groups: result.groups.slice(0, limit),
    topObjects: result.topObjects.slice(0, limit).map((o, i) => ({
      id: o.id,
      name: o.name,
      type: o.type,
      selfSize: o.selfSize,
      retainedSize: o.retainedSize,
      preview: o.preview,
      ...(i < paths.length ? { retainerPath: paths[i], retainerPathText: formatPath(paths[i]) } : {}),
    })),
    duplicatedStrings: result.duplicatedStrings.slice(0, limit),
  };
}

/** The `heap diff` report: per constructor, then per allocation site when traced. */
export function renderHeapDiff(oldFile: string, newFile: string, diff: SnapshotDiff, limit: number, style: TextStyle): string {
  const t = diff.totals;
  const out: string[] = [];
  out.push(style.bold(`Heap diff ${oldFile} → ${newFile}`));
  out.push(
    `${formatInt(t.countDelta, true)} objects (${formatSize(t.sizeDelta, true)}): ${formatInt(t.added)} new (${formatSize(t.addedSize)}), ` +
      `${formatInt(t.removed)} freed (${formatSize(t.removedSize)}), ${formatInt(t.surviving)} surviving`,
  );
  out.push('');
  out.push(style.bold(`[ Top ${Math.min(limit, diff.byConstructor.length)} constructors by size change ]`));
  out.push(
    ...table(
      ['Size Δ', 'Count Δ', 'New', 'Freed', 'Constructor'],
      diff.byConstructor
        .slice(0, limit)
        .map((c) => [formatSize(c.sizeDelta, true), formatInt(c.countDelta, true), formatInt(c.added), formatInt(c.removed), c.name]),
      4,
    ),
  );
  if (diff.bySite.length > 0) {
    out.push('');
    out.push(style.bold(`[ Top ${Math.min(limit, diff.bySite.length)} allocation sites by size change ]`));
    diff.bySite.slice(0, limit).forEach((s, i) => {
      const top = s.frames[0];
      const where = top ? `${top.scriptName}:${top.line}${top.functionName ? ` (in ${top.functionName})` : ''}` : '(untraced)';
      out.push(`#${i + 1}: ${where}: size ${formatSize(s.sizeDelta, true)}, count ${formatInt(s.countDelta, true)}`);
    });
  }
  return `${out.join('\n')}\n`;
}

/** The JSON document of `heap diff --json`. */
export function heapDiffJson(oldFile: string, newFile: string, diff: SnapshotDiff, limit: number): object {
  return { old: oldFile, new: newFile, totals: diff.totals, byConstructor: diff.byConstructor.slice(0, limit), bySite: diff.bySite.slice(0, limit) };
}

/**
 * Text and JSON renderings of heap snapshot census and diff results. Not
 * snapshot reporters (`reporter.ts`): their input is a heap graph's census,
 * not allocation sites, and they print to stdout for `tracemalloc heap`.
 */
import type { Census, RetainerPathStep, SnapshotDiff } from '../heap/index.js';
import { formatCount, formatInt, formatSize } from '../model/index.js';
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

/** A retainer path of one of the biggest objects, with its text (`retainerPathText`). */
export interface CensusPath {
  steps: RetainerPathStep[] | null;
  text: string;
}

/** The `heap` report: census, biggest objects, retainer paths, duplicated strings. */
export function renderCensus(file: string, result: Census, paths: readonly CensusPath[], limit: number, style: TextStyle): string {
  const out: string[] = [];
  out.push(style.bold(`Heap snapshot ${file}: ${formatInt(result.totalCount)} live objects, ${formatSize(result.totalSize)}`));
  out.push('');
  out.push(style.bold(`[ Top ${formatCount(Math.min(limit, result.groups.length), 'constructor')} by retained size ]`));
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
    // V8 leaves internal arrays and code objects unnamed: their type is their name.
    const label = o.name ? `${o.name} @${o.id} (${o.type})` : `(${o.type}) @${o.id}`;
    out.push(`#${i + 1}: ${label}: retained=${formatSize(o.retainedSize)}, self=${formatSize(o.selfSize)}${preview}`);
    if (i < paths.length) out.push(`    retained by: ${paths[i].text}`);
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
export function censusJson(file: string, result: Census, paths: readonly CensusPath[], limit: number): object {
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
      ...(i < paths.length ? { retainerPath: paths[i].steps, retainerPathText: paths[i].text } : {}),
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
  out.push(style.bold(`[ Top ${formatCount(Math.min(limit, diff.byConstructor.length), 'constructor')} by size change ]`));
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
    out.push(style.bold(`[ Top ${formatCount(Math.min(limit, diff.bySite.length), 'allocation site')} by size change ]`));
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

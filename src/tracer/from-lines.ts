import { Trace, type Frame, type Traceback } from '../model/index.js';
import type { SourceMapResolver } from '../sourcemap/index.js';
import type { LineFile, LineSample } from '../lines/recorder.js';
import type { SizedLineSample } from '../lines/live-samples.js';
import type { LineFunction } from '../lines/transform/index.js';
import { EstimateSum } from './estimate-sum.js';
import { filenameOf, type RawFrame, type TracebackBuilder } from './frames.js';

/** A live line sample, its size in bytes (NaN when the heap did not show it) and its heap objects. */

/** The functions of instrumented files, by original file name, to match V8's function frames. */
class FunctionIndex {
  private readonly byFile = new Map<string, Array<{ key: string; fn: LineFunction }>>();
  // Module top-level code, where no function contains the frame.
  private readonly topLevel = new Map<string, string>();

  constructor(files: readonly LineFile[]) {
    for (const file of files) {
      const { sites, functions } = file.table();
      this.topLevel.set(filenameOf(sites[0]?.file ?? functions[0]?.file ?? file.url), keyOf(file, -1));
      functions.forEach((fn, i) => {
        const name = filenameOf(fn.file);
        let list = this.byFile.get(name);
        if (!list) this.byFile.set(name, (list = []));
        list.push({ key: keyOf(file, i), fn });
      });
    }
  }

  /**
   * The instrumented function V8's frame stands for: one starting on the
   * frame's line (nearest column), else the innermost one containing it.
   */
  match(frame: Frame): string | null {
    const list = this.byFile.get(frame.filename) ?? [];
    let best: { key: string; fn: LineFunction } | null = null;
    for (const entry of list) {
      if (entry.fn.start.line !== frame.lineno) continue;
      if (!best || Math.abs(entry.fn.start.column - frame.column) < Math.abs(best.fn.start.column - frame.column)) best = entry;
    }
    if (best) return best.key;
    for (const entry of list) {
      const { start, end } = entry.fn;
      const after = frame.lineno > start.line || (frame.lineno === start.line && frame.column >= start.column);
      const before = frame.lineno < end.line || (frame.lineno === end.line && frame.column <= end.column);
      if (after && before && (!best || before_(best.fn, entry.fn))) best = entry;
    }
    return best ? best.key : (this.topLevel.get(frame.filename) ?? null);
  }
}

// Innermost: the later start wins among nested ranges.
function before_(outer: LineFunction, inner: LineFunction): boolean {
  return inner.start.line > outer.start.line || (inner.start.line === outer.start.line && inner.start.column > outer.start.column);
}

const fileIds = new WeakMap<LineFile, number>();
let nextFileId = 0;
function keyOf(file: LineFile, fn: number): string {
  let id = fileIds.get(file);
  if (id === undefined) fileIds.set(file, (id = nextFileId++));
  return `${id}:${fn}`;
}

const registered = new WeakSet<LineFile>();

/**
 * The factor that brings a function's lines down to V8's figure for the
 * function, when they exceed it and V8's figure is the better estimate of
 * what the function allocated: exact (exact mode), or sampled with no more
 * variance than the lines. Lines can exceed it for two reasons: a sample's
 * size holds the stores it owns, also those grown later by other functions,
 * which V8 counts there; and one large sample stands for `interval` objects.
 * Scaled, they split the function's figure and count nothing twice.
 */
function lineScaleFor(lines: EstimateSum, v8: readonly Trace[], v8Size: number): number {
  if (lines.size <= v8Size) return 1;
  let samples = 0;
  let variance = 0;
  for (const t of v8) {
    if (!t.estimate) return v8Size / lines.size;
    samples += t.estimate.samples;
    variance += t.estimate.sizeVariance;
  }
  // With no V8 sample the function's figure says nothing: the lines stand.
  return samples > 0 && variance <= lines.sizeVar ? v8Size / lines.size : 1;
}

/**
 * Line mode's traces: each live sampled object at its allocating line (and
 * its callers at their calling lines), estimated as `interval` objects of its
 * size; plus V8's function-level traces for what instrumentation does not
 * see (built-ins, backing stores grown later, uninstrumented code). Within an
 * instrumented function those are reduced by what its lines account for, so
 * each function's total stays V8's figure; the remainder is marked as a
 * function start.
 */
export function tracesWithLines(
  functionLevel: Trace[],
  samples: readonly SizedLineSample[],
  files: readonly LineFile[],
  interval: number,
  builder: TracebackBuilder,
  sourceMaps: SourceMapResolver | null,
): { traces: Trace[]; total: number } {
  for (const file of files) {
    if (registered.has(file)) continue;
    registered.add(file);
    sourceMaps?.register(filenameOf(file.url), file.map);
  }
  const p = 1 / interval;
  const q = (1 - p) / (p * p);
  // Line traces per instrumented function: each traceback's innermost frame is one site of one function.
  const perFunction = new Map<string, { lines: EstimateSum; tracebacks: Map<Traceback, EstimateSum> }>();
  for (const { sample, size, blocks } of samples) {
    if (!Number.isFinite(size)) continue;
    const { sites, functions } = sample.file.table();
    const site = sites[sample.site];
    if (!site) continue;
    const fn = site.fn >= 0 ? functions[site.fn] : undefined;
    const frames: RawFrame[] = [
      { functionName: fn?.name ?? '', url: site.file, line: site.line, column: site.column, atLine: true, original: true },
      ...sample.callers.map((c) => ({ ...c, atLine: true })),
    ];
    const traceback = builder.build(frames);
    if (!traceback) continue;
    const one = new EstimateSum(1, size * interval, blocks * interval, q * size * size, q * blocks * blocks);
    const key = keyOf(sample.file, site.fn);
    let fnLines = perFunction.get(key);
    if (!fnLines) perFunction.set(key, (fnLines = { lines: new EstimateSum(), tracebacks: new Map() }));
    fnLines.lines.add(one);
    let acc = fnLines.tracebacks.get(traceback);
    if (!acc) fnLines.tracebacks.set(traceback, (acc = new EstimateSum()));
    acc.add(one);
  }

  // V8's traces per instrumented function: its figure is what the function allocated, which the lines split.
  const index = new FunctionIndex(files);
  const groups = new Map<string, Trace[]>();
  const traces: Trace[] = [];
  for (const trace of functionLevel) {
    const key = index.match(trace.traceback.mostRecent);
    if (key === null || !perFunction.has(key)) {
      traces.push(trace);
      continue;
    }
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(trace);
  }
  for (const [key, { lines, tracebacks }] of perFunction) {
    const group = groups.get(key) ?? [];
    const size = group.reduce((s, t) => s + t.size, 0);
    const count = group.reduce((s, t) => s + t.count, 0);
    const lineScale = lineScaleFor(lines, group, size);
    const keepSize = size > 0 ? Math.max(0, size - lines.size) / size : 0;
    const keepCount = count > 0 ? Math.max(0, count - lines.count * lineScale) / count : 0;
    for (const t of group) {
      const s = Math.round(t.size * keepSize);
      if (s === 0) continue;
      // Lines can estimate more objects than V8 counted while bytes remain (both are estimates):
      // then the remainder keeps the objects' share its bytes have, never bytes without objects.
      const c = Math.round(t.count * keepCount) || Math.min(t.count, Math.max(1, Math.round(t.count * keepSize)));
      const e = t.estimate ?? { samples: 0, sizeVariance: 0, countVariance: 0 };
      // The difference carries both estimates' uncertainty; the lines' share goes by size.
      const share = size > 0 ? t.size / size : 0;
      traces.push(
        new Trace(t.traceback, s, c, {
          samples: e.samples,
          sizeVariance: e.sizeVariance + lines.sizeVar * share * share,
          countVariance: e.countVariance + lines.countVar * share * share,
        }),
      );
    }
    if (lineScale === 0) continue;
    for (const [traceback, acc] of tracebacks) {
      let scaled = acc;
      if (lineScale !== 1) (scaled = new EstimateSum()).add(acc, lineScale);
      // Sampling every allocation measures, it does not estimate.
      traces.push(scaled.trace(traceback, interval === 1 && lineScale === 1));
    }
  }
  const total = traces.reduce((s, t) => s + t.size, 0);
  return { traces, total };
}

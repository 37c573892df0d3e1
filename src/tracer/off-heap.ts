import { Trace, type Traceback } from '../model/index.js';
import type { OffHeapSample } from '../capture/off-heap.js';
import type { SamplingHeapProfile, SamplingProfileNode } from '../capture/sampling.js';
import type { TracebackBuilder } from './frames.js';
import { tracesFromLiveSamples } from './from-sampling.js';
import { offHeapSamples } from './live-samples.js';

/**
 * Where V8's sampling profile puts each function: the column of its
 * parameter list, where a stack trace's enclosing position is the column of
 * the `function` keyword. Keyed by url, line and name, so that an off-heap
 * sample's frame becomes the very frame V8's samples use and both land in
 * one trace.
 */
export function profileColumns(profile: SamplingHeapProfile): Map<string, number> {
  const columns = new Map<string, number>();
  const stack: SamplingProfileNode[] = [profile.head];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const cf = node.callFrame;
    columns.set(`${cf.url}\0${cf.lineNumber + 1}\0${cf.functionName}`, cf.columnNumber + 1);
    for (const child of node.children) stack.push(child);
  }
  return columns;
}

/**
 * Unbiased estimates of live off-heap bytes per traceback from the
 * sampler's live samples: an allocation of `s` bytes was sampled with
 * probability p = 1 - exp(-s / interval), so each sample stands for 1/p
 * backing stores and s/p bytes, with variances (1 - p)/p² and s²(1 - p)/p².
 */
export function tracesFromOffHeapSamples(
  samples: readonly OffHeapSample[],
  interval: number,
  builder: TracebackBuilder,
  columns: ReadonlyMap<string, number> = new Map(),
): { traces: Trace[]; total: number } {
  return tracesFromLiveSamples(offHeapSamples(samples, interval, builder, columns));
}

/**
 * One trace per traceback: traces of the same (interned) traceback add up,
 * their sizes, counts, off-heap sizes, samples and variances (the heap and
 * off-heap estimates are independent).
 */
export function mergeTraces(traces: Iterable<Trace>): Trace[] {
  const byTraceback = new Map<Traceback, Trace>();
  for (const t of traces) {
    const into = byTraceback.get(t.traceback);
    if (!into) {
      byTraceback.set(t.traceback, t);
      continue;
    }
    const a = into.estimate;
    const b = t.estimate;
    const estimate =
      a || b
        ? {
            samples: (a?.samples ?? 0) + (b?.samples ?? 0),
            sizeVariance: (a?.sizeVariance ?? 0) + (b?.sizeVariance ?? 0),
            countVariance: (a?.countVariance ?? 0) + (b?.countVariance ?? 0),
          }
        : undefined;
    byTraceback.set(t.traceback, new Trace(t.traceback, into.size + t.size, into.count + t.count, estimate, into.offHeapSize + t.offHeapSize));
  }
  return [...byTraceback.values()];
}

/**
 * Sampling mode's live samples one by one, each with its traceback and
 * the bytes and objects it stands for: what a timeline records between
 * reads (which samples appeared, which died) without a heap snapshot.
 */
import type { Traceback } from '../model/index.js';
import type { SamplingHeapProfile, SamplingProfileNode } from '../capture/sampling.js';
import type { OffHeapSample } from '../capture/off-heap.js';
import type { RawFrame, TracebackBuilder } from './frames.js';
import { resolveSizes, sampleProbability } from './profile-sizes.js';

/**
 * One live sample. `id` is V8's ordinal for heap samples and minus the
 * sampler's serial for off-heap ones, so both kinds share one id space.
 * A class: see DEVELOPERS.md on shapes.
 */
export class LiveSample {
  constructor(
    readonly id: number,
    /** Null when the frame policy drops every frame (the tool's own allocations). */
    readonly traceback: Traceback | null,
    /** Bytes this sample stands for (size / p). */
    readonly size: number,
    /** Objects this sample stands for (1 / p). */
    readonly count: number,
    readonly offHeap: boolean,
  ) {}
}

/** V8's heap samples, with the same sizes and tracebacks as {@link tracesFromSamplingProfile}. */
export function heapSamples(profile: SamplingHeapProfile, interval: number, builder: TracebackBuilder): LiveSample[] {
  const parent = new Map<number, SamplingProfileNode | null>();
  const byId = new Map<number, SamplingProfileNode>();
  const stack: Array<[SamplingProfileNode, SamplingProfileNode | null]> = [[profile.head, null]];
  while (stack.length > 0) {
    const [node, up] = stack.pop()!;
    byId.set(node.id, node);
    parent.set(node.id, up);
    for (const child of node.children) stack.push([child, node]);
  }
  const groups = new Map<number, Map<number, number>>();
  for (const sample of profile.samples) {
    let g = groups.get(sample.nodeId);
    if (!g) groups.set(sample.nodeId, (g = new Map()));
    g.set(sample.size, (g.get(sample.size) ?? 0) + 1);
  }
  const sizes = new Map<number, Map<number, number>>();
  for (const [nodeId, g] of groups) sizes.set(nodeId, resolveSizes(g, byId.get(nodeId)?.selfSize ?? 0, interval));
  const tracebacks = new Map<number, Traceback | null>();
  const out: LiveSample[] = [];
  for (const sample of profile.samples) {
    let traceback = tracebacks.get(sample.nodeId);
    if (traceback === undefined) {
      const frames: RawFrame[] = [];
      for (let node = byId.get(sample.nodeId) ?? null; node && node !== profile.head; node = parent.get(node.id) ?? null) {
        const cf = node.callFrame;
        frames.push({ functionName: cf.functionName, url: cf.url, line: cf.lineNumber + 1, column: cf.columnNumber + 1 });
      }
      traceback = builder.build(frames);
      tracebacks.set(sample.nodeId, traceback);
    }
    const size = sizes.get(sample.nodeId)!.get(sample.size)!;
    const p = sampleProbability(size, interval);
    out.push(new LiveSample(sample.ordinal, traceback, size / p, 1 / p, false));
  }
  return out;
}

/** The off-heap sampler's samples; `columns` lines their frames up with V8's (see profileColumns). */
export function offHeapSamples(samples: readonly OffHeapSample[], interval: number, builder: TracebackBuilder, columns: ReadonlyMap<string, number>): LiveSample[] {
  const tracebacks = new Map<OffHeapSample['stack'], Traceback | null>();
  const out: LiveSample[] = [];
  for (const sample of samples) {
    let traceback = tracebacks.get(sample.stack);
    if (traceback === undefined) {
      const frames: RawFrame[] = sample.stack.map((f) => ({
        functionName: f.functionName,
        url: f.url,
        line: f.line,
        column: columns.get(`${f.url}\0${f.line}\0${f.functionName}`) ?? f.column,
      }));
      traceback = builder.build(frames);
      tracebacks.set(sample.stack, traceback);
    }
    if (!traceback) continue;
    const p = sampleProbability(sample.size, interval);
    out.push(new LiveSample(-sample.serial, traceback, sample.size / p, 1 / p, true));
  }
  return out;
}

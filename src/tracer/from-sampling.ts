import type { Trace } from '../model/index.js';
import type { SamplingHeapProfile, SamplingProfileNode } from '../capture/sampling.js';
import { EstimateSum } from './estimate-sum.js';
import { TracebackBuilder, type RawFrame } from './frames.js';
import { resolveSizes, sampleProbability } from './profile-sizes.js';

/**
 * Turn V8's live samples into unbiased estimates per call stack.
 *
 * V8 samples an object of `s` bytes with probability p = 1 - exp(-s / interval)
 * (a Poisson process over allocated bytes). Each sample therefore stands for
 * 1/p objects and s/p bytes (Horvitz–Thompson); the estimator's variance is
 * the sum of (1 - p) / p² times 1 or s², which gives the error bounds.
 */
export function tracesFromSamplingProfile(
  profile: SamplingHeapProfile,
  interval: number,
  builder: TracebackBuilder,
): { traces: Trace[]; total: number } {
  const parent = new Map<number, SamplingProfileNode | null>();
  const byId = new Map<number, SamplingProfileNode>();
  const stack: Array<[SamplingProfileNode, SamplingProfileNode | null]> = [[profile.head, null]];
  while (stack.length > 0) {
    const [node, up] = stack.pop()!;
    byId.set(node.id, node);
    parent.set(node.id, up);
    for (const child of node.children) stack.push([child, node]);
  }

  // Samples per node and reported size, to recover the objects' real sizes.
  const groups = new Map<number, Map<number, number>>();
  for (const sample of profile.samples) {
    let g = groups.get(sample.nodeId);
    if (!g) groups.set(sample.nodeId, (g = new Map()));
    g.set(sample.size, (g.get(sample.size) ?? 0) + 1);
  }
  const sizes = new Map<number, Map<number, number>>();
  for (const [nodeId, g] of groups) sizes.set(nodeId, resolveSizes(g, byId.get(nodeId)?.selfSize ?? 0, interval));

  const perNode = new Map<number, EstimateSum>();
  for (const sample of profile.samples) {
    const size = sizes.get(sample.nodeId)!.get(sample.size)!;
    const p = sampleProbability(size, interval);
    let acc = perNode.get(sample.nodeId);
    if (!acc) perNode.set(sample.nodeId, (acc = new EstimateSum()));
    const q = (1 - p) / (p * p);
    acc.samples += 1;
    acc.count += 1 / p;
    acc.size += size / p;
    acc.countVar += q;
    acc.sizeVar += q * size * size;
  }

  // Stacks that collapse to one traceback (after the frame limit) share one trace.
  const merged = new Map<Trace['traceback'], EstimateSum>();
  let total = 0;
  for (const [nodeId, acc] of perNode) {
    total += acc.size;
    const frames: RawFrame[] = [];
    for (let node = byId.get(nodeId) ?? null; node && node !== profile.head; node = parent.get(node.id) ?? null) {
      const cf = node.callFrame;
      frames.push({ functionName: cf.functionName, url: cf.url, line: cf.lineNumber + 1, column: cf.columnNumber + 1 });
    }
    const traceback = builder.build(frames);
    if (!traceback) continue;
    const into = merged.get(traceback);
    if (into) into.add(acc);
    else merged.set(traceback, acc);
  }
  const traces: Trace[] = [];
  for (const [traceback, acc] of merged) traces.push(acc.trace(traceback));
  return { traces, total: Math.round(total) };
}

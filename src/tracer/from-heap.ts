import { Trace } from '../model/index.js';
import { TracebackBuilder, type RawFrame } from './frames.js';

/** What exact mode needs from a parsed heap snapshot with allocation traces. */
export interface AllocationSource {
  readonly nodeCount: number;
  nodeTraceNodeId(node: number): number;
  nodeSelfSize(node: number): number;
  nodeTypeName(node: number): string;
  /** Frames of a trace node, innermost first, 1-based lines (0 = unknown). */
  allocationFrames(traceNodeId: number): ReadonlyArray<{ functionName: string; scriptName: string; line: number; column: number }>;
}

/** The allocation stack of a trace node, as raw frames for {@link TracebackBuilder}. */
export function siteFrames(source: Pick<AllocationSource, 'allocationFrames'>, site: number): RawFrame[] {
  return source.allocationFrames(site).map((f) => ({ functionName: f.functionName, url: f.scriptName, line: f.line, column: f.column }));
}

/**
 * Exact traces: every live object that V8 tagged with an allocation stack,
 * counted per stack. Objects allocated before tracking have no tag and are
 * not traced, like Python's.
 *
 * Compiled code (node type `code`) is left out: V8's JIT allocates it when it
 * decides to optimise, and blames whichever function happens to be running,
 * so it would add noise that changes from run to run to the program's sites.
 */
export function tracesFromHeap(source: AllocationSource, builder: TracebackBuilder): { traces: Trace[]; total: number } {
  const perSite = new Map<number, { count: number; size: number }>();
  for (let node = 0; node < source.nodeCount; node++) {
    const site = source.nodeTraceNodeId(node);
    if (site === 0 || source.nodeTypeName(node) === 'code') continue;
    const size = source.nodeSelfSize(node);
    const acc = perSite.get(site);
    if (acc) {
      acc.count++;
      acc.size += size;
    } else perSite.set(site, { count: 1, size });
  }
  const merged = new Map<object, { count: number; size: number }>();
  let total = 0;
  for (const [site, acc] of perSite) {
    const traceback = builder.build(siteFrames(source, site));
    if (!traceback) continue;
    total += acc.size;
    const into = merged.get(traceback);
    if (into) {
      into.count += acc.count;
      into.size += acc.size;
    } else merged.set(traceback, { ...acc });
  }
  const traces: Trace[] = [];
  for (const [traceback, acc] of merged) traces.push(new Trace(traceback as Trace['traceback'], acc.size, acc.count));
  return { traces, total };
}

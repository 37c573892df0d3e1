import type { SnapshotData } from './data.js';

/** One frame of an allocation traceback. */
export interface AllocationFrame {
  functionName: string;
  scriptName: string;
  scriptId: number;
  /** 1-based line of the function's definition, 0 when unknown (as in the file). */
  line: number;
  /** 1-based column of the function's definition, 0 when unknown. */
  column: number;
}

/** Resolves trace node ids to tracebacks through the flat trace tree. */
export class TraceIndex {
  private readonly d: SnapshotData;
  private readonly dense: Int32Array | null = null;
  private readonly sparse: Map<number, number> | null = null;
  private readonly stride: number;
  private readonly off: { name: number; scriptName: number; scriptId: number; line: number; column: number };

  constructor(d: SnapshotData) {
    this.d = d;
    const ids = d.traceTree.id;
    let max = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
    // V8 numbers trace nodes densely from 1, so an array indexed by id is both
    // smaller and faster than a Map; fall back to a Map for sparse ids.
    if (max <= ids.length * 4 + 1024) {
      this.dense = new Int32Array(max + 1).fill(-1);
      for (let i = 0; i < ids.length; i++) this.dense[ids[i]] = i;
    } else {
      this.sparse = new Map();
      for (let i = 0; i < ids.length; i++) this.sparse.set(ids[i], i);
    }
    const f = d.meta.traceFunctionInfoFields;
    this.stride = f.length || 6;
    this.off = {
      name: f.indexOf('name'),
      scriptName: f.indexOf('script_name'),
      scriptId: f.indexOf('script_id'),
      line: f.indexOf('line'),
      column: f.indexOf('column'),
    };
  }

  /** Index of the trace node with this id in the flat trace tree, or -1. */
  indexOf(traceNodeId: number): number {
    if (this.dense) return traceNodeId < this.dense.length ? this.dense[traceNodeId] : -1;
    return this.sparse!.get(traceNodeId) ?? -1;
  }

  /** The function frame of trace node `index` (an index, not an id). */
  frameAt(index: number): AllocationFrame {
    const d = this.d;
    const infos = d.traceFunctionInfos;
    const base = d.traceTree.functionInfoIndex[index] * this.stride;
    const num = (o: number): number => (o >= 0 && base + o < infos.length ? infos[base + o] : 0);
    const str = (o: number): string => {
      const s = num(o);
      return o >= 0 && s < d.strings.length ? d.strings.get(s)! : '';
    };
    return {
      functionName: str(this.off.name),
      scriptName: str(this.off.scriptName),
      scriptId: num(this.off.scriptId),
      line: num(this.off.line),
      column: num(this.off.column),
    };
  }

  /** Frames innermost first, following parent links up to the trace root. */
  frames(traceNodeId: number): AllocationFrame[] {
    const out: AllocationFrame[] = [];
    const parent = this.d.traceTree.parent;
    for (let i = this.indexOf(traceNodeId); i >= 0; i = parent[i]) {
      const f = this.frameAt(i);
      // V8's top trace node is a synthetic "(root)" entry, not a real frame.
      if (parent[i] < 0 && f.functionName === '(root)') break;
      out.push(f);
    }
    return out;
  }
}

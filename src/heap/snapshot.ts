import type { SnapshotData } from './data.js';
import { computeDistances, distanceEdges, distanceGraph, followsEdge, makeDistanceFilter, NO_DISTANCE } from './distances.js';
import { calculateDominatorsAndRetainedSizes, DominatorSearch, type DominatorTree } from './dominators.js';
import { DETACHED, elementClassName, propagateDOMState } from './dom-state.js';
import { initEssentialEdges } from './essential.js';
import { hiddenString } from './hide.js';
import { buildIdIndex, findId, type IdIndex } from './id-index.js';
import type { HeapSnapshotMeta } from './meta.js';
import { buildRetainers, type RetainerIndex, SOURCE_MASK } from './retainers.js';
import { isShared, sharedCopy, startGraphThread } from './second-thread.js';
import { type AllocationFrame, TraceIndex } from './traces.js';

/** One edge, resolved to names. */
export interface HeapEdge {
  /** Edge index (0..edgeCount-1). */
  index: number;
  /** Edge type name, e.g. "property", "element", "weak". */
  type: string;
  /** Property name, or the element/hidden index as a decimal string. */
  name: string;
  /** Source node ordinal. */
  from: number;
  /** Target node ordinal. */
  to: number;
}

/** One step of a retainer path: an edge followed from the previous node, and the node it reaches. */
export interface RetainerPathStep {
  /** Edge name as in {@link HeapEdge.name}. */
  edge: string;
  edgeType: string;
  /** Ordinal of the node reached. */
  nodeIndex: number;
  /** Short description of the node reached, e.g. "Map @1234". */
  node: string;
}

/**
 * A parsed heap snapshot: a graph over flat typed arrays, addressed by node
 * ordinal (0..nodeCount-1, the root is 0) and edge index.
 *
 * Derived structures (retainers, distances, dominators, id index) are built on
 * first use and cached.
 */
export class HeapSnapshot {
  /** The raw columns; read-only by convention, for fast loops. */
  readonly data: SnapshotData;
  readonly meta: HeapSnapshotMeta;
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** Ordinal of the root node (V8 writes it first). */
  readonly rootIndex = 0;
  /** Node type ids of interest (-1 when the snapshot lacks that type). */
  readonly nodeTypeIds: Readonly<Record<'hidden' | 'array' | 'string' | 'object' | 'code' | 'closure' | 'regexp' | 'number' | 'native' | 'synthetic' | 'concatenated string' | 'sliced string' | 'symbol' | 'bigint' | 'object shape', number>>;
  /** Edge type ids of interest (-1 when absent). */
  readonly edgeTypeIds: Readonly<Record<'context' | 'element' | 'property' | 'internal' | 'hidden' | 'shortcut' | 'weak', number>>;

  private distanceArray: Uint32Array | null = null;
  private distanceFollow: Uint8Array | null = null;
  private dominatorTree: DominatorTree | null = null;
  private idIndex: IdIndex | null = null;
  private traceIndex: TraceIndex | null = null;
  private locationIndex: Map<number, number> | null = null;

  /** @internal Built by the parser. */
  constructor(data: SnapshotData) {
    this.data = data;
    this.meta = data.meta;
    this.nodeCount = data.nodeCount;
    this.edgeCount = data.edgeCount;
    const nt = data.meta.nodeTypes;
    const et = data.meta.edgeTypes;
    const ids = <K extends string>(names: readonly K[], list: string[]): Record<K, number> =>
      Object.fromEntries(names.map((k) => [k, list.indexOf(k)])) as Record<K, number>;
    this.nodeTypeIds = ids(
      ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape'] as const,
      nt,
    );
    this.edgeTypeIds = ids(['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'] as const, et);
  }

  // ---- strings ----

  /** String `i` of the strings table (possibly truncated, see {@link stringLength}). */
  string(i: number): string {
    return this.data.strings.get(i) ?? '';
  }

  /** Original length of string `i`, which may exceed the stored one. */
  stringLength(i: number): number {
    return this.data.longStringLengths.get(i) ?? this.string(i).length;
  }

  // ---- nodes ----

  nodeTypeId(k: number): number {
    return this.data.nodeType[k];
  }

  /** Node type name, e.g. "object", "closure", "string". */
  nodeType(k: number): string {
    return this.meta.nodeTypes[this.data.nodeType[k]] ?? String(this.data.nodeType[k]);
  }

  /** Node name: constructor name for objects, function name for closures, contents for strings. */
  nodeName(k: number): string {
    return this.data.strings.get(this.data.nodeName[k])!;
  }

  /** Node id, stable across snapshots of one process (odd for JS objects). */
  nodeId(k: number): number {
    return this.data.nodeId[k];
  }

  selfSize(k: number): number {
    const s = this.data.nodeSelfSize[k];
    return s === 0xffffffff ? (this.data.bigSelfSizes.get(k) ?? s) : s;
  }

  /** First edge index of node `k`; its edges are [firstEdgeIndex(k), firstEdgeIndex(k + 1)). */
  firstEdgeIndex(k: number): number {
    return this.data.firstEdge[k];
  }

  nodeEdgeCount(k: number): number {
    return this.data.firstEdge[k + 1] - this.data.firstEdge[k];
  }

  /** Allocation trace node id, 0 when the object was not allocated under tracking. */
  traceNodeId(k: number): number {
    return this.data.nodeTraceId ? this.data.nodeTraceId[k] : 0;
  }

  /**
   * 0 unknown, 1 attached, 2 detached (DOM-like embedder objects), with the
   * state V8 writes at embedder entry points propagated to the native nodes
   * they hold, as DevTools and memlab do (a detached `<ul>`'s `<li>` are detached).
   */
  detachedness(k: number): number {
    if (this.domState === undefined) this.domState = propagateDOMState(this.data);
    return this.domState ? this.domState[k] : 0;
  }
  private domState: Uint8Array | null | undefined = undefined;

  /** Sum of all self sizes. */
  get totalSize(): number {
    let sum = 0;
    for (let k = 0; k < this.nodeCount; k++) sum += this.selfSize(k);
    return sum;
  }

  /**
   * Group name used by the census, as in DevTools' summary: the constructor
   * name for objects and native objects, elements by tag alone (`<div>`, and
   * `Detached <div>` when detached), "Function" for closures, "RegExp",
   * "(system)" for hidden nodes, "(compiled code)", otherwise "(type)".
   */
  className(k: number): string {
    const t = this.data.nodeType[k];
    const ids = this.nodeTypeIds;
    if (t === ids.object || t === ids.native) {
      const name = elementClassName(this.nodeName(k));
      return t === ids.native && this.detachedness(k) === DETACHED ? `Detached ${name}` : name;
    }
    if (t === ids.closure) return 'Function';
    if (t === ids.regexp) return 'RegExp';
    if (t === ids.hidden) return '(system)';
    if (t === ids.code) return '(compiled code)';
    return `(${this.nodeType(k)})`;
  }

  /**
   * One-line description such as `Leaky @1234`, `function make @56` or
   * `string (12 chars, #9f2c41d0) @78`.
   *
   * @param options.includeStrings show a string's contents (cut to 40
   *   characters), `string "abc…" @78`, instead of its length and a tag.
   *   Off by default: heap strings can hold secrets.
   */
  describeNode(k: number, options?: { includeStrings?: boolean }): string {
    const t = this.data.nodeType[k];
    const ids = this.nodeTypeIds;
    const id = this.nodeId(k);
    const name = this.nodeName(k);
    if (t === ids.native && this.detachedness(k) === DETACHED) return `Detached ${name || '(anonymous)'} @${id}`;
    if (t === ids.object || t === ids.native) return `${name || '(anonymous)'} @${id}`;
    if (t === ids.closure) return `function ${name || '(anonymous)'} @${id}`;
    if (t === ids.string || t === ids['concatenated string'] || t === ids['sliced string']) {
      if (!options?.includeStrings) return `${hiddenString(name, this.stringLength(this.data.nodeName[k]))} @${id}`;
      const s = name.length > 40 ? `${name.slice(0, 40)}…` : name;
      return `string ${JSON.stringify(s)} @${id}`;
    }
    return name ? `(${this.nodeType(k)}) ${name.length > 60 ? `${name.slice(0, 60)}…` : name} @${id}` : `(${this.nodeType(k)}) @${id}`;
  }

  /** Ordinal of the node with this id, or -1. */
  nodeIndexById(id: number): number {
    const idx = this.ids();
    const i = findId(idx, id);
    return i < 0 ? -1 : idx.ordinals[i];
  }

  /** Ordinals sorted by id (built once). */
  ids(): IdIndex {
    return (this.idIndex ??= buildIdIndex(this.data.nodeId));
  }

  /** Alias of {@link nodeType}. */
  nodeTypeName(k: number): string {
    return this.nodeType(k);
  }

  /** Alias of {@link selfSize}. */
  nodeSelfSize(k: number): number {
    return this.selfSize(k);
  }

  /** Alias of {@link traceNodeId}. */
  nodeTraceNodeId(k: number): number {
    return this.traceNodeId(k);
  }

  /** Alias of {@link nodeIndexById}: ordinal of the node with this id, or -1. */
  findNodeById(id: number): number {
    return this.nodeIndexById(id);
  }

  // ---- edges ----

  edgeTypeId(e: number): number {
    return this.data.edgeType[e];
  }

  edgeType(e: number): string {
    return this.meta.edgeTypes[this.data.edgeType[e]] ?? String(this.data.edgeType[e]);
  }

  /** True when the edge's name_or_index is a number (element and hidden edges). */
  edgeHasIndex(e: number): boolean {
    const t = this.data.edgeType[e];
    return t === this.edgeTypeIds.element || t === this.edgeTypeIds.hidden;
  }

  /** Raw name_or_index: a string index, or the index itself for element/hidden edges. */
  edgeNameOrIndex(e: number): number {
    return this.data.edgeNameOrIndex[e];
  }

  /** Property name, or the element/hidden index as a decimal string. */
  edgeName(e: number): string {
    const v = this.data.edgeNameOrIndex[e];
    return this.edgeHasIndex(e) ? String(v) : this.data.strings.get(v)!;
  }

  /** Target node ordinal. */
  edgeTarget(e: number): number {
    return this.data.edgeTo[e];
  }

  /** The outgoing edges of node `k`, resolved. */
  edges(k: number): HeapEdge[] {
    const out: HeapEdge[] = [];
    for (let e = this.data.firstEdge[k]; e < this.data.firstEdge[k + 1]; e++) out.push(this.edge(e, k));
    return out;
  }

  private edge(e: number, from: number): HeapEdge {
    return { index: e, type: this.edgeType(e), name: this.edgeName(e), from, to: this.data.edgeTo[e] };
  }

  // ---- retainers ----

  /** Reverse edge index (built once, 4 bytes per edge). */
  retainerIndex(): RetainerIndex {
    return (this.retainerIndex_ ??= buildRetainers(this.data, this.essentialEdges()));
  }
  private retainerIndex_: RetainerIndex | null = null;

  /** One bit per edge: whether it retains its target (`isEssentialEdge`); built once. */
  essentialEdges(): Uint8Array {
    return (this.essentialEdges_ ??= initEssentialEdges(this.data, this.rootIndex));
  }
  private essentialEdges_: Uint8Array | null = null;

  /** Every edge pointing at node `k`, ordered by source. */
  retainers(k: number): HeapEdge[] {
    const { first, source } = this.retainerIndex();
    const out: HeapEdge[] = [];
    let last = -1;
    for (let r = first[k]; r < first[k + 1]; r++) {
      const s = source[r] & SOURCE_MASK;
      if (s === last) continue; // all edges from s to k were collected below
      last = s;
      for (let e = this.data.firstEdge[s]; e < this.data.firstEdge[s + 1]; e++) {
        if (this.data.edgeTo[e] === k) out.push(this.edge(e, s));
      }
    }
    return out;
  }

  // ---- distances and paths ----

  /** Distances from the roots for every node, {@link NO_DISTANCE} when unreachable (built once). */
  distances(): Uint32Array {
    return (this.distanceArray ??= computeDistances(distanceGraph(this.data, this.followedEdges()), this.rootIndex));
  }

  /** One bit per edge: whether the distance search and retainer paths follow it (built once). */
  private followedEdges(): Uint8Array {
    return (this.distanceFollow ??= distanceEdges(this.data, makeDistanceFilter(this.data)));
  }

  /**
   * Computes what `tracemalloc heap` needs up front: dominators, retained
   * sizes, the retainer index and distances. When the columns are in shared
   * memory (as {@link readHeapSnapshot} reads big files), a worker thread
   * builds the retainer index and searches the distances meanwhile; the
   * results are the same.
   */
  async prepare(): Promise<void> {
    if (this.distanceArray && this.dominatorTree) return;
    const g = distanceGraph(this.data, this.followedEdges());
    if (this.distanceArray || this.dominatorTree || this.retainerIndex_ || ![g.firstEdge, g.edgeTo, g.nodeType].every(isShared)) {
      this.dominators();
      this.distances();
      return;
    }
    const essential = this.essentialEdges();
    const root = this.rootIndex;
    const thread = startGraphThread({ graph: { ...g, follow: sharedCopy(g.follow) }, essential: sharedCopy(essential), edgeCount: this.edgeCount, root });
    // The search from the root needs only the forward edges: it runs while
    // the other thread builds the retainer index. Should that thread fail,
    // this one does its work.
    const search = new DominatorSearch(this.data, essential, root);
    const retainers = await thread.retainers.catch(() => buildRetainers(this.data, essential));
    this.retainerIndex_ ??= retainers;
    this.dominatorTree ??= search.finish(retainers, (k) => this.selfSize(k));
    this.distanceArray ??= await thread.distances.catch(() => computeDistances(g, root));
  }

  distance(k: number): number {
    return this.distances()[k];
  }

  /** True if node `k` is reachable from the roots without weak edges. */
  isReachable(k: number): boolean {
    return this.distances()[k] !== NO_DISTANCE;
  }

  /**
   * A shortest path from the root to node `k` along the edges the distance
   * search follows, as steps from the root's child to `k`. Null if `k` is
   * unreachable; empty for the root. Strings on the path are described
   * without their contents unless `options.includeStrings` (see {@link describeNode}).
   */
  retainerPath(k: number, options?: { includeStrings?: boolean }): RetainerPathStep[] | null {
    const dist = this.distances();
    if (dist[k] === NO_DISTANCE) return null;
    const follow = this.followedEdges();
    const root = this.rootIndex;
    const { first, source } = this.retainerIndex();
    const steps: RetainerPathStep[] = [];
    let cur = k;
    while (cur !== root) {
      // Pick the retainer with the smallest distance (the root counts as -1, so
      // user roots reach it though the root's own distance is the system base).
      let best = -1;
      let bestEdge = -1;
      let bestDist = dist[cur];
      for (let r = first[cur]; r < first[cur + 1]; r++) {
        const s = source[r] & SOURCE_MASK;
        const ds = s === root ? -1 : dist[s];
        if (ds === NO_DISTANCE || ds >= bestDist) continue;
        for (let e = this.data.firstEdge[s]; e < this.data.firstEdge[s + 1]; e++) {
          if (this.data.edgeTo[e] !== cur || !followsEdge(follow, e)) continue;
          best = s;
          bestEdge = e;
          bestDist = ds;
          break;
        }
      }
      if (best < 0) break; // cannot happen for a consistent distance map
      steps.push({ edge: this.edgeName(bestEdge), edgeType: this.edgeType(bestEdge), nodeIndex: cur, node: this.describeNode(cur, options) });
      cur = best;
    }
    return steps.reverse();
  }

  // ---- dominators ----

  /** Dominator tree and retained sizes (built once). */
  dominators(): DominatorTree {
    return (this.dominatorTree ??= calculateDominatorsAndRetainedSizes(this.data, this.retainerIndex(), this.essentialEdges(), this.rootIndex, (k) => this.selfSize(k)));
  }

  /** Immediate dominator of node `k` (the root dominates itself). */
  dominatorOf(k: number): number {
    return this.dominators().dominator[k];
  }

  /** Bytes freed if node `k` became unreachable: its self size plus all it dominates. */
  retainedSize(k: number): number {
    return this.dominators().retainedSize[k];
  }

  // ---- source locations ----

  /**
   * Source location recorded for node `k` (closures, and instances, which take
   * their constructor's location), 0-based as in the file; null when absent.
   */
  location(k: number): { scriptId: number; line: number; column: number } | null {
    const f = this.meta.locationFields;
    const stride = f.length;
    const locs = this.data.locations;
    if (stride === 0 || locs.length === 0) return null;
    if (!this.locationIndex) {
      const objectIndex = f.indexOf('object_index');
      this.locationIndex = new Map();
      const nodeStride = this.meta.nodeFields.length;
      for (let r = 0; r + stride <= locs.length; r += stride) this.locationIndex.set(locs[r + objectIndex] / nodeStride, r);
    }
    const r = this.locationIndex.get(k);
    if (r === undefined) return null;
    return { scriptId: locs[r + f.indexOf('script_id')], line: locs[r + f.indexOf('line')], column: locs[r + f.indexOf('column')] };
  }

  // ---- allocation traces ----

  /** True when the snapshot has allocation traces (taken with allocation tracking on). */
  get hasAllocationTraces(): boolean {
    return this.data.traceTree.id.length > 0 && this.data.traceFunctionInfos.length > 0;
  }

  /** Traceback of a trace node, innermost frame first; empty for 0 or unknown ids. */
  allocationFrames(traceNodeId: number): AllocationFrame[] {
    if (traceNodeId === 0 || !this.hasAllocationTraces) return [];
    this.traceIndex ??= new TraceIndex(this.data);
    return this.traceIndex.frames(traceNodeId);
  }

  /** Traceback of the allocation of node `k`, innermost first; empty when untraced. */
  nodeAllocationFrames(k: number): AllocationFrame[] {
    return this.allocationFrames(this.traceNodeId(k));
  }
}

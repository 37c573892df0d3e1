import type { HeapSnapshotMeta } from './meta.js';
import type { StringTable } from './string-table.js';

/** Allocation trace tree in flat arrays, one entry per trace node, parents before children. */
export interface TraceTreeData {
  /** Trace node id (what a heap node's `trace_node_id` refers to). */
  id: Uint32Array;
  /** Index into the trace function infos (in records, not values). */
  functionInfoIndex: Uint32Array;
  /** Allocations made at this node while tracking, including dead objects. */
  count: Float64Array;
  size: Float64Array;
  /** Index of the parent trace node, or -1 for a top-level node. */
  parent: Int32Array;
}

/**
 * The parsed content of a snapshot, as flat typed arrays indexed by node ordinal
 * (0..nodeCount-1) and edge index (0..edgeCount-1).
 *
 * Types: ids, names and edge targets are uint32 in V8, so Uint32Array holds them
 * exactly (ids pass 2^31, which rules out Int32Array). Self sizes are stored as
 * Uint32Array too, since almost all fit; the rare size >= 2^32 (a huge native
 * backing store) goes to `bigSelfSizes`, saving 4 bytes per node over Float64Array.
 */
export interface SnapshotData {
  meta: HeapSnapshotMeta;
  nodeCount: number;
  edgeCount: number;
  nodeType: Uint8Array;
  nodeName: Uint32Array;
  nodeId: Uint32Array;
  nodeSelfSize: Uint32Array;
  bigSelfSizes: Map<number, number>;
  /** firstEdge[k]..firstEdge[k+1] are the edges of node k (length nodeCount + 1). */
  firstEdge: Uint32Array;
  /** Null when no node has a trace id (no allocation tracking). */
  nodeTraceId: Uint32Array | null;
  /** Null when the snapshot has no detachedness field. */
  nodeDetachedness: Uint8Array | null;
  edgeType: Uint8Array;
  edgeNameOrIndex: Uint32Array;
  /** Target node ordinal (the file's to_node divided by the node stride). */
  edgeTo: Uint32Array;
  /** The strings table, decoded on first use of each string. */
  strings: StringTable;
  /** Original lengths of strings stored truncated. */
  longStringLengths: Map<number, number>;
  traceFunctionInfos: Float64Array;
  traceTree: TraceTreeData;
  samples: Float64Array;
  locations: Float64Array;
}

import { HeapSnapshotError } from './errors.js';

/**
 * Field layout of a snapshot, read from its `snapshot.meta` object.
 * Every offset the engine uses is derived from these lists; none is hard-coded.
 */
export interface HeapSnapshotMeta {
  nodeFields: string[];
  /** Names of the values of the node `type` field (`meta.node_types[typeFieldIndex]`). */
  nodeTypes: string[];
  edgeFields: string[];
  /** Names of the values of the edge `type` field. */
  edgeTypes: string[];
  traceFunctionInfoFields: string[];
  traceNodeFields: string[];
  sampleFields: string[];
  locationFields: string[];
  /** `snapshot.node_count`, or -1 if absent. */
  nodeCount: number;
  /** `snapshot.edge_count`, or -1 if absent. */
  edgeCount: number;
  traceFunctionCount: number;
  /** `snapshot.extra_native_bytes` (newer V8), or 0. */
  extraNativeBytes: number;
  /** The whole `snapshot` object as written, for fields this engine does not model. */
  raw: Record<string, unknown>;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : [];
}

function typeEnum(fields: string[], types: unknown): string[] {
  const i = fields.indexOf('type');
  if (i < 0 || !Array.isArray(types)) return [];
  return stringList(types[i]);
}

/** Parses the text of the top-level `snapshot` value. */
export function parseMeta(text: string, offset: number): HeapSnapshotMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new HeapSnapshotError(`corrupt heap snapshot: "snapshot" header at byte ${offset} is not valid JSON`, offset);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new HeapSnapshotError(`corrupt heap snapshot: "snapshot" header at byte ${offset} is not an object`, offset);
  }
  const obj = raw as Record<string, unknown>;
  const m = obj.meta;
  if (typeof m !== 'object' || m === null) {
    throw new HeapSnapshotError(`not a V8 heap snapshot: "snapshot" at byte ${offset} has no "meta"`, offset);
  }
  const meta = m as Record<string, unknown>;
  const nodeFields = stringList(meta.node_fields);
  const edgeFields = stringList(meta.edge_fields);
  for (const [name, list, need] of [
    ['node_fields', nodeFields, ['type', 'name', 'id', 'self_size', 'edge_count']],
    ['edge_fields', edgeFields, ['type', 'name_or_index', 'to_node']],
  ] as const) {
    for (const f of need) {
      if (!list.includes(f)) {
        throw new HeapSnapshotError(`not a V8 heap snapshot: meta.${name} lacks "${f}" (header at byte ${offset})`, offset);
      }
    }
  }
  const num = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
  return {
    nodeFields,
    nodeTypes: typeEnum(nodeFields, meta.node_types),
    edgeFields,
    edgeTypes: typeEnum(edgeFields, meta.edge_types),
    traceFunctionInfoFields: stringList(meta.trace_function_info_fields),
    traceNodeFields: stringList(meta.trace_node_fields),
    sampleFields: stringList(meta.sample_fields),
    locationFields: stringList(meta.location_fields),
    nodeCount: num(obj.node_count, -1),
    edgeCount: num(obj.edge_count, -1),
    traceFunctionCount: num(obj.trace_function_count, 0),
    extraNativeBytes: num(obj.extra_native_bytes, 0),
    raw: obj,
  };
}

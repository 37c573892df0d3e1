// A hand-made snapshot with hand-computable dominators, retained sizes,
// distances and retainer paths. Layout as Node 20 writes it.

export const NODE_FIELDS = ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'];
export const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape'];
export const EDGE_FIELDS = ['type', 'name_or_index', 'to_node'];
export const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];

/** The `snapshot.meta` of a Node 20 file, with the field lists above. */
export const META = {
  node_fields: NODE_FIELDS,
  node_types: [NODE_TYPES, 'string', 'number', 'number', 'number', 'number', 'number'],
  edge_fields: EDGE_FIELDS,
  edge_types: [EDGE_TYPES, 'string_or_number', 'node'],
  trace_function_info_fields: ['function_id', 'name', 'script_name', 'script_id', 'line', 'column'],
  trace_node_fields: ['id', 'function_info_index', 'count', 'size', 'children'],
  sample_fields: ['timestamp_us', 'last_assigned_id'],
  location_fields: ['object_index', 'script_id', 'line', 'column'],
};

export const LONG = 'L'.repeat(5000);
export const UNICODE = 'héllo 😀 "q"\n\\ ✓';

interface N {
  type: string;
  name: string;
  size: number;
  trace?: number;
  edges: [string, string | number, number][];
}

/**
 * Graph (ordinal: type name size):
 *  0 root -element 1-> 1 (GC roots), -shortcut "global"-> 2 Global
 *  1 (GC roots) -element 1-> 9 Sys
 *  2 Global(10) -a-> 3 Alpha, -b-> 4 Beta, -weak w-> 8 Weakling
 *  3 Alpha(20) -c-> 5 Gamma, -s2-> 11 string "hello world"
 *  4 Beta(30) -c-> 5 Gamma (diamond), -shortcut sc-> 10 Ex
 *  5 Gamma(40) -d-> 6 Delta, -s-> 7 string "hello world"
 *  6 Delta(50)
 *  7 string(16) "hello world"
 *  8 Weakling(60) -x-> 10 Ex           (only weakly held)
 *  9 Sys(5) -d2-> 6 Delta
 * 10 Ex(70)
 * 11 string(16) "hello world"
 * 12 string(24) UNICODE, 13 string(5000) LONG, both held by Delta
 */
export const GRAPH: N[] = [
  { type: 'synthetic', name: '', size: 0, edges: [['element', 1, 1], ['shortcut', 'global', 2]] },
  { type: 'synthetic', name: '(GC roots)', size: 0, edges: [['element', 1, 9]] },
  { type: 'object', name: 'Global', size: 10, edges: [['property', 'a', 3], ['property', 'b', 4], ['weak', 'w', 8]] },
  { type: 'object', name: 'Alpha', size: 20, trace: 3, edges: [['property', 'c', 5], ['property', 's2', 11]] },
  { type: 'object', name: 'Beta', size: 30, trace: 2, edges: [['property', 'c', 5], ['shortcut', 'sc', 10]] },
  { type: 'object', name: 'Gamma', size: 40, edges: [['property', 'd', 6], ['property', 's', 7]] },
  { type: 'object', name: 'Delta', size: 50, edges: [['property', 'u', 12], ['property', 'long', 13]] },
  { type: 'string', name: 'hello world', size: 16, edges: [] },
  { type: 'object', name: 'Weakling', size: 60, edges: [['property', 'x', 10]] },
  { type: 'object', name: 'Sys', size: 5, edges: [['property', 'd2', 6]] },
  { type: 'object', name: 'Ex', size: 70, edges: [] },
  { type: 'string', name: 'hello world', size: 16, edges: [] },
  { type: 'string', name: UNICODE, size: 24, edges: [] },
  { type: 'string', name: LONG, size: 5000, edges: [] },
];

/** Expected values, by ordinal. */
export const EXPECTED = {
  total: 10 + 20 + 30 + 40 + 50 + 16 + 60 + 5 + 70 + 16 + 24 + 5000,
  dominator: [0, 0, 0, 2, 2, 2, 0, 5, 0, 1, 8, 3, 6, 6],
  retained: [0, 5, 132, 36, 30, 56, 5074, 16, 130, 5, 70, 16, 24, 5000].map((v, k) => (k === 0 ? 10 + 20 + 30 + 40 + 50 + 16 + 60 + 5 + 70 + 16 + 24 + 5000 : v)),
  // root has user roots, so it sits at the system base; -1 = unreachable
  distance: [100_000_000, 100_000_001, 1, 2, 2, 3, 4, 4, -1, 100_000_002, 3, 3, 5, 5],
};

export interface TinyOptions {
  /** Key order of the top-level object. */
  order?: string[];
  /** Add an unknown key with a nested value. */
  unknownKey?: boolean;
  /** Write the non-ASCII characters of strings as \u escapes (V8 style). */
  escapeUnicode?: boolean;
}

export function tinySnapshotJson(options: TinyOptions = {}): string {
  const strings: string[] = [];
  const idx = new Map<string, number>();
  const str = (s: string): number => {
    let i = idx.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      idx.set(s, i);
    }
    return i;
  };
  const fns = ['(root)', 'outer', 'inner'].map(str);
  const script = str('file:///app/a.js');
  const nodes: number[] = [];
  const edges: number[] = [];
  GRAPH.forEach((n, k) => {
    nodes.push(NODE_TYPES.indexOf(n.type), str(n.name), k * 2 + 1, n.size, n.edges.length, n.trace ?? 0, 0);
    for (const [t, name, to] of n.edges) {
      edges.push(EDGE_TYPES.indexOf(t), typeof name === 'number' ? name : str(name), to * NODE_FIELDS.length);
    }
  });
  const doc: Record<string, unknown> = {
    snapshot: {
      meta: META,
      node_count: GRAPH.length,
      edge_count: edges.length / 3,
      trace_function_count: 3,
    },
    nodes,
    edges,
    trace_function_infos: [1, fns[0], 0, 0, 0, 0, 2, fns[1], script, 7, 1, 1, 3, fns[2], script, 7, 5, 3],
    trace_tree: [1, 0, 5, 500, [2, 1, 4, 400, [3, 2, 3, 300, []]]],
    samples: [100, 5, 200, 27],
    locations: [3 * 7, 7, 4, 2],
    strings,
  };
  const order = options.order ?? Object.keys(doc);
  const parts = order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(doc[k])}`);
  if (options.unknownKey) parts.splice(1, 0, '"zz_unknown":{"a":[1,2,{"b":"]}\\"["}],"c":null}', '"zz_scalar":-12.5e3');
  let text = `{${parts.join(',\n')}}`;
  if (options.escapeUnicode) {
    text = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  return text;
}

import { isIndexEdge, retainerPathText, type HeapSnapshot, type RetainerPathStep } from '../heap/index.js';
import type { OldObjects } from './sites.js';

/** One step of a retainer path: the edge followed and the object it reaches. */
export interface RetainerStep {
  /** Property or variable name; `[]` for array, hidden and numbered internal slots. */
  edge: string;
  /** V8 edge type: property, element, context, internal, hidden, shortcut. */
  edgeType: string;
  /** Constructor or group name of the object reached, e.g. `Map`, `(array)`, `Function`. */
  className: string;
  /** DevTools-style description, e.g. `Map @1234`. */
  node: string;
  /** True when the object did not exist yet after the warm-up. */
  isNew: boolean;
}

/** Leaked objects that are kept alive by the same holder. */
export interface RetainerCluster {
  /**
   * Readable path from the nearest variable or global property to a leaked
   * object, e.g. `(scope) cache (Map) → [entries] (Session)`.
   */
  path: string;
  /** The holder: the last object on the path that already existed after the warm-up. */
  holder: string;
  /** Sampled objects in this cluster. */
  sampled: number;
  /** Their share of all sampled objects, 0..1. */
  share: number;
  /** Full shortest path from the GC roots to the representative object. */
  steps: RetainerStep[];
}

// Types worth showing as the leaked object, in this order of preference.
const SHOWN_TYPES = ['object', 'native', 'closure', 'regexp', 'string', 'concatenated string', 'sliced string', 'array', 'number', 'symbol', 'bigint'];

function priority(heap: HeapSnapshot, k: number): number {
  // V8's own objects (closure scopes, shapes) explain less than the user's.
  if (heap.nodeName(k).startsWith('system /')) return SHOWN_TYPES.length;
  const rank = SHOWN_TYPES.indexOf(heap.nodeType(k));
  return rank === -1 ? SHOWN_TYPES.length : Math.min(rank, 2);
}

/** Up to `count` objects spread evenly over the most telling type group. */
export function pickSample(heap: HeapSnapshot, objects: readonly number[], count: number): number[] {
  let best = Infinity;
  for (const k of objects) best = Math.min(best, priority(heap, k));
  const pool = objects.filter((k) => priority(heap, k) === best);
  if (pool.length <= count) return pool;
  const picked: number[] = [];
  for (let i = 0; i < count; i++) picked.push(pool[Math.floor((i * pool.length) / count)]);
  return picked;
}

/**
 * Shortest retainer paths of a sample of leaked objects, grouped by the
 * object that holds them: the last object on the path that is older than
 * the measured iterations (the leaked objects, and containers reallocated as
 * they grow, are newer). So 10,000 entries of one Map are one cluster.
 */
export function clusterRetainers(heap: HeapSnapshot, sample: readonly number[], old: OldObjects): RetainerCluster[] {
  const groups = new Map<string, Array<{ path: RetainerPathStep[]; holderPos: number; k: number }>>();
  let total = 0;
  for (const k of sample) {
    const path = heap.retainerPath(k);
    if (!path || path.length === 0) continue;
    let holderPos = -1;
    for (let j = path.length - 2; j >= 0; j--) {
      if (old.has(heap.nodeId(path[j].nodeIndex))) {
        holderPos = j;
        break;
      }
    }
    const key = holderPos < 0 ? 'roots' : String(path[holderPos].nodeIndex);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push({ path, holderPos, k });
    total++;
  }
  const clusters: RetainerCluster[] = [];
  for (const members of groups.values()) {
    const rep = members.reduce((a, b) => (priority(heap, b.k) < priority(heap, a.k) || (priority(heap, b.k) === priority(heap, a.k) && b.path.length < a.path.length) ? b : a));
    const holder = rep.holderPos < 0 ? '(GC roots)' : rep.path[rep.holderPos].node;
    clusters.push({
      path: retainerPathText(heap, rep.path, rep.holderPos),
      holder,
      sampled: members.length,
      share: members.length / total,
      steps: rep.path.map((s) => ({
        edge: isIndexEdge(s) ? '[]' : s.edge,
        edgeType: s.edgeType,
        className: heap.className(s.nodeIndex),
        node: s.node,
        isNew: !old.has(heap.nodeId(s.nodeIndex)),
      })),
    });
  }
  return clusters.sort((a, b) => b.sampled - a.sampled);
}

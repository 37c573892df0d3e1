/**
 * Ground truth from a heap snapshot: the bytes and objects each site of a
 * corpus program really keeps.
 *
 * The rule. The program lists, per site, the objects that site allocated and
 * still keeps (its roots: the records in a list, the values of a Map, the
 * closures...). Each heap object belongs to at most one site:
 * - a root belongs to its site;
 * - the backing store of a container the program grew (an array's elements,
 *   a Map's or Set's table) belongs to that container's store;
 * - any other object belongs to whatever its immediate dominator belongs to,
 *   so a record's strings, arrays and boxed numbers count with the record
 *   when the record alone keeps them; objects kept by two roots, or by
 *   nothing we listed, belong to no site.
 * A site's truth is the self sizes and the number of the objects it owns.
 * Corpus programs therefore build each root's exclusively held parts in the
 * root's own function (the convention that makes "the function that
 * allocated it" one function per site).
 */
import type { HeapSnapshot } from '../../src/heap/index.js';

/** Figures of one site or store. */
export interface Truth {
  bytes: number;
  objects: number;
}

/**
 * Holds what the bench measures while the truth's heap snapshot is taken; its
 * constructor name is how the snapshot finds it.
 */
export class AccuracyTruthRoots {
  constructor(
    readonly sites: Record<string, unknown[]>,
    readonly stores: Record<string, object>,
  ) {}
}

const NONE = -1;
const UNKNOWN = -2;

/** Truth per site and per store, from a snapshot taken while an {@link AccuracyTruthRoots} is alive. */
export function measureTruth(heap: HeapSnapshot): { sites: Record<string, Truth>; stores: Record<string, Truth>; unownedRoots: number } {
  let registry = -1;
  for (let k = 0; k < heap.nodeCount; k++) {
    if (heap.nodeType(k) === 'object' && heap.nodeName(k) === 'AccuracyTruthRoots') {
      if (registry !== -1) throw new Error('two AccuracyTruthRoots in the heap');
      registry = k;
    }
  }
  if (registry === -1) throw new Error('no AccuracyTruthRoots in the heap snapshot');
  const property = (k: number, name: string): number => {
    const e = heap.edges(k).find((x) => x.type === 'property' && x.name === name);
    if (!e) throw new Error(`heap node ${heap.describeNode(k)} has no property ${name}`);
    return e.to;
  };
  const named = (k: number) => heap.edges(k).filter((e) => e.type === 'property' && e.name !== '__proto__' && e.name !== 'constructor');

  const owner = new Int32Array(heap.nodeCount).fill(UNKNOWN);
  owner[heap.rootIndex] = NONE;
  owner[registry] = NONE;
  const siteNames: string[] = [];
  const sitesNode = property(registry, 'sites');
  const storesNode = property(registry, 'stores');
  owner[sitesNode] = NONE;
  owner[storesNode] = NONE;
  let unownedRoots = 0;
  for (const e of named(sitesNode)) {
    const s = siteNames.push(e.name) - 1;
    owner[e.to] = NONE; // the bench's list, and its elements store below
    for (const el of heap.edges(e.to)) {
      if (el.type === 'internal' && el.name === 'elements') owner[el.to] = NONE;
    }
    for (const el of heap.edges(e.to)) {
      if (el.type !== 'element') continue;
      const t = heap.nodeType(el.to);
      if (t === 'number' || t === 'hidden') {
        unownedRoots++;
        continue;
      }
      if (owner[el.to] >= 0 && owner[el.to] !== s) throw new Error(`an object is a root of both ${siteNames[owner[el.to]]} and ${e.name}`);
      owner[el.to] = s;
    }
  }
  const storeNames: string[] = [];
  for (const e of named(storesNode)) {
    const s = siteNames.length + storeNames.push(e.name) - 1;
    const store = heap.edges(e.to).find((x) => x.type === 'internal' && (x.name === 'elements' || x.name === 'table'));
    if (store && owner[store.to] === UNKNOWN) owner[store.to] = s;
  }

  // Everything else inherits its immediate dominator's owner.
  const idom = heap.dominators().dominator;
  const path: number[] = [];
  for (let k = 0; k < heap.nodeCount; k++) {
    let n = k;
    while (owner[n] === UNKNOWN) {
      path.push(n);
      n = idom[n];
    }
    const o = owner[n];
    for (const p of path) owner[p] = o;
    path.length = 0;
  }

  const bytes = new Float64Array(siteNames.length + storeNames.length);
  const objects = new Float64Array(siteNames.length + storeNames.length);
  for (let k = 0; k < heap.nodeCount; k++) {
    const o = owner[k];
    if (o < 0) continue;
    bytes[o] += heap.selfSize(k);
    objects[o]++;
  }
  const pick = (names: string[], offset: number): Record<string, Truth> =>
    Object.fromEntries(names.map((name, i) => [name, { bytes: bytes[offset + i], objects: objects[offset + i] }]));
  return { sites: pick(siteNames, 0), stores: pick(storeNames, siteNames.length), unownedRoots };
}

import type { SnapshotData } from './data.js';

/**
 * Which edges retain: the one rule that dominators, retained sizes and the
 * retainer index's {@link NON_ESSENTIAL} flag all use.
 *
 * An edge retains (DevTools calls it "essential") unless it is
 * - weak: the GC does not follow it;
 * - a self edge: it cannot keep its own node alive;
 * - a shortcut from any node but the root: V8 adds shortcuts as extra views of
 *   objects already held another way (bound functions, system/Context slots);
 *   at the root they mark the user globals, which the root does hold;
 * - from a node the root does not reach into one it does reach (`reached`,
 *   from {@link markReachableFromRoot}): snapshots keep some garbage (code
 *   objects nothing refers to, say), and garbage must not share the credit for
 *   what live objects hold. memlab has the same effect through its page-object
 *   flags.
 *
 * DevTools instead drops edges from objects not reachable from the page's
 * globals into objects that are (its "page-owned" rule, meant to hide the
 * debugger's references); on a Node snapshot that would hide every edge from
 * the GC roots into user objects, so we keep to the definition memlab and a
 * brute force agree on: remove the node, count what becomes unreachable.
 */
export function isEssentialEdge(d: SnapshotData, from: number, e: number, types: EdgeTypes, reached: Uint8Array | null): boolean {
  const t = d.edgeType[e];
  const to = d.edgeTo[e];
  if (t === types.weak || to === from) return false;
  if (from === types.root) return true;
  if (t === types.shortcut) return false;
  return reached === null || reached[from] === 1 || reached[to] === 0;
}

/** Edge type ids the rule needs, and the root's ordinal. */
export interface EdgeTypes {
  weak: number;
  shortcut: number;
  root: number;
}

/**
 * Marks the nodes the root reaches through the edges set in `bits`
 * (iterative search).
 */
export function markReachableFromRoot(d: SnapshotData, bits: Uint8Array, root: number): Uint8Array {
  const reached = new Uint8Array(d.nodeCount);
  const stack = new Uint32Array(d.nodeCount);
  const { firstEdge, edgeTo } = d;
  let sp = 0;
  reached[root] = 1;
  stack[sp++] = root;
  while (sp > 0) {
    const k = stack[--sp];
    const end = firstEdge[k + 1];
    for (let e = firstEdge[k]; e < end; e++) {
      const c = edgeTo[e];
      if (reached[c] === 1 || !edgeIsEssential(bits, e)) continue;
      reached[c] = 1;
      stack[sp++] = c;
    }
  }
  return reached;
}

/**
 * One bit per edge, set when {@link isEssentialEdge} holds (DevTools'
 * `initEssentialEdges`): E/8 bytes, so the passes that need the rule read one
 * bit instead of re-deriving it. Built in three steps: the rule without its
 * reachability clause, the search from the root over those bits, then the
 * full rule again on the edges of the nodes the root does not reach (only
 * there can the clause change the answer).
 */
export function initEssentialEdges(d: SnapshotData, root: number): Uint8Array {
  const types: EdgeTypes = { weak: d.meta.edgeTypes.indexOf('weak'), shortcut: d.meta.edgeTypes.indexOf('shortcut'), root };
  const bits = new Uint8Array((d.edgeCount + 7) >>> 3);
  const { firstEdge } = d;
  const n = d.nodeCount;
  for (let k = 0; k < n; k++) {
    const end = firstEdge[k + 1];
    for (let e = firstEdge[k]; e < end; e++) if (isEssentialEdge(d, k, e, types, null)) bits[e >>> 3] |= 1 << (e & 7);
  }
  const reached = markReachableFromRoot(d, bits, root);
  for (let k = 0; k < n; k++) {
    if (reached[k] === 1) continue;
    const end = firstEdge[k + 1];
    for (let e = firstEdge[k]; e < end; e++) if (edgeIsEssential(bits, e) && !isEssentialEdge(d, k, e, types, reached)) bits[e >>> 3] &= ~(1 << (e & 7));
  }
  return bits;
}

/** Bit `e` of an {@link initEssentialEdges} vector. */
export function edgeIsEssential(bits: Uint8Array, e: number): boolean {
  return (bits[e >>> 3] & (1 << (e & 7))) !== 0;
}

/** Set on a retainer entry whose edge does not retain (see {@link isEssentialEdge}). */
export const NON_ESSENTIAL = 0x80000000;

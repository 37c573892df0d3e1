import type { SnapshotData } from './data.js';

/** DOM link states, as V8 writes them in the `detachedness` field. */
export const UNKNOWN = 0;
export const ATTACHED = 1;
export const DETACHED = 2;

/**
 * Propagates DOM attachedness from the embedder nodes that know it to the
 * native nodes they hold (DevTools' `propagateDOMState`; memlab does the
 * same): V8 writes the state only at entry points into embedder memory, so a
 * detached `<ul>`'s `<li>` children read "unknown" until this runs.
 *
 * Attached wins: first every node reachable from an attached one through
 * native nodes is attached, then what is left reachable from a detached one is
 * detached. The walk never crosses a non-native node (JavaScript objects do
 * not belong to a DOM tree) and skips hidden and weak edges, as DevTools does.
 *
 * Returns null when the snapshot has no detachedness field (Node before 20,
 * or nothing to propagate); otherwise a new array, the file's own left as read.
 */
export function propagateDOMState(d: SnapshotData): Uint8Array | null {
  const input = d.nodeDetachedness;
  if (!input) return null;
  const n = d.nodeCount;
  let any = false;
  for (let k = 0; k < n && !any; k++) any = input[k] !== UNKNOWN;
  if (!any) return null;
  const state = new Uint8Array(n);
  const visited = new Uint8Array(n);
  const native = d.meta.nodeTypes.indexOf('native');
  const hiddenEdge = d.meta.edgeTypes.indexOf('hidden');
  const weakEdge = d.meta.edgeTypes.indexOf('weak');
  const invisibleEdge = d.meta.edgeTypes.indexOf('invisible');
  const { nodeType, firstEdge, edgeTo, edgeType } = d;
  const attached: number[] = [];
  const detached: number[] = [];
  const visit = (k: number, s: number): void => {
    if (visited[k]) return;
    visited[k] = 1;
    if (nodeType[k] !== native) return;
    state[k] = s;
    if (s === ATTACHED) attached.push(k);
    else if (s === DETACHED) detached.push(k);
  };
  const spread = (k: number, s: number): void => {
    for (let e = firstEdge[k]; e < firstEdge[k + 1]; e++) {
      const t = edgeType[e];
      if (t === hiddenEdge || t === weakEdge || t === invisibleEdge) continue;
      visit(edgeTo[e], s);
    }
  };
  for (let k = 0; k < n; k++) if (input[k] !== UNKNOWN) visit(k, input[k]);
  while (attached.length > 0) spread(attached.pop()!, ATTACHED);
  while (detached.length > 0) {
    const k = detached.pop()!;
    if (state[k] !== ATTACHED) spread(k, DETACHED);
  }
  return state;
}

/**
 * DevTools' class name for an element: the tag without its attributes, so
 * `<div id="root" class="a">` counts as `<div>`; other names unchanged.
 */
export function elementClassName(name: string): string {
  if (!name.startsWith('<')) return name;
  const space = name.indexOf(' ');
  return space < 0 ? name : `${name.slice(0, space)}>`;
}

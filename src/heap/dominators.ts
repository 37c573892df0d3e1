import type { SnapshotData } from './data.js';
import { NON_ESSENTIAL, type RetainerIndex, SOURCE_MASK } from './retainers.js';

/** Immediate dominators and retained sizes, indexed by node ordinal. */
export interface DominatorTree {
  /** Immediate dominator of each node; the root is its own dominator. */
  dominator: Uint32Array;
  /** Self size of each node plus that of every node it dominates. */
  retainedSize: Float64Array;
}

const NONE = 0xffffffff;

/**
 * Dominator tree by the Cooper–Harvey–Kennedy iteration ("A Simple, Fast
 * Dominance Algorithm") over postorder numbers, on the graph of essential edges
 * (weak edges and non-root shortcuts do not retain), as DevTools does.
 *
 * Nodes not reachable from the root through essential edges are treated as
 * children of the root: first those with no essential retainer at all (held
 * only weakly) and their subgraphs, then any leftover cycles. This keeps every
 * node in the tree, so retained sizes always add up to the total heap size.
 *
 * Memory: a handful of Uint32Arrays of nodeCount entries, freed on return
 * except for the two result arrays.
 */
export function computeDominators(d: SnapshotData, retainers: RetainerIndex, root: number, selfSize: (k: number) => number): DominatorTree {
  const n = d.nodeCount;
  const { firstEdge, edgeTo, edgeType } = d;
  const weak = d.meta.edgeTypes.indexOf('weak');
  const shortcut = d.meta.edgeTypes.indexOf('shortcut');

  // 1. Postorder numbering by iterative depth-first search over essential edges.
  // Memory plan (the peak of the whole engine happens here): one 8n-byte
  // buffer holds node2po and dom (which doubles as the DFS edge cursor), and at
  // the end becomes the Float64 retained sizes once both are dead.
  const shared = new ArrayBuffer(8 * n);
  const node2po = new Uint32Array(shared, 0, n).fill(NONE);
  const stackEdge = new Uint32Array(shared, 4 * n, n);
  const po2node = new Uint32Array(n);
  const stackNode = new Uint32Array(n);
  // A node started as an extra DFS tree (unreachable from the root) gets the root as a virtual retainer.
  const extraStart = new Uint8Array(n);
  const visited = new Uint8Array(n);
  let poNext = 0;
  const dfs = (start: number): void => {
    let top = 0;
    stackNode[0] = start;
    stackEdge[0] = firstEdge[start];
    visited[start] = 1;
    while (top >= 0) {
      const k = stackNode[top];
      const e = stackEdge[top];
      if (e < firstEdge[k + 1]) {
        stackEdge[top] = e + 1;
        const t = edgeType[e];
        if (t === weak || (t === shortcut && k !== root)) continue;
        const c = edgeTo[e];
        if (visited[c]) continue;
        visited[c] = 1;
        top++;
        stackNode[top] = c;
        stackEdge[top] = firstEdge[c];
      } else {
        node2po[k] = poNext;
        po2node[poNext++] = k;
        top--;
      }
    }
  };
  dfs(root);
  if (poNext < n) {
    poNext--; // the root must come last; it is re-appended below
    const { first, source } = retainers;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < n; k++) {
        if (visited[k]) continue;
        if (pass === 0) {
          let essential = false;
          for (let r = first[k]; r < first[k + 1]; r++) {
            if ((source[r] & NON_ESSENTIAL) === 0) {
              essential = true;
              break;
            }
          }
          if (essential) continue;
        }
        extraStart[k] = 1;
        dfs(k);
      }
    }
    node2po[root] = poNext;
    po2node[poNext++] = root;
  }
  const rootPo = n - 1;

  // 2. Iterate to a fixed point, in reverse postorder, only revisiting nodes
  // whose retainers changed.
  const dom = stackEdge; // reuse: indexed by postorder number
  dom.fill(NONE);
  dom[rootPo] = rootPo;
  const affected = visited; // reuse: 1 = needs recomputation
  affected.fill(1);
  const { first, source } = retainers;
  let changed = true;
  while (changed) {
    changed = false;
    for (let p = rootPo - 1; p >= 0; p--) {
      if (affected[p] === 0) continue;
      affected[p] = 0;
      if (dom[p] === rootPo) continue; // cannot move any higher
      const k = po2node[p];
      let idom = extraStart[k] ? rootPo : NONE;
      const rEnd = first[k + 1];
      for (let r = first[k]; r < rEnd; r++) {
        const s = source[r];
        if (s & NON_ESSENTIAL) continue;
        let f1 = node2po[s & SOURCE_MASK];
        if (dom[f1] === NONE) continue;
        if (idom === NONE) {
          idom = f1;
          continue;
        }
        let f2 = idom;
        while (f1 !== f2) {
          while (f1 < f2) f1 = dom[f1];
          while (f2 < f1) f2 = dom[f2];
        }
        idom = f1;
        if (idom === rootPo) break;
      }
      if (idom !== NONE && dom[p] !== idom) {
        dom[p] = idom;
        changed = true;
        // Children's dominators may move: mark them for the next sweep.
        for (let e = firstEdge[k]; e < firstEdge[k + 1]; e++) {
          const t = edgeType[e];
          if (t === weak || (t === shortcut && k !== root)) continue;
          affected[node2po[edgeTo[e]]] = 1;
        }
      }
    }
  }

  // 3. Back to ordinals; accumulate retained sizes children-first (postorder).
  const dominator = stackNode; // reuse
  for (let p = 0; p < n; p++) {
    const dp = dom[p];
    dominator[po2node[p]] = dp === NONE ? root : po2node[dp];
  }
  dominator[root] = root;
  // node2po and dom are dead now: their buffer becomes the retained sizes.
  const retainedSize = new Float64Array(shared);
  for (let k = 0; k < n; k++) retainedSize[k] = selfSize(k);
  for (let p = 0; p < rootPo; p++) {
    const k = po2node[p];
    retainedSize[dominator[k]] += retainedSize[k];
  }
  return { dominator, retainedSize };
}

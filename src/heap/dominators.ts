import type { SnapshotData } from './data.js';
import { edgeIsEssential, NON_ESSENTIAL } from './essential.js';
import { type RetainerIndex, SOURCE_MASK } from './retainers.js';

/** Immediate dominators and retained sizes, indexed by node ordinal. */
export interface DominatorTree {
  /** Immediate dominator of each node; the root is its own dominator. */
  dominator: Uint32Array;
  /** Self size of each node plus that of every node it dominates. */
  retainedSize: Float64Array;
}

const NONE = 0xffffffff;

/**
 * True when no edge into node `k` retains it (DevTools' `hasOnlyWeakRetainers`):
 * such a node starts its own search tree under the root.
 */
export function hasOnlyWeakRetainers(retainers: RetainerIndex, k: number): boolean {
  const { first, source } = retainers;
  for (let r = first[k]; r < first[k + 1]; r++) if ((source[r] & NON_ESSENTIAL) === 0) return false;
  return true;
}

/**
 * Dominator tree and retained sizes (DevTools' `calculateDominatorsAndRetainedSizes`),
 * by the Semi-NCA algorithm (Georgiadis, "Linear-Time Algorithms for
 * Dominators and Related Problems", 2005): semidominators as in
 * Lengauer–Tarjan, then each immediate dominator as the nearest common
 * ancestor of the node's DFS parent and its semidominator. Exact on any graph,
 * near-linear in practice, with no fixed-point iteration.
 *
 * The graph is the snapshot's essential edges (see `isEssentialEdge`), plus, as
 * in DevTools, a virtual edge from the root to every node the root does not
 * reach: first to each node that has no essential retainer at all (its subgraph
 * is searched from it), then to each node still left (garbage cycles nothing
 * reaches), which thus gets the root as its immediate dominator. So every node
 * is in the tree and the root's retained size is the whole heap.
 *
 * Memory: six arrays of 4 bytes per node at the peak; the two results reuse
 * three of them. Search and path compression are iterative (no recursion) and
 * allocate nothing per node.
 */
export function calculateDominatorsAndRetainedSizes(
  d: SnapshotData,
  retainers: RetainerIndex,
  essential: Uint8Array,
  root: number,
  selfSize: (k: number) => number,
): DominatorTree {
  return new DominatorSearch(d, essential, root).finish(retainers, selfSize);
}

/**
 * {@link calculateDominatorsAndRetainedSizes} in two steps, so that the
 * retainer index can be built on another thread meanwhile: the constructor
 * runs the depth-first search from the root, which needs only the forward
 * edges; {@link finish} does the rest.
 */
export class DominatorSearch {
  // Arrays by DFS preorder number, except `pre` (node -> number). `parent`
  // holds the search tree, then the compressed links of the Lengauer–Tarjan
  // forest; `semi` and `label` share one buffer that ends as the Float64
  // retained sizes.
  private readonly pre: Uint32Array;
  private readonly vertex: Uint32Array;
  private readonly parent: Uint32Array;
  private readonly pair: ArrayBuffer;
  private count = 0;

  constructor(
    private readonly d: SnapshotData,
    private readonly essential: Uint8Array,
    private readonly root: number,
  ) {
    const n = d.nodeCount;
    this.pre = new Uint32Array(n).fill(NONE);
    this.vertex = new Uint32Array(n);
    this.parent = new Uint32Array(n);
    this.pair = new ArrayBuffer(8 * n);
    this.dfs(root, NONE);
  }

  // 1. Depth-first search in preorder over essential edges, walking back up
  // through `parent` instead of keeping a stack.
  private dfs(start: number, startParent: number): void {
    const { firstEdge, edgeTo } = this.d;
    const { pre, vertex, parent, essential } = this;
    const cursor = new Uint32Array(this.pair, 4 * this.d.nodeCount, this.d.nodeCount); // `label`'s space, free until step 2
    let count = this.count;
    let v = count++;
    pre[start] = v;
    vertex[v] = start;
    parent[v] = startParent;
    cursor[v] = firstEdge[start];
    while (v !== startParent) {
      const end = firstEdge[vertex[v] + 1];
      let next = parent[v];
      let e = cursor[v];
      for (; e < end; e++) {
        if (!edgeIsEssential(essential, e)) continue;
        const c = edgeTo[e];
        if (pre[c] !== NONE) continue;
        const m = count++;
        pre[c] = m;
        vertex[m] = c;
        parent[m] = v;
        cursor[m] = firstEdge[c];
        next = m;
        e++;
        break;
      }
      cursor[v] = e;
      v = next;
    }
    this.count = count;
  }

  /** Steps 1 (the nodes the root does not reach) to 4, with the retainer index. */
  finish(retainers: RetainerIndex, selfSize: (k: number) => number): DominatorTree {
    const n = this.d.nodeCount;
    const root = this.root;
    const { first, source } = retainers;
    const { pre, vertex, parent } = this;
    parent[0] = 0; // the root is number 0; a self link ends the forest walks there
    if (this.count < n) {
      for (let k = 0; k < n; k++) if (pre[k] === NONE && hasOnlyWeakRetainers(retainers, k)) this.dfs(k, 0);
    }
    let count = this.count;
    if (count < n) {
      // Numbered as children of the root without searching from them: each has
      // a virtual root edge, so its semidominator is the root whatever else holds it.
      for (let k = 0; k < n; k++) {
        if (pre[k] !== NONE) continue;
        pre[k] = count;
        vertex[count] = k;
        parent[count++] = 0;
      }
    }
    this.count = count;
    const idom = new Uint32Array(n);
    const pair = this.pair;
    const semi = new Uint32Array(pair, 0, n);
    const label = new Uint32Array(pair, 4 * n, n);

    // 2. Semidominators, in decreasing preorder. A vertex numbered at least
    // `linked` is in the forest; `evaluate` returns the vertex of least
    // semidominator on the forest path above v, compressing the path.
    for (let i = 0; i < n; i++) {
      semi[i] = i;
      label[i] = i;
    }
    idom.set(parent);
    let stack = new Uint32Array(256);
    const evaluate = (v: number, linked: number): number => {
      if (parent[v] < linked) return label[v];
      let sp = 0;
      let x = v;
      do {
        if (sp === stack.length) {
          const grown = new Uint32Array(stack.length * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[sp++] = x;
        x = parent[x];
      } while (parent[x] >= linked);
      let p = x;
      let pLabel = label[p];
      do {
        const y = stack[--sp];
        parent[y] = parent[p];
        const yLabel = label[y];
        if (semi[pLabel] < semi[yLabel]) label[y] = pLabel;
        else pLabel = yLabel;
        p = y;
      } while (sp > 0);
      return label[p];
    };
    for (let i = n - 1; i >= 1; i--) {
      let s = parent[i];
      // A child of the root in the search tree is dominated by the root alone.
      if (s !== 0) {
        const w = vertex[i];
        const rEnd = first[w + 1];
        for (let r = first[w]; r < rEnd; r++) {
          const src = source[r];
          if (src & NON_ESSENTIAL) continue;
          const v = pre[src & SOURCE_MASK];
          // Inline the common case: v not below a linked vertex (numbered before w, or a forest root's child).
          const u = parent[v] <= i ? label[v] : evaluate(v, i + 1);
          if (semi[u] < s) s = semi[u];
          if (s === 0) break;
        }
      }
      semi[i] = s;
    }

    // 3. Immediate dominators: the nearest ancestor of the parent (whose own
    // immediate dominator is final, preorder) not below the semidominator.
    for (let i = 1; i < n; i++) {
      let c = idom[i];
      const s = semi[i];
      while (c > s) c = idom[c];
      idom[i] = c;
    }

    // 4. Back to ordinals; retained sizes accumulate children-first (reverse preorder).
    const dominator = parent; // dead: reused, now by ordinal
    for (let i = 0; i < n; i++) dominator[vertex[i]] = vertex[idom[i]];
    dominator[root] = root;
    const retainedSize = new Float64Array(pair); // semi and label are dead
    for (let k = 0; k < n; k++) retainedSize[k] = selfSize(k);
    for (let i = n - 1; i >= 1; i--) {
      const k = vertex[i];
      retainedSize[dominator[k]] += retainedSize[k];
    }
    return { dominator, retainedSize };
  }
}

/**
 * The call tree behind flame graphs: tracebacks merged from the outermost
 * frame down, each node holding the bytes and objects allocated under it.
 */
import type { Site, SiteFrame } from './sites.js';

/** One node of the tree; the root has an empty name. */
export interface FlameNode {
  /** Function name ('' when anonymous). */
  name: string;
  file: string;
  line: number;
  /** Bytes allocated in this frame and below. */
  value: number;
  /** Objects allocated in this frame and below. */
  count: number;
  /** Bytes allocated with this frame as the most recent one. */
  self: number;
  children: FlameNode[];
}

function node(frame: SiteFrame | null): FlameNode {
  return { name: frame?.function ?? '', file: frame?.file ?? '', line: frame?.line ?? 0, value: 0, count: 0, self: 0, children: [] };
}

/**
 * Merge sites into a tree. `weight` picks the bytes each site adds (its size,
 * or its growth for diffs); sites weighing nothing are left out. Children are
 * sorted by value, largest first, so the biggest branch is drawn first.
 */
export function buildFlameTree(sites: readonly Site[], weight: (site: Site) => number = (s) => s.size): FlameNode {
  const root = node(null);
  const index = new Map<FlameNode, Map<string, FlameNode>>();
  for (const site of sites) {
    const bytes = weight(site);
    if (!(bytes > 0)) continue;
    const count = Math.max(0, site.countDiff ?? site.count);
    let at = root;
    at.value += bytes;
    at.count += count;
    for (const frame of site.frames) {
      let kids = index.get(at);
      if (!kids) index.set(at, (kids = new Map()));
      const key = `${frame.function}\0${frame.file}\0${frame.line}`;
      let child = kids.get(key);
      if (!child) {
        child = node(frame);
        kids.set(key, child);
        at.children.push(child);
      }
      child.value += bytes;
      child.count += count;
      at = child;
    }
    at.self += bytes;
  }
  const sort = (n: FlameNode): void => {
    n.children.sort((a, b) => b.value - a.value);
    n.children.forEach(sort);
  };
  sort(root);
  return root;
}

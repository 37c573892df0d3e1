/**
 * Retainer paths as one line of text, the same for `tracemalloc heap` and
 * the leak finder: `(scope) cache (Map) → [entries] (Session) → token: string (12 chars, #9f2c41d0) @78`.
 *
 * @module
 */
import type { HeapSnapshot, RetainerPathStep } from './snapshot.js';

/** Array elements, hidden slots and numbered internal slots: positions, not names. */
export function isIndexEdge(step: RetainerPathStep): boolean {
  return step.edgeType === 'element' || step.edgeType === 'hidden' || (step.edgeType === 'internal' && /^\d+$/.test(step.edge));
}

// V8 names the global object 'global' (v8.writeHeapSnapshot), 'global / <tag>'
// (inspector snapshots) and, from Node 26 (V8 14), 'global (global)' or
// 'global (global*)' with the same optional ' / <tag>'; browsers name it 'Window'.
const GLOBAL_OBJECT = /^global(?: \(global\*?\))?(?:$| \/ )/;

const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);

function isGlobalObject(heap: HeapSnapshot, k: number): boolean {
  return heap.nodeType(k) === 'object' && (GLOBAL_OBJECT.test(heap.nodeName(k)) || heap.nodeName(k) === 'Window');
}

function classOf(heap: HeapSnapshot, k: number): string {
  const name = heap.className(k);
  if (name === 'system / Context') return 'scope';
  if (name === 'Function') return heap.nodeName(k) ? `function ${heap.nodeName(k)}` : 'function';
  return name.trim() || heap.nodeType(k);
}

/**
 * A retainer path (from {@link HeapSnapshot.retainerPath}) on one line.
 * It starts at the last variable (closure or module scope) or global
 * property at or before step `anchorBefore` (default: the object itself):
 * what leads to that scope from the GC roots is only how the search
 * happened to reach it. A Map's or Set's table reads as `[entries]`, and a
 * run of equal steps (a linked list of timers or listeners) as one `…`.
 */
export function retainerPathText(heap: HeapSnapshot, path: readonly RetainerPathStep[] | null, anchorBefore = (path?.length ?? 0) - 1): string {
  if (path === null) return '(unreachable: only weak references left)';
  if (path.length === 0) return '(the root)';
  let anchor = 0;
  for (let i = Math.max(anchorBefore, 0); i >= 1; i--) {
    if (path[i].edgeType === 'context' || (path[i].edgeType === 'property' && isGlobalObject(heap, path[i - 1].nodeIndex))) {
      anchor = i;
      break;
    }
  }
  const parts: string[] = [];
  if (anchor > 0) parts.push(path[anchor].edgeType === 'context' ? '(scope)' : '(global)');
  else parts.push('(GC roots)');
  let entries = false;
  for (let i = anchor; i < path.length; i++) {
    const step = path[i];
    const from = i > 0 ? heap.className(path[i - 1].nodeIndex) : '';
    if (step.edgeType === 'internal' && step.edge === 'table' && /^(Weak)?(Map|Set)$/.test(from) && i + 1 < path.length) {
      entries = true;
      continue;
    }
    const label = entries ? '[entries]' : isIndexEdge(step) ? '[]' : step.edge;
    entries = false;
    // A string's class says nothing: show its description (length and tag, or its contents when asked for).
    const part =
      i === 0 && step.edgeType === 'shortcut'
        ? classOf(heap, step.nodeIndex)
        : STRING_TYPES.has(heap.nodeType(step.nodeIndex))
          ? `${label}: ${step.node}`
          : `${label} (${classOf(heap, step.nodeIndex)})`;
    if (parts.at(-1) === part || parts.at(-1) === `${part} …`) parts[parts.length - 1] = `${part} …`;
    else parts.push(part);
  }
  return parts.join(' → ');
}

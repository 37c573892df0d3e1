import { hiddenString } from './hide.js';
import type { HeapSnapshot } from './snapshot.js';

/** Options of {@link preview}. */
export interface PreviewOptions {
  /** Most fields listed (default 8). */
  maxFields?: number;
  /** Longest string value shown, in characters (default 40), with `includeStrings`. */
  maxStringLength?: number;
  /**
   * Show the contents of string values. Off by default, since heap strings
   * can hold secrets (tokens, passwords, personal data): a string is then
   * shown as its length and a short tag, `string (1234 chars, #9f2c41d0)`,
   * where equal strings get equal tags within one process.
   */
  includeStrings?: boolean;
}

function short(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * Short description of a value node, never including long string contents;
 * string contents only with `includeStrings` (see {@link PreviewOptions}).
 */
export function valueSummary(snap: HeapSnapshot, k: number, maxString = 40, includeStrings = false): string {
  const t = snap.nodeTypeId(k);
  const ids = snap.nodeTypeIds;
  const name = snap.nodeName(k);
  if (t === ids.string || t === ids['concatenated string'] || t === ids['sliced string']) {
    return includeStrings ? JSON.stringify(short(name, maxString)) : hiddenString(name, snap.stringLength(snap.data.nodeName[k]));
  }
  if (t === ids.number || t === ids.bigint) return short(name, 30);
  if (t === ids.closure) return `ƒ ${short(name, 40) || '(anonymous)'}()`;
  if (t === ids.array) return `${short(name, 40) || '(array)'}[${snap.nodeEdgeCount(k)}]`;
  if (t === ids.object || t === ids.native) return `${short(name, 40) || 'Object'} @${snap.nodeId(k)}`;
  if (t === ids.regexp) return `/${short(name, maxString)}/`;
  if (t === ids.symbol) return `Symbol(${short(name, 40)})`;
  return `(${snap.nodeType(k)})`;
}

/**
 * A short, safe one-line description of an object's fields, like
 * `Leaky {i: (number), s: "x42", next: Leaky @1235}`. Lists property and
 * element edges only (no internals). String values are shown as their length
 * and a tag unless `options.includeStrings`, and then cut to ~40 characters,
 * so a preview never reproduces the contents of large strings.
 */
export function preview(snap: HeapSnapshot, k: number, options?: PreviewOptions): string {
  const maxFields = options?.maxFields ?? 8;
  const maxString = options?.maxStringLength ?? 40;
  const strings = options?.includeStrings ?? false;
  const t = snap.nodeTypeId(k);
  const ids = snap.nodeTypeIds;
  if (t !== ids.object && t !== ids.array && t !== ids.closure && t !== ids.native) return valueSummary(snap, k, maxString, strings);
  const parts: string[] = [];
  const first = snap.firstEdgeIndex(k);
  const end = snap.firstEdgeIndex(k + 1);
  let fields = 0;
  const et = snap.edgeTypeIds;
  for (let e = first; e < end; e++) {
    const type = snap.edgeTypeId(e);
    if (type !== et.property && type !== et.element) continue;
    fields++;
    if (parts.length >= maxFields) continue;
    const key = type === et.element ? `[${snap.edgeNameOrIndex(e)}]` : short(snap.edgeName(e), 40);
    const target = snap.edgeTarget(e);
    const tt = snap.nodeTypeId(target);
    // Heap numbers carry no value unless captured; show their type.
    const value = tt === ids.number && !/^-?[\d.e+]+$/.test(snap.nodeName(target)) ? '(number)' : valueSummary(snap, target, maxString, strings);
    parts.push(`${key}: ${value}`);
  }
  const more = fields > parts.length ? `, …${fields - parts.length} more` : '';
  const head = t === ids.closure ? `ƒ ${short(snap.nodeName(k), 40) || '(anonymous)'}` : short(snap.className(k), 60);
  return `${head} {${parts.join(', ')}${more}}`;
}

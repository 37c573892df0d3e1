// Source transform for line-level allocation sites: wraps every allocating
// expression S in `__tm$(INDEX, S)` so a runtime recorder learns the line
// that allocated, keeps every token on its line, and returns a source map
// from the instrumented code to the original source (through the input's
// own map when there is one).
//
// Not instrumented on purpose: declarations and methods (no allocation at
// the expression), string building inside a larger string expression or a
// literal that counts it, and every site whose wrapping would change behaviour (see SiteFinder: names
// V8 gives functions, optional chains, tags, `delete`).
//
// Known limits: `Function.prototype.toString()` shows the instrumented
// source, so a function serialised to run elsewhere (a worker built from
// its text, a browser `evaluate`) references the binding there. The binding
// is a hoisted function declaration that finds the recorder on first use,
// so code that runs before its module body (an ESM import cycle calling a
// hoisted function) works too.
import { parse, tokTypes, type Options as AcornOptions, type TokenType } from 'acorn';
import { FlattenMap, TraceMap, traceSegment, type SourceMapInput } from '@jridgewell/trace-mapping';
import { SiteFinder, type N } from './sites.js';
import { Segments, encodeRange, type EncodeState } from './vlq.js';

/**
 * What kind of expression allocates at a site; `key` is not an allocation
 * but a Map or Set method's key argument or a stored property's computed
 * name, where V8 copies a new string into its string table (V8 14 for Map
 * and Set keys); line mode counts the copy there.
 */
export type SiteKind = 'object' | 'array' | 'new' | 'function' | 'class' | 'call' | 'tree' | 'regexp' | 'string' | 'key';

/** A position in a file: 1-based line and 1-based column, like `Frame`. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A function (or V8's synthetic class initialiser) in the original source. */
export interface LineFunction {
  /** Declared or inferred name as V8 shows it; '' when anonymous. */
  name: string;
  /** Original file: the input map's source resolved to an absolute path/URL, else `options.url`. */
  file: string;
  /** Original start of the function's range. */
  start: SourcePosition;
  /** Original end of the function's range (one past its last character). */
  end: SourcePosition;
}

/** One instrumented allocation site; its index in `sites` is the INDEX passed to the recorder. */
export interface LineSite {
  kind: SiteKind;
  /** Original file, as for {@link LineFunction.file}. */
  file: string;
  /** Original 1-based line of the allocating expression. */
  line: number;
  /** Original 1-based column of the allocating expression. */
  column: number;
  /** Index into `functions` of the innermost enclosing function, -1 at module top level. */
  fn: number;
  /** 1-based line of the expression in the input code (before any input map). */
  generatedLine: number;
  /** 1-based column of the expression in the input code. */
  generatedColumn: number;
  /**
   * Object or array literal: the properties (or indices) whose string or
   * number values the literal computes itself (`{ label: 'item ' + id }`);
   * line mode counts those values with the literal.
   */
  made?: string[];
  /**
   * String site: paths in V8's concatenation tree ('f' first, 's' second,
   * from the result) to operands made elsewhere (`x` in `x += ','`), which
   * line mode does not count with the string.
   */
  foreign?: string[];
}

/** An allocation site left alone because wrapping it would change behaviour. */
export interface SkippedSite {
  kind: SiteKind;
  file: string;
  /** Original 1-based line. */
  line: number;
  /** Original 1-based column. */
  column: number;
  reason: string;
}

/** Options for {@link instrument}. */
export interface InstrumentOptions {
  /** Module URL or path: what stack traces show for the executed code. */
  url: string;
  /** `script` is a CommonJS body: top-level `return` is allowed. */
  sourceType: 'module' | 'script';
  /**
   * The input's own source map (tsc, tsx, esbuild output). `undefined` means
   * "look for an inline `//# sourceMappingURL=data:` comment"; `null` means
   * there is none.
   */
  inputMap?: string | object | null;
}

/** Source map v3 as JSON. */
export interface SourceMapJSON {
  version: 3;
  sources: string[];
  sourcesContent?: (string | null)[];
  names: string[];
  mappings: string;
}

/** Output of {@link instrument}. */
export interface InstrumentResult {
  /** Instrumented code: same line count, every original token on its original line. */
  code: string;
  /** Map from `code` to the original source, composed with the input map. */
  map: SourceMapJSON;
  sites: LineSite[];
  functions: LineFunction[];
  skipped: SkippedSite[];
  /** Name of the module-level constant bound by the prologue (`__tm$` unless the source uses it). */
  binding: string;
}

/** The source could not be instrumented; the message is one line. */
export class InstrumentError extends Error {
  override name = 'InstrumentError';
}

/** `Symbol.for` key of the runtime recorder on `globalThis`. */
export const RECORDER_KEY = 'tracemalloc.lines';

interface Edit {
  pos: number;
  text: string;
  /** 0 closer, 1 opener, -1 prologue. */
  open: number;
  site: number;
  /** Characters of the source replaced (the old sourceMappingURL comment). */
  remove?: number;
}

// Tokens V8 never reports as a position (calls point at the callee or the
// property name, `new` at `new`, assignments at `=`, functions at `(` or
// their first token): no map segment, which keeps the embedded map about a
// third smaller. A lookup there falls back to the previous token.
const UNMAPPED_TOKENS: ReadonlySet<TokenType> = new Set([
  tokTypes.parenR, tokTypes.comma, tokTypes.semi, tokTypes.braceR, tokTypes.bracketR,
  tokTypes.colon, tokTypes.dot, tokTypes.arrow,
]);

const LINE_BREAK = /\r\n?|[\n\u2028\u2029]/g;

function lineStartsOf(source: string): number[] {
  const starts = [0];
  LINE_BREAK.lastIndex = 0;
  for (let m = LINE_BREAK.exec(source); m; m = LINE_BREAK.exec(source)) starts.push(m.index + m[0].length);
  return starts;
}

function isIdentifierPart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 36 || c === 95 || c > 127;
}

/** 0-based line of an offset. */
function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Adds the names bound by a declaration pattern. */
function patternNames(node: N | null, into: Set<string>): void {
  if (!node) return;
  switch (node.type) {
    case 'Identifier': into.add(node.name); break;
    case 'ObjectPattern': for (const p of node.properties) patternNames(p.type === 'RestElement' ? p : p.value, into); break;
    case 'ArrayPattern': for (const e of node.elements) patternNames(e, into); break;
    case 'RestElement': patternNames(node.argument, into); break;
    case 'AssignmentPattern': patternNames(node.left, into); break;
  }
}

/**
 * Names the prologue would see shadowed: top-level declarations, and `var`
 * or function declarations in nested blocks (hoisted to the top level).
 */
function topLevelNames(program: N): Set<string> {
  const names = new Set<string>();
  const visit = (stmt: N | null, top: boolean): void => {
    if (!stmt) return;
    switch (stmt.type) {
      case 'VariableDeclaration':
        if (top || stmt.kind === 'var') for (const d of stmt.declarations) patternNames(d.id, names);
        break;
      case 'FunctionDeclaration':
      case 'ClassDeclaration':
        if (stmt.id && (top || stmt.type === 'FunctionDeclaration')) names.add(stmt.id.name);
        break;
      case 'ImportDeclaration':
        for (const s of stmt.specifiers) names.add(s.local.name);
        break;
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
        visit(stmt.declaration, top);
        break;
      case 'BlockStatement':
        for (const s of stmt.body) visit(s, false);
        break;
      case 'IfStatement': visit(stmt.consequent, false); visit(stmt.alternate, false); break;
      case 'LabeledStatement': case 'WhileStatement': case 'DoWhileStatement': case 'WithStatement':
        visit(stmt.body, false);
        break;
      case 'ForStatement': case 'ForInStatement': case 'ForOfStatement':
        visit(stmt.init ?? stmt.left, false);
        visit(stmt.body, false);
        break;
      case 'TryStatement': visit(stmt.block, false); visit(stmt.handler?.body, false); visit(stmt.finalizer, false); break;
      case 'SwitchStatement': for (const c of stmt.cases) for (const s of c.consequent) visit(s, false); break;
    }
  };
  for (const stmt of program.body) visit(stmt, true);
  return names;
}

function decodeDataUrl(url: string): string | null {
  const m = /^data:application\/json(?:;charset=[\w-]+)?(;base64)?,(.*)$/s.exec(url);
  if (!m) return null;
  return m[1] ? Buffer.from(m[2], 'base64').toString('utf8') : decodeURIComponent(m[2]);
}

interface Original {
  src: number;
  line: number;
  col: number;
  name: number;
}

/** Maps generated (input) 0-based positions to original ones. */
class Origin {
  readonly sources: string[];
  readonly sourcesContent: (string | null)[] | undefined;
  readonly names: string[];
  readonly map: TraceMap | null;

  constructor(map: TraceMap | null, url: string) {
    this.map = map;
    this.sources = map ? map.resolvedSources.map((s) => s ?? url) : [url];
    this.sourcesContent = map?.sourcesContent ?? undefined;
    this.names = map ? [...map.names] : [];
  }

  /** Original position of a generated 0-based (line, col), or null when unmapped. */
  at(line: number, col: number): Original | null {
    if (!this.map) return { src: 0, line, col, name: -1 };
    const seg = traceSegment(this.map, line, col);
    if (!seg || seg.length === 1) return null;
    return { src: seg[1], line: seg[2], col: seg[3], name: seg.length === 5 ? seg[4] : -1 };
  }

  /** Original position or, when unmapped, the generated one in the executed file. */
  position(starts: number[], offset: number, url: string): { file: string; line: number; column: number } {
    const line = lineOf(starts, offset);
    const col = offset - starts[line];
    const o = this.at(line, col);
    if (!o) return { file: url, line: line + 1, column: col + 1 };
    return { file: this.sources[o.src], line: o.line + 1, column: o.col + 1 };
  }
}

function loadInputMap(options: InstrumentOptions, inline: string | null): TraceMap | null {
  let raw: unknown = options.inputMap;
  if (raw === null) return null;
  if (raw === undefined) {
    if (!inline) return null;
    raw = decodeDataUrl(inline);
    if (raw === null) return null;
  }
  try {
    const json = typeof raw === 'string' ? JSON.parse(raw) : raw;
    return (json as { sections?: unknown }).sections
      ? new FlattenMap(json as SourceMapInput, options.url)
      : new TraceMap(json as SourceMapInput, options.url);
  } catch (err) {
    throw new InstrumentError(`${options.url}: invalid input source map: ${(err as Error).message}`);
  }
}

/**
 * Instruments one module so that every allocating expression reports its
 * site index to the recorder at `globalThis[Symbol.for(RECORDER_KEY)]`.
 * Pure: reads nothing but its arguments.
 *
 * @throws {@link InstrumentError} when acorn cannot parse the source or the input map is invalid.
 */
export function instrument(source: string, options: InstrumentOptions): InstrumentResult {
  const { url } = options;
  const tokens: number[] = [];
  let mapComment: { start: number; end: number; url: string } | null = null;
  const acornOptions: AcornOptions = {
    ecmaVersion: 'latest',
    sourceType: options.sourceType,
    allowHashBang: true,
    allowReturnOutsideFunction: options.sourceType === 'script',
    onToken: (t) => {
      if (!UNMAPPED_TOKENS.has(t.type)) tokens.push(t.start);
    },
    onComment: (block, text, start, end) => {
      const m = /^[#@]\s*sourceMappingURL=(\S*)\s*$/.exec(text);
      if (m && !block) mapComment = { start, end, url: m[1] };
    },
  };
  let program: N;
  try {
    program = parse(source, acornOptions) as unknown as N;
  } catch (err) {
    const e = err as SyntaxError & { loc?: { line: number; column: number } };
    const where = e.loc ? `:${e.loc.line}:${e.loc.column + 1}` : '';
    throw new InstrumentError(`${url}${where}: ${e.message.replace(/ \(\d+:\d+\)$/, '')}`);
  }
  const comment = mapComment as { start: number; end: number; url: string } | null;
  const origin = new Origin(loadInputMap(options, comment?.url ?? null), url);
  const starts = lineStartsOf(source);

  const finder = new SiteFinder();
  try {
    finder.run(program);
  } catch (err) {
    // The walk recurses like acorn does; a tree acorn barely built can still overflow it.
    if (err instanceof RangeError) throw new InstrumentError(`${url}: nested too deeply to instrument`);
    throw err;
  }

  // A binding name that cannot collide with anything in the source.
  let binding = '__tm$';
  for (let i = 1; source.includes(binding); i++) binding = '__tm$' + i;
  // Key sites' wrapper; the source cannot contain it, since it does not contain `binding`.
  const keyBinding = binding + 'k';
  // Reach the global object without a free name the module may shadow
  // (core-js declares `var globalThis` in CommonJS modules).
  const shadowed = topLevelNames(program);
  const global = ['globalThis', 'global'].find((g) => !shadowed.has(g));
  if (!global) throw new InstrumentError(`${url}: declares both globalThis and global; cannot reach the recorder`);

  // Prologue position: after a hashbang line and the directive prologue.
  let prologuePos = 0;
  let semi = '';
  if (source.startsWith('#!')) prologuePos = starts.length > 1 ? starts[1] : -1;
  for (const stmt of program.body as N[]) {
    if (stmt.type !== 'ExpressionStatement' || typeof stmt.directive !== 'string') break;
    prologuePos = stmt.end;
    semi = source.charCodeAt(stmt.end - 1) === 59 ? '' : ';';
  }

  const edits: Edit[] = [];
  const sites: LineSite[] = finder.sites.map((s, i) => {
    // Minified code writes `of[a,b]` and `return{...}`: keep the keyword apart.
    const sep = s.start > 0 && isIdentifierPart(source.charCodeAt(s.start - 1)) ? ' ' : '';
    edits.push({ pos: s.start, text: `${sep}${s.parens ? '(' : ''}${s.kind === 'key' ? keyBinding : binding}(${i}, `, open: 1, site: i });
    edits.push({ pos: s.end, text: s.parens ? '))' : ')', open: 0, site: i });
    const gl = lineOf(starts, s.start);
    const o = origin.position(starts, s.start, url);
    return {
      kind: s.kind, file: o.file, line: o.line, column: o.column, fn: s.fn,
      generatedLine: gl + 1, generatedColumn: s.start - starts[gl] + 1,
      ...(s.made ? { made: s.made } : {}),
      ...(s.foreign ? { foreign: s.foreign } : {}),
    };
  });
  const functions: LineFunction[] = finder.functions.map((f) => {
    const s = origin.position(starts, f.start, url);
    const e = origin.position(starts, Math.max(f.start, f.end - 1), url);
    return {
      name: f.name, file: s.file,
      start: { line: s.line, column: s.column },
      end: { line: e.line, column: e.column + (f.end > f.start ? 1 : 0) },
    };
  });
  const skipped: SkippedSite[] = finder.skipped.map((k) => {
    const o = origin.position(starts, k.start, url);
    return { kind: k.kind, file: o.file, line: o.line, column: o.column, reason: k.reason };
  });
  if (prologuePos >= 0) edits.push({ pos: prologuePos, text: '', open: -1, site: -1 });
  edits.sort((a, b) => a.pos - b.pos || a.open - b.open || (a.open ? a.site - b.site : b.site - a.site));

  // Segments: every token start, every inserted opener and closer.
  const segs = new Segments(tokens.length + edits.length + 16);
  let prologueSeg = -1;
  let prologueLine = 0;
  {
    let ti = 0;
    let ei = 0;
    let line = 0;
    let shift = 0;
    const nTok = tokens.length;
    const input = origin.map;
    const push = (line: number, genCol: number, col: number): void => {
      if (!input) return segs.push(line, genCol, 0, line, col, -1);
      const seg = traceSegment(input, line, col);
      if (!seg || seg.length === 1) segs.push(line, genCol, -1, 0, 0, -1);
      else segs.push(line, genCol, seg[1], seg[2], seg[3], seg.length === 5 ? seg[4] : -1);
    };
    while (ti < nTok || ei < edits.length) {
      const tp = ti < nTok ? tokens[ti] : Infinity;
      const ep = ei < edits.length ? edits[ei].pos : Infinity;
      const p = Math.min(tp, ep);
      if (tp === p && ep !== p && p >= source.length) break; // EOF token
      while (line + 1 < starts.length && starts[line + 1] <= p) {
        line++;
        shift = 0;
      }
      const col = p - starts[line];
      if (ep <= tp) {
        const e = edits[ei++];
        if (e.open < 0) {
          prologueSeg = segs.length;
          prologueLine = line;
          segs.push(line, col + shift, -1, 0, 0, -1);
        } else {
          push(line, col + shift, col);
          shift += e.text.length;
        }
      } else {
        push(line, col + shift, col);
        ti++;
      }
    }
  }

  // Encode: lines before the prologue, the prologue's line (whose columns
  // after the prologue depend on its length, which contains the map), the
  // rest. The relative fields carried past that line do not depend on it.
  const lastLine = starts.length - 1;
  const state: EncodeState = { src: 0, line: 0, col: 0, name: 0 };
  let head: string;
  let encodeLine = (_shift: number): string => '';
  let tail = '';
  if (prologueSeg < 0) {
    head = encodeRange(segs, 0, segs.length, 0, lastLine, state);
  } else {
    let from = prologueSeg;
    while (from > 0 && segs.genLine[from - 1] === prologueLine) from--;
    let to = prologueSeg;
    while (to < segs.length && segs.genLine[to] === prologueLine) to++;
    head = encodeRange(segs, 0, from, 0, prologueLine, state);
    const atLine = { ...state };
    encodeLine = (shift) => encodeRange(segs, from, to, prologueLine, prologueLine, { ...atLine }, shift, prologueSeg + 1);
    encodeLine(0);
    encodeRange(segs, from, to, prologueLine, prologueLine, state);
    tail = encodeRange(segs, to, segs.length, prologueLine, lastLine, state);
  }

  const sitesJson = JSON.stringify(JSON.stringify({ sites, functions }));
  const mapOf = (mappings: string, withContent: boolean): SourceMapJSON => {
    const m: SourceMapJSON = { version: 3, sources: origin.sources, names: origin.names, mappings };
    if (withContent && origin.sourcesContent) m.sourcesContent = origin.sourcesContent;
    return m;
  };
  // The map literal is built around a marker: mappings hold only base64
  // digits, ',' and ';', which no JSON escaping touches, so its length is
  // known without building multi-megabyte strings per iteration.
  const MARK = '@@tracemalloc-mappings@@';
  const [mapBefore, mapAfter] = JSON.stringify(JSON.stringify(mapOf(MARK, false))).split(MARK);
  // A function declaration is initialised before any module code runs; it
  // passes itself so that the recorder hides it from captured stacks.
  const prologueHead =
    `${semi}function ${binding}(s, v) { const r = ${binding}.r ??= ${global}[${global}.Symbol.for(${JSON.stringify(RECORDER_KEY)})]?.file(` +
    `${JSON.stringify(url)}, ${sitesJson}, ${mapBefore}`;
  // The fast path (one shared countdown) runs here, so V8 can inline it into each site's function.
  // A key site looks further only for a string (most stored-to names are indices) of a length some
  // string sample has (`r.m`, absent without a recorder); its first call may come before any allocation here made `r`.
  const prologueTail =
    `${mapAfter}) ?? { c: [Infinity] }; return --r.c[0] > 0 ? v : r.s(s, v, ${binding}); } ` +
    `function ${keyBinding}(s, v) { if (typeof v !== 'string') return v; const r = ${binding}.r ?? (${binding}(-1, 0), ${binding}.r); ` +
    `return r.m?.[v.length] > 0 ? r.k(s, v, ${keyBinding}) : v; }`;
  const fixedLength = prologueHead.length + prologueTail.length + head.length + tail.length;

  // Fixed point: guess the prologue length, encode its line, pad if shorter.
  let mappings: string;
  if (prologueSeg >= 0) {
    let guess = 0;
    let line = encodeLine(0);
    while (fixedLength + line.length > guess) {
      guess = fixedLength + line.length;
      line = encodeLine(guess);
    }
    mappings = head + line + tail;
    const prologue = prologueHead + mappings + prologueTail;
    edits[edits.findIndex((e) => e.open < 0)].text = prologue.padEnd(guess, ' ');
  } else {
    mappings = head;
  }
  const map = mapOf(mappings, true);

  // The old sourceMappingURL comment runs to the end of its line, so
  // replacing it moves no mapped token.
  if (comment) {
    const b64 = Buffer.from(JSON.stringify(map)).toString('base64');
    const text = `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${b64}`;
    let i = edits.length;
    while (i > 0 && edits[i - 1].pos > comment.start) i--;
    edits.splice(i, 0, { pos: comment.start, text, open: 2, site: -1, remove: comment.end - comment.start });
  }

  const parts: string[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(source.slice(at, e.pos), e.text);
    at = e.pos + (e.remove ?? 0);
  }
  parts.push(source.slice(at));
  return { code: parts.join(''), map, sites, functions, skipped, binding };
}

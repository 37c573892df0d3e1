/**
 * The expected answer of a corpus program, read from its TypeScript source:
 * `// @site NAME` marks a line that allocates what the program keeps in
 * `kept.NAME`; `// @store NAME` marks the line where the container
 * `grown.NAME` grows its backing store (an array's elements, a Map's table);
 * `// @key NAME` marks the Map or Set operation that first takes site NAME's
 * strings as keys. V8 14 (Node 26) internalizes such a key by copying it
 * there, and the copy is what the Map keeps: on that V8 the live bytes were
 * allocated at the `@key` line, which is then the expected answer (exact
 * mode's allocation tracker shows the same, also with `--no-opt`).
 * The function expected in function-level modes is the innermost function
 * enclosing the marked lines.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** A function of the program (or its top level), with the positions V8 may report for it. */
export interface FunctionInfo {
  id: number;
  /** Display name: `makeRecord`, `Vec.plus`, `new Body`, `(arrow at 12)`, `(top level)`. */
  name: string;
  /** 1-based lines V8 may give as the function's start (a constructor: its class's line too). */
  startLines: number[];
  /** 1-based column of the first start. */
  column: number;
  /** 1-based [line, column] range of the function's text. */
  from: [number, number];
  to: [number, number];
}

/** One marked site or store. */
export interface SiteInfo {
  name: string;
  kind: 'site' | 'store' | 'key';
  /** 1-based lines carrying the marker. */
  lines: number[];
  fn: FunctionInfo;
}

/** A corpus program's source facts. */
export interface ProgramSource {
  file: string;
  functions: FunctionInfo[];
  sites: SiteInfo[];
  /** The function a frame stands for; `atLine` frames point inside it, others at its start. */
  functionAt(line: number, column: number, atLine: boolean): FunctionInfo;
}

const MARKER = /@(site|store|key)\s+([\w$.-]+)/g;

export function readProgram(file: string): ProgramSource {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const pos = (p: number): [number, number] => {
    const lc = sf.getLineAndCharacterOfPosition(p);
    return [lc.line + 1, lc.character + 1];
  };
  const top: FunctionInfo = { id: 0, name: '(top level)', startLines: [1], column: 1, from: [1, 1], to: pos(text.length) };
  const functions: FunctionInfo[] = [top];

  const visit = (node: ts.Node, owner: string): void => {
    let name: string | null = null;
    let starts = [node.getStart(sf)];
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) name = node.name?.text ?? `(function at ${pos(node.getStart(sf))[0]})`;
    else if (ts.isArrowFunction(node)) {
      const parent = node.parent;
      name = ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name) ? parent.name.text : `(arrow at ${pos(node.getStart(sf))[0]})`;
    } else if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) name = `${owner}.${node.name.getText(sf)}`;
    else if (ts.isConstructorDeclaration(node)) {
      name = `new ${owner}`;
      // V8 places a class constructor at its class.
      starts = [node.parent.getStart(sf), node.getStart(sf)];
    }
    if (name !== null) {
      const [line, column] = pos(starts[0]);
      functions.push({
        id: functions.length,
        name,
        startLines: [...new Set(starts.map((s) => pos(s)[0]))],
        column,
        from: pos(node.getStart(sf)),
        to: pos(node.getEnd()),
      });
    }
    const cls = ts.isClassDeclaration(node) || ts.isClassExpression(node) ? (node.name?.text ?? '(class)') : owner;
    ts.forEachChild(node, (child) => visit(child, cls));
  };
  visit(sf, '');

  const within = (f: FunctionInfo, line: number, column: number): boolean =>
    (line > f.from[0] || (line === f.from[0] && column >= f.from[1])) && (line < f.to[0] || (line === f.to[0] && column <= f.to[1]));
  // A function's own start is where its enclosing function creates it (a
  // line-mode site of a function expression), so it is not inside itself.
  const inside = (f: FunctionInfo, line: number, column: number): boolean =>
    within(f, line, column) && !(line === f.from[0] && column === f.from[1]);
  const innermost = (line: number, column: number): FunctionInfo => {
    let best = top;
    for (const f of functions) if (f !== top && inside(f, line, column) && (best === top || within(best, f.from[0], f.from[1]))) best = f;
    return best;
  };
  const functionAt = (line: number, column: number, atLine: boolean): FunctionInfo => {
    if (!atLine) {
      // V8's function positions: prefer a function that starts on that line.
      let best: FunctionInfo | null = null;
      for (const f of functions) {
        if (f === top || !f.startLines.includes(line)) continue;
        if (!best || Math.abs(f.column - column) < Math.abs(best.column - column)) best = f;
      }
      if (best) return best;
    }
    return innermost(line, column);
  };

  const byName = new Map<string, SiteInfo>();
  const lines = text.split('\n');
  lines.forEach((lineText, i) => {
    const comment = lineText.indexOf('//');
    if (comment === -1) return;
    for (const m of lineText.slice(comment).matchAll(MARKER)) {
      const kind = m[1] as SiteInfo['kind'];
      const key = `${kind}:${m[2]}`;
      // The allocation is the code before the comment; its first non-blank column.
      const column = lineText.search(/\S/) + 1;
      const fn = innermost(i + 1, column);
      const site = byName.get(key);
      if (!site) byName.set(key, { name: m[2], kind, lines: [i + 1], fn });
      else {
        if (site.fn !== fn) throw new Error(`${file}:${i + 1}: @${kind} ${m[2]} spans two functions (${site.fn.name}, ${fn.name})`);
        site.lines.push(i + 1);
      }
    }
  });
  const sites = [...byName.values()];
  const siteLines = new Map<number, string>();
  for (const s of sites.filter((x) => x.kind === 'site')) {
    for (const l of s.lines) {
      if (siteLines.has(l)) throw new Error(`${file}:${l}: two sites on one line (${siteLines.get(l)}, ${s.name})`);
      siteLines.set(l, s.name);
    }
  }
  return { file, functions, sites, functionAt };
}

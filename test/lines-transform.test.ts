// The lines-mode source transform: site lists, source maps (own and composed
// with tsc's), and behaviour preservation (original and instrumented programs
// must print the same).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as nodeModule from 'node:module';
import { parse } from 'acorn';
import { TraceMap, allGeneratedPositionsFor, originalPositionFor } from '@jridgewell/trace-mapping';
import ts from 'typescript';
import fc from 'fast-check';
import { InstrumentError, RECORDER_KEY, instrument, type InstrumentOptions } from '../src/lines/transform/index.js';
import { WaitingKeys } from '../src/lines/waiting-keys.js';
import { runNode } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures-lines/', import.meta.url));
const URL_ = 'file:///app/x.js';
const script = (source: string, extra: Partial<InstrumentOptions> = {}) =>
  instrument(source, { url: URL_, sourceType: 'script', inputMap: null, ...extra });
const mod = (source: string, extra: Partial<InstrumentOptions> = {}) =>
  instrument(source, { url: URL_, sourceType: 'module', inputMap: null, ...extra });
const brief = (r: ReturnType<typeof instrument>) =>
  r.sites.map((s) => `${s.kind} ${s.line}:${s.column} ${s.fn < 0 ? '<top>' : r.functions[s.fn].name}`);

// A recorder that counts calls per site; prints them on stderr at exit.
const RECORDER = `
const counts = {};
globalThis[Symbol.for(${JSON.stringify(RECORDER_KEY)})] = {
  file(url, sitesJson, mapJson) {
    const { sites } = JSON.parse(sitesJson);
    JSON.parse(mapJson);
    const c = (counts[url] = new Array(sites.length).fill(0));
    // Every call takes the slow path (the countdown is always spent), so each one is counted.
    return { c: [0], s(s, v) { c[s]++; return v; } };
  },
};
process.on('exit', () => process.stderr.write('\\nRECORDED ' + JSON.stringify(counts) + '\\n'));
`;

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tm-lines-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `source` as `name` in a child, as-is and instrumented (with and without a recorder). */
function runBoth(source: string, name: string, sourceType: 'module' | 'script') {
  return withTemp((dir) => {
    const file = join(dir, name);
    const recorder = join(dir, 'recorder.mjs');
    writeFileSync(recorder, RECORDER);
    writeFileSync(file, source);
    const original = runNode([file]);
    const r = instrument(source, { url: pathToFileURL(file).href, sourceType });
    writeFileSync(file, r.code);
    const bare = runNode([file]);
    const recorded = runNode(['--import', pathToFileURL(recorder).href, file]);
    const m = /RECORDED (.*)/.exec(recorded.stderr);
    const counts = m ? (Object.values(JSON.parse(m[1]))[0] as number[]) : [];
    return { r, original, bare, recorded, counts };
  });
}

test('site list for a small script: kinds, positions, enclosing functions', () => {
  const src = [
    'function make(n) {',                          // 1
    '  const out = [];',                           // 2
    '  for (let i = 0; i < n; i++) out.push({ i, tags: new Set() });',
    '  return out.map((o) => o.i).slice(1);',      // 4
    '}',
    'const o = { m() { return /x+/g; }, get g() { return new Map(); } };',
    'class K { f = []; static s = {}; static { this.t = new Array(2); } constructor() { this.q = JSON.parse("1"); } }',
    'const lazy = () => ({ v: Array.from("ab") });',
    'export default [function named() {}, class {}];',
  ].join('\n');
  const r = mod(src);
  assert.deepEqual(brief(r), [
    'array 2:15 make',
    'object 3:40 make',
    'new 3:51 make',
    'call 4:10 make',
    'call 4:10 make',
    'function 4:18 make',
    'object 6:11 <top>',
    'regexp 6:26 m',
    'new 6:53 get g',
    'array 7:15 <instance_members_initializer>',
    'object 7:30 <static_initializer>',
    'new 7:52 <static_initializer>',
    'tree 7:93 K',
    'object 8:21 lazy',
    'call 8:26 lazy',
  ]);
  assert.deepEqual(
    r.functions.map((f) => `${f.name} ${f.start.line}:${f.start.column}-${f.end.line}:${f.end.column}`),
    [
      'make 1:1-5:2',
      ' 4:18-4:28',
      'm 6:13-6:34',
      'get g 6:36-6:65',
      '<instance_members_initializer> 7:1-7:113',
      '<static_initializer> 7:1-7:113',
      'K 7:68-7:111',
      'lazy 8:14-8:45',
      'named 9:17-9:36',
    ],
  );
  assert.deepEqual(r.skipped.map((s) => `${s.kind} ${s.line}:${s.column}`), ['function 8:14', 'array 9:16', 'function 9:17', 'class 9:38']);
  // Sites are wrapped with their index (pre-order), innermost closes first.
  assert.match(r.code, /return __tm\$\(3, __tm\$\(4, out\.map\(__tm\$\(5, \(o\) => o\.i\)\)\)\.slice\(1\)\);/);
  assert.ok(r.functions.every((f) => f.file === URL_) && r.sites.every((s) => s.file === URL_));
});

test('static allocating calls are matched on their object, not on Object.prototype names', () => {
  const r = script('constructor.from(1); toString.of(2); Array.of(3); Buffer.alloc(4); Reflect.from(5); structuredClone(6);');
  assert.deepEqual(brief(r), ['call 1:38 <top>', 'call 1:51 <top>', 'tree 1:85 <top>']);
});

test('skips sites whose wrapping would change behaviour, with reasons', () => {
  const src = [
    'const a = () => {}, b = function () {}, c = class {};',
    'let d; d = () => {}; d ||= function () {}; o.p.q = () => {};',
    'const o2 = { k: () => {}, [k]: class {}, __proto__: function () {} };',
    'function f(p = () => {}, { q = class {} } = {}) {}',
    'class C { x = () => {}; #y = function () {}; }',
    'const n = x?.slice().length, m = x?.a.map(f)[0], ok = x?.slice(), ok2 = x.slice()?.length;',
    'tag`${1}`; (() => {})`t`; delete [1].x; delete {};',
    'export default () => {};',
    // V8 infers names through conditionals, logical operators and literals;
    // it drops them for direct call arguments only.
    'const e = c ? () => {} : null, f2 = g(() => {}, [() => {}]);',
    'obj.h = a || [function () {}];',
    'const i = { j: { k: c && class {} } };',
  ].join('\n');
  const r = mod(src);
  const skipped = r.skipped.map((s) => `${s.kind} ${s.line}:${s.column} ${s.reason.split(' ').slice(0, 3).join(' ')}`);
  assert.deepEqual(skipped, [
    'function 1:11 anonymous function named',
    'function 1:25 anonymous function named',
    'class 1:45 anonymous class named',
    'function 2:12 anonymous function named',
    'function 2:28 anonymous function named',
    'function 2:52 anonymous function named',
    'object 3:12 in an expression',
    'function 3:17 anonymous function named',
    'class 3:32 anonymous class named',
    'function 3:53 anonymous function named',
    'function 4:16 anonymous function named',
    'class 4:32 anonymous class named',
    'function 5:15 anonymous function named',
    'function 5:30 anonymous function named',
    'call 6:11 call inside an',
    'call 6:34 call inside an',
    'function 7:13 tag of a',
    'object 7:48 operand of delete',
    'function 8:16 anonymous function named',
    'function 9:15 anonymous function named',
    'function 9:39 in an expression',
    'array 9:49 in an expression',
    'function 9:50 anonymous function outside',
    'array 10:14 in an expression',
    'function 10:15 anonymous function named',
    'object 11:11 in an expression',
    'object 11:16 in an expression',
    'class 11:26 anonymous class named',
  ]);
  // Whole chains are wrapped; a call argument is not when another function
  // in the same expression is name-sensitive (f2 on line 9).
  assert.deepEqual(brief(r), ['object 4:45 f', 'call 6:55 <top>', 'call 6:73 <top>', 'array 7:34 <top>']);
});

test('the prologue sits on the first code line, after a hashbang and directives, and line count is kept', () => {
  const src = "#!/usr/bin/env node\n/* c */ 'use strict'\n'use asm';\n[1]\n";
  const r = script(src);
  const lines = r.code.split('\n');
  assert.equal(lines.length, src.split('\n').length);
  assert.equal(lines[0], '#!/usr/bin/env node');
  assert.equal(lines[1], "/* c */ 'use strict'");
  assert.match(lines[2], /^'use asm';function __tm\$\(s, v\) \{ const r = __tm\$\.r \?\?= globalThis\[globalThis\.Symbol\.for\("tracemalloc\.lines"\)\]\?\.file\("file:\/\/\/app\/x\.js", "/);
  assert.match(lines[2], /\?\? \{ c: \[Infinity\] \}; return --r\.c\[0\] > 0 \? v : r\.s\(s, v, __tm\$\); \} function __tm\$k\(s, v\) \{ .* \}$/);
  assert.equal(lines[3], '__tm$(0, [1])');
  // Missing semicolon after the directive: one is added.
  assert.match(script("'use strict'\nx = {}").code, /^'use strict';function __tm\$\(/);
  // Without directives the prologue opens line 1.
  assert.match(script('x = {}').code, /^function __tm\$\(.*\} ?x = __tm\$\(0, \{\}\)$/);
  // Embedded data parse back.
  const m = /\?\.file\(("[^"]*"), ("(?:[^"\\]|\\.)*"), ("(?:[^"\\]|\\.)*")\)/.exec(r.code);
  assert.ok(m);
  const data = JSON.parse(JSON.parse(m[2]));
  assert.deepEqual(data.sites, JSON.parse(JSON.stringify(r.sites)));
  assert.equal(JSON.parse(JSON.parse(m[3])).mappings, r.map.mappings);
});

test('minified code: an opener after a keyword gets a space, not a merged identifier', () => {
  const src = 'function f(a){for(const x of[a,{b:1}])return[x,typeof{},void/r/g,new Map];switch(a){case[1].length:return 2}}';
  const r = script(src);
  assert.match(r.code, /of __tm\$\(0, \[a,__tm\$\(1, \{b:1\}\)\]\)\)return __tm\$\(2, \[x,typeof __tm\$\(3, \{\}\),void __tm\$\(4, \/r\/g\),/);
  assert.match(r.code, /case __tm\$\(6, \[1\]\)\.length:/);
  assert.doesNotThrow(() => parse(r.code, { ecmaVersion: 'latest' }));
});

test('binding and global object names do not collide with the source', () => {
  const r = script('var __tm$ = 1, __tm$1 = 2; var globalThis = {}; x = []');
  assert.equal(r.binding, '__tm$2');
  assert.match(r.code, /^function __tm\$2\(s, v\) \{ const r = __tm\$2\.r \?\?= global\[global\.Symbol\.for/);
  assert.match(r.code, /x = __tm\$2\(1, \[\]\)$/);
  assert.throws(() => script('var globalThis, global; x = []'), InstrumentError);
  // Only declarations the prologue would see count; uses and nested scopes do not.
  assert.match(script('if (a) { for (var [globalThis] of b); }').code, /^function __tm\$\(s, v\) \{ const r = __tm\$\.r \?\?= global\[/);
  assert.match(script('globalThis.x = global; function f(globalThis) { let global; }').code, /^function __tm\$\(s, v\) \{ const r = __tm\$\.r \?\?= globalThis\[/);
  assert.match(mod('import { globalThis } from "x";').code, /^function __tm\$\(s, v\) \{ const r = __tm\$\.r \?\?= global\[/);
});

test('long generated expressions: a 3000-term concatenation is walked without deep recursion', () => {
  const r = script('x = 1' + ' + [a]'.repeat(3000) + ';');
  assert.equal(r.sites.length, 3000);
  assert.equal(r.sites[2999].column, 5 + 2999 * 6 + 3 + 1);
  // Nesting acorn itself cannot parse is an InstrumentError too.
  assert.throws(() => script('x = ' + '['.repeat(20000) + ']'.repeat(20000)), InstrumentError);
});

test('CRLF, CR and U+2028 line breaks: lines and columns as V8 counts them', () => {
  const src = "'use strict'\r\nvar a = [1];\rvar b = {};\u2028var c = /x/;\r\n";
  const r = script(src);
  assert.deepEqual(r.sites.map((s) => `${s.kind} ${s.line}:${s.column}`), ['array 2:9', 'object 3:9', 'regexp 4:9']);
  assert.equal(r.code.split(/\r\n?|\n|\u2028/).length, src.split(/\r\n?|\n|\u2028/).length);
  const map = new TraceMap(r.map as never);
  const line3 = r.code.split(/\r\n?|\n|\u2028/)[2];
  const o = originalPositionFor(map, { line: 3, column: line3.indexOf('{}') });
  assert.deepEqual([o.line, o.column], [3, 8]);
});

test('parse errors become one-line InstrumentErrors with file:line:col', () => {
  assert.throws(() => mod('const a = 1;\nconst = 2;'), (err: unknown) => {
    assert.ok(err instanceof InstrumentError);
    assert.equal(err.message, 'file:///app/x.js:2:7: Unexpected token');
    return true;
  });
  // CommonJS bodies may return at top level; modules may not.
  assert.doesNotThrow(() => script('if (a) return [];'));
  assert.throws(() => mod('if (a) return [];'), InstrumentError);
  assert.doesNotThrow(() => mod('await Promise.resolve([]);'));
});

/**
 * Every original token V8 may report a position at is found, through the map, on its own line in the
 * instrumented code, with its own text, and maps back to exactly itself.
 */
function assertTokensMapBack(original: string, r: ReturnType<typeof instrument>, sourceType: 'module' | 'script', min = 100) {
  const map = new TraceMap(r.map as never);
  const lines = r.code.split('\n');
  let checked = 0;
  parse(original, {
    ecmaVersion: 'latest', sourceType, locations: true, allowHashBang: true,
    allowReturnOutsideFunction: sourceType === 'script',
    onToken: (t) => {
      if (t.end === t.start || [')', ',', ';', '}', ']', ':', '.', '=>'].includes(t.type.label)) return;
      const text = original.slice(t.start, t.end);
      const { line, column } = t.loc!.start;
      const gens = allGeneratedPositionsFor(map, { source: r.map.sources[0], line, column });
      const hit = gens.find((g) => g.line === line && lines[line - 1].startsWith(text, g.column!));
      assert.ok(hit, `token ${JSON.stringify(text)} at ${line}:${column} not found through the map (${JSON.stringify(gens)})`);
      const back = originalPositionFor(map, { line: hit.line!, column: hit.column! });
      assert.deepEqual([back.line, back.column], [line, column]);
      checked++;
    },
  });
  assert.ok(checked >= min, `${checked} tokens checked`);
}

test('source map maps every original token back to its line and column', () => {
  const src = readFileSync(join(FIXTURES, 'semantics.mjs'), 'utf8');
  const r = instrument(src, { url: URL_, sourceType: 'module' });
  assert.equal(r.code.split('\n').length, src.split('\n').length);
  assertTokensMapBack(src, r, 'module');
  const cjs = readFileSync(join(FIXTURES, 'semantics.cjs'), 'utf8');
  assertTokensMapBack(cjs, instrument(cjs, { url: URL_, sourceType: 'script' }), 'script');
  // Tokens after the prologue on its own line: their columns include its length.
  const one = "'use strict'; const a = [1, /x/]; f(a.map((x) => ({ x })), new Set(a.slice()));";
  assertTokensMapBack(one, script(one), 'script', 20);
  const long = Array.from({ length: 30 }, (_, i) => `const v${i} = [${i}, { k: 'v' }].map((x) => x);`).join(' ');
  assertTokensMapBack(long, mod(long), 'module');
});

const TS_SOURCE = [
  'interface Point { x: number; y: number }',           // 1
  'type Pair = [Point, Point];',                        // 2
  '',                                                   // 3
  'export function pair(a: number, b: number): Pair {', // 4
  '  const p: Point = { x: a, y: b };',                 // 5
  '  return [p, { x: b, y: a }];',                      // 6
  '}',                                                  // 7
  '',                                                   // 8
  'export class Box<T> {',                              // 9
  '  constructor(private readonly items: T[] = []) {}', // 10
  '  twice(): T[] { return this.items.concat(this.items); }', // 11
  '}',                                                  // 12
  'enum Color { Red, Green }',                          // 13
  'export const colors: string[] = Object.keys(Color);', // 14
  '',
].join('\n');

test('TypeScript through tsc and its source map: sites land on the .ts lines', () => {
  const out = ts.transpileModule(TS_SOURCE, {
    fileName: '/src/app.ts',
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: true, inlineSources: true },
  });
  const js = out.outputText; // ends with //# sourceMappingURL=app.js.map
  assert.match(js, /sourceMappingURL=app\.js\.map/);
  const r = instrument(js, { url: 'file:///src/app.js', sourceType: 'module', inputMap: out.sourceMapText! });
  const at = (line: number, needle: string, skip = 0) =>
    `${line}:${TS_SOURCE.split('\n')[line - 1].indexOf(needle) + 1 + skip}`;
  assert.deepEqual(r.sites.map((s) => `${s.kind} ${s.line}:${s.column}`), [
    `object ${at(5, '{ x: a')}`,
    `array ${at(6, '[p')}`,
    `object ${at(6, '{ x: b')}`,
    `array ${at(10, '= []', 2)}`,
    `call ${at(11, 'this.items.concat')}`,
    // tsc's enum code, `(function (Color) {...})(Color || (Color = {}))`,
    // is not wrapped: its IIFE callee is name-sensitive. Its reverse mapping,
    // `Color[Color["Red"] = 0] = "Red"`, stores under a computed name: key sites.
    `key ${at(13, 'Red')}`,
    `key ${at(13, 'Green')}`,
    `call ${at(14, 'Object')}`,
  ]);
  assert.ok(r.sites.every((s) => s.file === 'file:///src/app.ts'), 'sites are in the .ts');
  assert.ok(r.sites.some((s) => s.generatedLine !== s.line), 'tsc moved lines, the map moved them back');
  assert.deepEqual(r.functions.map((f) => `${f.name} ${f.start.line}`).slice(0, 3), ['pair 4', 'Box 10', 'twice 11']);
  // The composed map: the position of `concat` in the instrumented code maps to line 11 of app.ts.
  const lines = r.code.split('\n');
  const line = lines.findIndex((l) => l.includes('.concat('));
  const col = lines[line].indexOf('concat');
  const o = originalPositionFor(new TraceMap(r.map as never), { line: line + 1, column: col });
  assert.deepEqual([o.source, o.line, o.column], ['file:///src/app.ts', 11, TS_SOURCE.split('\n')[10].indexOf('concat')]);
  // The trailing comment is replaced by the composed map, inline.
  const last = lines.at(-1)!;
  assert.match(last, /^\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,/);
  const inline = JSON.parse(Buffer.from(last.split(',')[1], 'base64').toString('utf8'));
  assert.deepEqual(inline, r.map);
  assert.deepEqual(r.map.sourcesContent, [TS_SOURCE]);
});

test('an inline input map is honoured when no inputMap is given', () => {
  const out = ts.transpileModule(TS_SOURCE, {
    fileName: '/src/app.ts',
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, inlineSourceMap: true },
  });
  const r = instrument(out.outputText, { url: 'file:///src/app.js', sourceType: 'module' });
  assert.equal(r.sites[0].file, 'file:///src/app.ts');
  assert.equal(r.sites[0].line, 5);
  // null means "no map", even with the comment present.
  const none = instrument(out.outputText, { url: 'file:///dist/app.js', sourceType: 'module', inputMap: null });
  assert.equal(none.sites[0].file, 'file:///dist/app.js');
});

test('TypeScript through module.stripTypeScriptTypes: sites keep the .ts positions', (t) => {
  const strip = (nodeModule as { stripTypeScriptTypes?: (code: string, options?: object) => string }).stripTypeScriptTypes;
  if (!strip) {
    t.skip(`node:module has no stripTypeScriptTypes on Node ${process.version}`);
    return;
  }
  const plain = TS_SOURCE.replace(/enum Color \{ Red, Green \}/, 'const Color = { Red: 0 };')
    .replace('constructor(private readonly items: T[] = []) {}', 'items: T[]; constructor(items: T[] = []) { this.items = items; }');
  const js = strip(plain);
  const r = instrument(js, { url: 'file:///src/app.ts', sourceType: 'module' });
  assert.deepEqual(r.sites.slice(0, 3).map((s) => `${s.kind} ${s.line}:${s.column}`), ['object 5:20', 'array 6:10', 'object 6:14']);
});

test('semantics: tricky ESM prints the same instrumented, with and without a recorder', () => {
  const src = readFileSync(join(FIXTURES, 'semantics.mjs'), 'utf8');
  const { original, bare, recorded, counts, r } = runBoth(src, 'semantics.mjs', 'module');
  assert.equal(original.status, 0, original.stderr);
  assert.equal(bare.stderr, original.stderr);
  assert.equal(bare.stdout, original.stdout);
  assert.equal(recorded.stdout, original.stdout);
  assert.equal(counts.length, r.sites.length);
  assert.ok(r.sites.length > 80, `${r.sites.length} sites`);
  // Nearly every site runs in this program; the recorder saw them.
  const ran = counts.filter((c) => c > 0).length;
  assert.ok(ran > r.sites.length * 0.8, `${ran} of ${r.sites.length} sites ran`);
});

test('semantics: CommonJS body with hashbang, directive and top-level return', () => {
  const src = readFileSync(join(FIXTURES, 'semantics.cjs'), 'utf8');
  const { original, bare, recorded, counts } = runBoth(src, 'semantics.cjs', 'script');
  assert.equal(original.status, 0, original.stderr);
  assert.match(original.stdout, /"this is exports",true/);
  assert.equal(bare.stdout, original.stdout);
  assert.equal(recorded.stdout, original.stdout);
  assert.ok(counts.length > 5 && counts.every((c) => c > 0), JSON.stringify(counts));
});

test('semantics: an instrumented real library (acorn) parses like the original', () => {
  const acornFile = fileURLToPath(import.meta.resolve('acorn'));
  const lib = readFileSync(acornFile, 'utf8');
  withTemp((dir) => {
    const input = join(FIXTURES, 'semantics.mjs');
    const user = (lib: string) =>
      `import { parse } from ${JSON.stringify(pathToFileURL(lib).href)};\n` +
      `const ast = parse(${JSON.stringify(readFileSync(input, 'utf8'))}, { ecmaVersion: 'latest', sourceType: 'module', locations: true });\n` +
      `console.log(JSON.stringify(ast));\n`;
    const instrumented = join(dir, 'acorn.mjs');
    const r = instrument(lib, { url: pathToFileURL(instrumented).href, sourceType: 'module' });
    writeFileSync(instrumented, r.code);
    writeFileSync(join(dir, 'orig.mjs'), user(acornFile));
    writeFileSync(join(dir, 'inst.mjs'), user(instrumented));
    writeFileSync(join(dir, 'recorder.mjs'), RECORDER);
    const original = runNode([join(dir, 'orig.mjs')]);
    const recorded = runNode(['--import', pathToFileURL(join(dir, 'recorder.mjs')).href, join(dir, 'inst.mjs')]);
    assert.equal(original.status, 0, original.stderr);
    assert.ok(original.stdout.length > 10_000);
    assert.equal(recorded.stdout, original.stdout);
    const counts = JSON.parse(/RECORDED (.*)/.exec(recorded.stderr)![1])[pathToFileURL(instrumented).href] as number[];
    assert.ok(counts.reduce((a, b) => a + b, 0) > 1000, 'the recorder saw the allocations');
  });
});

test('ESM import cycle: a hoisted function that allocates, called before its module body runs', () => {
  withTemp((dir) => {
    const a = "import './b.mjs';\nexport function make() { return { made: [1] }; }\n";
    const b = "import { make } from './a.mjs';\nconsole.log(JSON.stringify(make()));\n";
    writeFileSync(join(dir, 'b.mjs'), b);
    writeFileSync(join(dir, 'a.mjs'), a);
    const original = runNode([join(dir, 'a.mjs')]);
    writeFileSync(join(dir, 'a.mjs'), instrument(a, { url: pathToFileURL(join(dir, 'a.mjs')).href, sourceType: 'module' }).code);
    const instrumented = runNode([join(dir, 'a.mjs')]);
    assert.equal(original.stdout, '{"made":[1]}\n');
    assert.equal(instrumented.stdout, original.stdout, instrumented.stderr);
  });
});

// Property test: random small programs over the constructs the transform
// touches print the same before and after (one child per batch). Functions
// print their `name` and, called, the name V8 shows for them in a stack.
const leaf = fc.constantFrom(
  '1', 'x', '"s"', 'arr', 'obj', 'maybe', '[]', '{}', '/r+/g', '(() => 2)', 'new Map()',
  'function () { return who(); }', '(() => who())', 'class {}', '`t${x}`',
);
const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    tie('e').map((e) => `[${e}]`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `{ k: ${a}, [${b}]: 1 }`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(x ? ${a} : ${b})`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(maybe || ${a} && ${b})`),
    tie('e').map((e) => `{ get g() { return ${e}; }, m() { return [this.g]; } }.m()`),
    tie('e').map((e) => `(${e})?.slice?.(0)`),
    tie('e').map((e) => `maybe?.map(${e})?.length`),
    tie('e').map((e) => `arr.map((v) => (${e}))`),
    tie('e').map((e) => `(function () { return ${e}; })()`),
    tie('e').map((e) => `((f = () => (${e})) => f.name + typeof f())()`),
    tie('e').map((e) => `JSON.stringify(${e})`),
    tie('e').map((e) => `new (class { #p = ${e}; v = [this.#p]; static n = (() => 1).name; })().v`),
    tie('e').map((e) => `[...[${e}], ...arr.slice(1)]`),
    tie('e').map((e) => `String.raw\`a\${${e}}b\``),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a}, ${b})`),
    tie('e').map((e) => `typeof ${e}`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `new Map([[${a}, 1]]).set(${b}, 2).get(${a})`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `[new Set().add(${a}).has(${b}), new Map().delete(${a})]`),
  ),
})).e;
// Statements around an expression: naming positions, yield, labels.
const statement = fc.oneof(
  expr.map((e) => `out.push([${e}]);`),
  expr.map((e) => `{ const n = ${e}; out.push(n); }`),
  expr.map((e) => `obj.p = ${e}; out.push(obj.p);`),
  expr.map((e) => `{ let [d] = [${e}]; out.push(d); }`),
  expr.map((e) => `out.push({ a: [await ${e}] }, await (async () => [await ${e}])());`),
  expr.map((e) => `out.push([...(function* () { yield [${e}]; yield { y: yield ${e} }; })()]);`),
  expr.map((e) => `lbl: { out.push(${e}); break lbl; }`),
);

test('property: random programs print the same instrumented', () => {
  const programs = fc.sample(fc.array(statement, { minLength: 1, maxLength: 4 }), { numRuns: 80, seed: 42 });
  const body = programs
    .map((p, i) => `try { const out = []; ${p.join(' ')} print(${i}, out); } catch (e) { print(${i}, 'throws ' + e.constructor.name); }`)
    .join('\n');
  const src = [
    'const arr = [1, 2]; const obj = { a: 1 }; let maybe; const x = 3;',
    "const who = () => new Error().stack.split('\\n')[2].trim().split(' ')[1].replace(/^file:.*/, '(file)');",
    'const show = (w) => { try { const r = w.length === 0 && !/^class/.test(String(w)) ? w() : undefined; return typeof r === "string" ? r : typeof r; } catch (e) { return e.constructor.name; } };',
    'const print = (i, v) => console.log(i, JSON.stringify(v, (k, w) => (typeof w === "function" ? "fn:" + w.name + ":" + show(w) : w instanceof Map ? "map" : w instanceof RegExp ? String(w) : w)));',
    body,
  ].join('\n');
  const { original, bare, r } = runBoth(src, 'prop.mjs', 'module');
  assert.equal(original.status, 0, original.stderr);
  assert.ok(r.sites.length > 200 && r.skipped.length > 10, `${r.sites.length} sites, ${r.skipped.length} skipped`);
  assert.equal(bare.stdout, original.stdout);
});

test('returned closures are sites, and their names and stack frames read as before', () => {
  const src = [
    'function subscriber(id) { return (p) => new Error("s" + id + p).stack.split("\\n")[1]; }',
    'const curry = (a) => (b) => [new Error("c").stack.split("\\n")[1], a + b];',
    'const o = { make() { return function () { return new Error("m").stack.split("\\n")[1]; }; } };',
    'let late; late = function () { return class { static where() { return new Error("k").stack.split("\\n")[1]; } }; };',
    'const f = subscriber(1), g = curry(1), h = o.make(), K = late();',
    'console.log(JSON.stringify([f.name, g.name, h.name, K.name, f(2), g(3), h(), K.where()]));',
  ].join('\n');
  const { original, bare, recorded, r } = runBoth(src, 'returned.mjs', 'module');
  assert.equal(original.status, 0, original.stderr);
  // Same names and frames; columns move with the wrapping (the source map maps them back).
  const noColumns = (text: string) => text.replace(/:(\d+):\d+/g, ':$1');
  assert.equal(noColumns(bare.stdout), noColumns(original.stdout));
  assert.equal(noColumns(recorded.stdout), noColumns(original.stdout));
  const fns = r.sites.filter((s) => s.kind === 'function' || s.kind === 'class').map((s) => `${s.kind} ${s.line}`);
  for (const site of ['function 1', 'function 2', 'function 3', 'class 4']) assert.ok(fns.includes(site), `${site} in ${fns.join(', ')}`);
});

test('string sites: templates, + chains with a string, += and string-making calls; parts of a larger string or literal are not sites of their own', () => {
  const r = script(
    [
      'function f(e, row, tag, n, o) {',
      '  const a = `[${e.at}] user=${e.user}`;', // 2
      "  row += ',' + e.user;", // 3
      "  const b = e.kind + '|' + e.user + `${n}!`;", // 4
      "  const c = [e.kind, 'u' + e.user].join('|');", // 5
      '  const d = String(n) + 1;', // 6
      "  const o2 = { label: 'item ' + n, s: `${n}x` };", // 7
      '  const t = tag`x${n + 1}y${`z${n}`}`;', // 8
      '  let m = 1 + 2; m += n * 2; const bare = `${e.kind}`;', // 9
      '  return o?.name.toUpperCase().trim();', // 10
      '}',
    ].join('\n'),
  );
  const strings = r.sites.filter((s) => s.kind === 'string').map((s) => `${s.line}:${s.column} ${JSON.stringify(s.foreign ?? [])}`);
  assert.deepEqual(strings, [
    // `[`, e.at, `] user=`, e.user: a left fold of four parts.
    '2:13 ["ffs","s"]',
    // row is the previous value: cons(row, ',' + e.user).
    '3:3 ["f","ss"]',
    // `${n}!` is cons(n, '!') in the second place.
    '4:13 ["fff","fs","sf"]',
    '5:13 []',
    '6:13 []',
    // The tagged template's substitution `z${n}` is a string of its own; `n + 1` is a number.
    '8:29 ["s"]',
    // The top of an optional chain can be wrapped as a whole; a call inside it cannot.
    '10:10 []',
  ]);
  // The literal on line 7 counts its computed strings itself.
  assert.ok(r.sites.some((s) => s.kind === 'object' && s.line === 7));
  assert.ok(r.skipped.some((s) => s.kind === 'string' && s.line === 10 && s.column === 10 && /optional chain/.test(s.reason)), JSON.stringify(r.skipped));
});

test("key sites: the first argument of get, set, has, add and delete, unless a literal or a parenthesised sequence; a key that is built there nests inside", () => {
  const r = script(
    [
      'function f(m, s, k, n) {',
      '  m.get(k); m.set(k, 1); s.has(k); s.add(k); m.delete(k);', // 2
      "  m.get('lit'); m.get(1); m.get(`bare`); m.get((k, n)); m.get(...[k]); m['get'](k); m.push(k); m.get();", // 3
      "  return m?.get('u' + n) ?? m.set(`${n}`, [k]);", // 4
      '}',
    ].join('\n'),
  );
  assert.deepEqual(brief(r).filter((b) => b.startsWith('key')), ['key 2:9 f', 'key 2:19 f', 'key 2:32 f', 'key 2:42 f', 'key 2:55 f', 'key 4:17 f', 'key 4:35 f']);
  // The key wrapper holds the string site that builds the key.
  assert.match(r.code, /m\?\.get\(__tm\$k\(\d+, __tm\$\(\d+, 'u' \+ n\)\)\)/);
  assert.match(r.code, /m\.set\(__tm\$k\(\d+, `\$\{n\}`\), __tm\$\(\d+, \[k\]\)\)/);
});

test('key sites: the computed name of a property stored to, unless a function or class is stored (V8 infers its name from the target); loads and literal names are left alone', () => {
  const r = script(
    [
      'function f(o, k, n) {',
      "  o[k] = 1; o[k] += 'x'; o[k]++; --o[n + k]; o[k] ??= [];", // 2
      "  o['lit'] = 1; o[0] = 1; o.p = 1; o[k] = () => 1; o[k] = class {}; return o[k] + (k in o);", // 3
      '}',
    ].join('\n'),
  );
  assert.deepEqual(brief(r).filter((b) => b.startsWith('key')), ['key 2:5 f', 'key 2:15 f', 'key 2:28 f', 'key 2:38 f', 'key 2:48 f']);
  assert.match(r.code, /--o\[__tm\$k\(\d+, n \+ k\)\]/);
});

test('semantics: string sites keep values, types, evaluation order, getters and setters, tagged templates and this', () => {
  const src = `
    const log = [];
    const v = (x) => (log.push(x), x);
    const obj = { _s: 'a', get s() { log.push('get'); return this._s; }, set s(x) { log.push('set'); this._s = x; },
      toString() { return 'OBJ' + this._s; }, name: 'n', shout() { return this.name.toUpperCase(); } };
    let s = 'x';
    for (let i = 0; i < 3; i++) s += v('p' + i) + v(i);
    obj.s += v('-') + v(1 + 2);
    const n = v(1) + v(2);
    const m = v('1') + v(2) * v(3);
    const t = \`\${v(obj)}:\${v(n)}:\${v(\`in\${m}\`)}\`;
    const tag = (q, ...xs) => q.raw.join('_') + '/' + xs.join(',');
    const tagged = tag\`a\${v('b')}c\${'d' + v(1)}\`;
    const calls = [String(v(12.5)), (255).toString(16), obj.shout(), ['a', 'b'].join(obj), 'ab'.repeat(v(2)), 'x'.padStart(v(4), '-')];
    let total = 0; total += 5; total += v(2);
    const big = 'q'.repeat(2000) + v('end');
    console.log(JSON.stringify([s, obj._s, n, typeof n, m, t, tagged, calls, total, typeof total, big.length, log.map(String)]));
  `;
  const { original, bare, recorded, counts, r } = runBoth(src, 'strings.mjs', 'module');
  assert.equal(original.status, 0, original.stderr);
  assert.equal(bare.stdout, original.stdout);
  assert.equal(recorded.stdout, original.stdout);
  assert.ok(r.sites.filter((s) => s.kind === 'string').length >= 8, JSON.stringify(r.sites.map((s) => s.kind)));
  assert.ok(counts.some((c) => c > 0));
});

test('property: the waiting-keys table gives back what a plain model of it would, across growth, removals and clears', () => {
  type Op = { add: [number, number] } | { take: [number, number] } | { clear: true };
  // Few lengths and hashes: many entries share one, probes cross removed entries.
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -1, max: 1 })).map((add) => ({ add })) },
    { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -1, max: 1 })).map((take) => ({ take })) },
    { weight: 1, arbitrary: fc.constant({ clear: true as const }) },
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 20, maxLength: 400, size: 'max' }), (ops) => {
      const table = new WaitingKeys(8);
      const model = new Map<string, number[]>();
      let next = 0;
      for (const o of ops) {
        if ('add' in o) {
          const [length, hash] = o.add;
          table.add(next, length, hash);
          const list = model.get(`${length}:${hash}`) ?? [];
          model.set(`${length}:${hash}`, [...list, next++]);
        } else if ('take' in o) {
          const [length, hash] = o.take;
          const list = model.get(`${length}:${hash}`) ?? [];
          const slot = table.take(length, hash);
          if (list.length === 0) assert.equal(slot, -1);
          else {
            assert.ok(list.includes(slot), `${slot} is one of ${list.join(',')}`);
            model.set(`${length}:${hash}`, list.filter((s) => s !== slot));
          }
        } else {
          table.clear();
          model.clear();
        }
        for (let length = 0; length <= 8; length++) {
          const waiting = [...model].filter(([k]) => Number(k.split(':')[0]) === length).reduce((n, [, l]) => n + l.length, 0);
          assert.equal(table.lengths[length], waiting);
        }
      }
    }),
    { numRuns: 300, seed: 7 },
  );
});

// Tricky syntax for the lines transform: run as-is and instrumented, the
// printed output must be identical.
import { strict as assert } from 'node:assert';
const out = [];
const log = (...a) => out.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));

// Names given by position must survive.
const arrow = () => ({});
const fnExpr = function () {};
let assigned;
assigned = () => [];
const obj = { prop: () => 1, method() { return [this === obj]; }, ['comp' + 1]: function () {}, __proto__: { base() { return 'base'; } } };
class Fields { field = () => {}; #priv = function () {}; static stat = class {}; getPriv() { return this.#priv; } }
const holder = {};
holder.member = function () { return new Error('x').stack.split('\n')[1].trim().split(' ')[1]; };
function defaults(p = () => {}, { q = function () {} } = {}) { return [p.name, q.name]; }
const { dflt = () => {} } = {};
const [arrDflt = class {}] = [];
log('names', arrow.name, fnExpr.name, assigned.name, obj.prop.name, obj.comp1.name, new Fields().field.name,
  new Fields().getPriv().name, Fields.stat.name, defaults(), dflt.name, arrDflt.name, holder.member(), obj.base());
log('method this', obj.method());
// Names V8 infers for stack traces (fn.name is '') through conditionals,
// logical operators and literals.
const frame = () => new Error().stack.split('\n')[2].trim().split(' ')[1];
const cond = true;
const inferred = { viaCond: cond ? () => frame() : null, viaArray: [function () { return frame(); }], nested: { deep: cond && (() => frame()) } };
let assignedLater;
assignedLater = null || [() => frame()];
class WithField { f = [() => frame()]; }
log('inferred', inferred.viaCond(), inferred.viaArray[0](), inferred.nested.deep(), assignedLater[0](), new WithField().f[0]());
let d1, d2;
[d1] = [function () { return frame(); }];
({ d2 } = { d2: [() => frame()] });
const [d3] = [function () { return frame(); }];
const viaCall = ((_, o) => o)(0, { p: cond ? function () { return frame(); } : 0 });
log('inferred 2', d1().replace(/:\d+:\d+/, ''), d2[0](), d3().replace(/:\d+:\d+/, ''), viaCall.p());
const anon = [() => {}, function () {}, class {}].map((f) => f.name);
log('anon', anon);

// Optional chaining keeps short-circuiting.
let missing;
const present = [3, 1, 2];
log('chain', missing?.slice().length, missing?.map((x) => x).filter(Boolean), present?.slice().length,
  present.slice?.(1), missing?.concat([1]), present?.toSorted?.().at(0), missing?.[0]?.split(','));

// await, yield inside allocations; async arrows; generators.
const later = async (v) => v;
async function asyncAlloc() { return [await later(1), { x: await later(2) }, new Map([[await later(3), 4]])]; }
function* gen() { const got = [yield 1, { x: yield 2 }]; return got; }
const g = gen(); g.next(); g.next('a');
log('gen', g.next('b'));
log('async', await asyncAlloc());
const asyncArrow = async () => ({ done: await later(true) });
log('async arrow', await asyncArrow());

// Getters, setters, super in object literals and classes.
const base = { hello() { return ['base hello']; } };
const child = { __proto__: base, hello() { return [...super.hello(), 'child']; }, get g() { return { got: 1 }; }, set s(v) { this._s = [v]; } };
child.s = 5;
log('super', child.hello(), child.g, child._s);
class Base { constructor() { this.kind = new.target.name; } list() { return [1]; } }
class Derived extends Base { #p = { p: 1 }; static count = [0]; static { Derived.count.push(1); } list() { return super.list().concat([2], this.#p.p); } }
log('class', new Derived().list(), Derived.count, new Derived().kind);
const Expr = class Named extends (class {}) {};
log('class expr', Expr.name);

// arguments, labels, ASI, regexps, tagged templates, delete.
function args() { return [arguments.length, Array.from(arguments)]; }
log('arguments', args(1, 2));
outer: for (const i of [1, 2]) { for (const j of [1, 2]) { if (j === 2) continue outer; log('label', [i, j]); } }
let asi = 1
;[asi] = [2]
const asiFn = () => 3
;(asiFn)()
log('asi', asi)
const tag = (s, ...v) => ({ s: [...s], v });
log('tag', tag`a${[1]}b`, String.raw`x${1}`);
const del = { a: 1 };
log('delete', delete del.a, delete [].x, del);
log('regexp', /a(b)/.exec('xab').slice(), 'a,b'.split(/,/));

// import.meta, dynamic import, top-level await.
log('meta', typeof import.meta.url, Object.keys(await import('node:path')).includes('join'));

// Calls that allocate; `this` of method calls unchanged.
const arr = [1, 2, 3];
log('calls', arr.map((x) => x * 2), arr.filter((x) => x > 1), [...arr.entries()], Object.entries({ a: 1 }),
  JSON.parse('{"j":1}'), structuredClone({ c: [1] }), Array.of(1, 2), Buffer.from('hi').toString('hex'),
  arr.concat([4]).flat(), 'a b'.split(' '), [...new Set([1, 1, 2]).values()]);
assert.deepEqual(arr.with(0, 9), [9, 2, 3]);
log('new', new (class { constructor(v) { this.v = v; } })(5), new Date(0).toISOString(), new function () { this.z = 1; }());
log('iife', (function () { return typeof this; })(), (() => [1])());
log('arrow body', (() => ({}))(), [1].map((x) => ({ x })));
console.log(out.join('\n'));

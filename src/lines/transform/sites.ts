// Finds allocation sites in an acorn (ESTree) tree and decides, per site,
// whether wrapping it in a call keeps the program's behaviour.

/** Loose ESTree node: acorn's own types are a closed union that is awkward to walk generically. */
export interface N {
  type: string;
  start: number;
  end: number;
  [key: string]: any;
}

/** `tree`: a call that builds a whole new object tree (`JSON.parse`, `structuredClone`). */
/** `string`: an expression that builds a string (template, `+` chain, `+=`, string-making call). */
/** `key`: a Map or Set method's key argument, or a stored property's computed name, where V8 copies a new string (not an allocation of its own). */
export type RawKind = 'object' | 'array' | 'new' | 'function' | 'class' | 'call' | 'tree' | 'regexp' | 'string' | 'key';

/** A site in generated (input) offsets. */
export interface RawSite {
  kind: RawKind;
  start: number;
  end: number;
  fn: number;
  /** Needs its own parentheses (callee of `new`). */
  parens: boolean;
  /** Set when a later look inside shows wrapping would change behaviour. */
  skip?: string;
  /** Object or array literal: properties (or element indices) whose value the literal itself computes. */
  made?: string[];
  /** String site: paths ('f' first, 's' second) in V8's concatenation tree to operands made elsewhere. */
  foreign?: string[];
}

export interface RawFunction {
  name: string;
  start: number;
  end: number;
}

export interface RawSkip {
  kind: RawKind;
  start: number;
  reason: string;
}

// Methods whose result is a fresh object (or iterator) on the built-ins that
// define them. Matched by name only: a user method of the same name is
// wrapped too, which is harmless because `a` returns its argument.
const ALLOC_METHODS = new Set([
  'slice', 'concat', 'map', 'filter', 'flat', 'flatMap', 'split', 'splice',
  'toSorted', 'toReversed', 'toSpliced', 'with', 'entries', 'keys', 'values',
]);
// A Map, not an object literal: `constructor.from()` must not find Object.prototype.
const STATIC_ALLOC = new Map<string, ReadonlySet<string>>([
  ['Array', new Set(['from', 'of'])],
  ['Object', new Set(['fromEntries', 'keys', 'values', 'entries'])],
  ['Buffer', new Set(['from', 'alloc', 'allocUnsafe', 'concat'])],
]);
// Calls whose whole result tree is new: line mode counts the tree at the call's line.
const TREE_CALLS = new Map<string, ReadonlySet<string>>([['JSON', new Set(['parse'])]]);
const GLOBAL_TREE_CALLS = new Set(['structuredClone']);
// Map and Set methods whose first argument is a key. Matched by name only, like ALLOC_METHODS.
const KEY_METHODS = new Set(['get', 'set', 'has', 'add', 'delete']);

// Child keys per node type, in source order. Keys that can only hold
// identifiers or other leaves are left out.
const CHILDREN: Record<string, readonly string[]> = {
  Program: ['body'],
  ExpressionStatement: ['expression'],
  BlockStatement: ['body'],
  StaticBlock: ['body'],
  WithStatement: ['object', 'body'],
  ReturnStatement: ['argument'],
  LabeledStatement: ['body'],
  IfStatement: ['test', 'consequent', 'alternate'],
  SwitchStatement: ['discriminant', 'cases'],
  SwitchCase: ['test', 'consequent'],
  ThrowStatement: ['argument'],
  TryStatement: ['block', 'handler', 'finalizer'],
  CatchClause: ['param', 'body'],
  WhileStatement: ['test', 'body'],
  DoWhileStatement: ['body', 'test'],
  ForStatement: ['init', 'test', 'update', 'body'],
  ForInStatement: ['left', 'right', 'body'],
  ForOfStatement: ['left', 'right', 'body'],
  FunctionDeclaration: ['params', 'body'],
  FunctionExpression: ['params', 'body'],
  ArrowFunctionExpression: ['params', 'body'],
  VariableDeclaration: ['declarations'],
  VariableDeclarator: ['id', 'init'],
  ArrayExpression: ['elements'],
  ObjectExpression: ['properties'],
  Property: ['key', 'value'],
  UnaryExpression: ['argument'],
  UpdateExpression: ['argument'],
  BinaryExpression: ['left', 'right'],
  LogicalExpression: ['left', 'right'],
  AssignmentExpression: ['left', 'right'],
  MemberExpression: ['object', 'property'],
  ConditionalExpression: ['test', 'consequent', 'alternate'],
  CallExpression: ['callee', 'arguments'],
  NewExpression: ['callee', 'arguments'],
  SequenceExpression: ['expressions'],
  YieldExpression: ['argument'],
  AwaitExpression: ['argument'],
  TemplateLiteral: ['expressions'],
  TaggedTemplateExpression: ['tag', 'quasi'],
  ObjectPattern: ['properties'],
  ArrayPattern: ['elements'],
  RestElement: ['argument'],
  AssignmentPattern: ['left', 'right'],
  ClassDeclaration: ['superClass', 'body'],
  ClassExpression: ['superClass', 'body'],
  ClassBody: ['body'],
  MethodDefinition: ['key', 'value'],
  PropertyDefinition: ['key', 'value'],
  ExportNamedDeclaration: ['declaration'],
  ExportDefaultDeclaration: ['declaration'],
  ImportExpression: ['source', 'options'],
  ChainExpression: ['expression'],
  ParenthesizedExpression: ['expression'],
  SpreadElement: ['argument'],
  // Leaves.
  Identifier: [], Literal: [], ThisExpression: [], Super: [], MetaProperty: [],
  PrivateIdentifier: [], EmptyStatement: [], DebuggerStatement: [], BreakStatement: [],
  ContinueStatement: [], ImportDeclaration: [], ExportAllDeclaration: [], TemplateElement: [],
};

function isNode(v: unknown): v is N {
  return typeof v === 'object' && v !== null && typeof (v as N).type === 'string';
}

function keyName(node: N): string {
  const key = node.key as N;
  if (node.computed) return '';
  if (key.type === 'Identifier') return key.name;
  if (key.type === 'PrivateIdentifier') return '#' + key.name;
  if (key.type === 'Literal') return String(key.value);
  return '';
}

// String methods that return a new string made by the call.
const STRING_MAKERS = new Set([
  'toString', 'toUpperCase', 'toLowerCase', 'trim', 'trimStart', 'trimEnd', 'padStart', 'padEnd', 'repeat',
  'replace', 'replaceAll', 'substring', 'substr', 'join', 'toFixed', 'toISOString', 'normalize', 'stringify',
]);

/**
 * True when `value` computes a new string or number on the spot: arithmetic
 * or concatenation, a template with substitutions, a string-making call.
 * Line mode counts such a value with the literal that holds it.
 */
function makesValue(value: N): boolean {
  switch (value.type) {
    case 'BinaryExpression':
      return !/^(==|!=|===|!==|<|>|<=|>=|in|instanceof)$/.test(value.operator);
    case 'TemplateLiteral':
      return value.expressions.length > 0;
    case 'CallExpression': {
      const callee = value.callee as N;
      if (callee.type === 'Identifier') return callee.name === 'String';
      return callee.type === 'MemberExpression' && !callee.computed && STRING_MAKERS.has((callee.property as N).name);
    }
    default:
      return false;
  }
}

function stringCall(node: N): boolean {
  const callee = node.callee as N;
  if (callee.type === 'Identifier') return callee.name === 'String';
  return callee.type === 'MemberExpression' && !callee.computed && STRING_MAKERS.has((callee.property as N).name);
}

/** True when `node` surely evaluates to a string (a string literal, a template, a string-making call, or `+` with one). */
function stringish(node: N): boolean {
  // Down the left spine in a loop: generated `a + b + ...` chains run thousands long.
  for (let n = node; ; n = n.left) {
    switch (n.type) {
      case 'Literal':
        return typeof n.value === 'string';
      case 'TemplateLiteral':
        return true;
      case 'BinaryExpression':
        if (n.operator !== '+') return false;
        if (stringish(n.right)) return true;
        break;
      case 'CallExpression':
        return stringCall(n);
      default:
        return false;
    }
  }
}

const MAX_FOREIGN = 8;
// Deeper operands of long chains count with the string (and keep the walk shallow).
const MAX_PATH = 32;

/**
 * Paths, in the concatenation tree V8 builds (a left fold: `a + b + c` is
 * cons(cons(a, b), c); a template adds its parts in order), to the operands
 * that are values made elsewhere: variables, properties, other calls. Line
 * mode does not count those parts with the string.
 */
function foreignPaths(node: N, path: string, out: string[]): void {
  if (out.length >= MAX_FOREIGN || path.length > MAX_PATH) return;
  switch (node.type) {
    case 'Literal':
      return;
    case 'BinaryExpression':
      if (node.operator !== '+') break;
      foreignPaths(node.left, path + 'f', out);
      foreignPaths(node.right, path + 's', out);
      return;
    case 'TemplateLiteral': {
      const parts: Array<N | null> = [];
      (node.quasis as N[]).forEach((q, i) => {
        if (q.value.cooked !== '') parts.push(null);
        if (i < node.expressions.length) parts.push(node.expressions[i]);
      });
      parts.forEach((p, k) => {
        if (p) foreignPaths(p, path + (k === 0 ? 'f'.repeat(parts.length - 1) : 'f'.repeat(parts.length - 1 - k) + 's'), out);
      });
      return;
    }
    case 'CallExpression':
      if (stringCall(node)) return;
      break;
  }
  out.push(path);
}

/** A template whose value may be one of its substitutions itself (`${x}`): V8 makes nothing then. */
function bareTemplate(node: N): boolean {
  return node.expressions.length === 1 && (node.quasis as N[]).every((q) => q.value.cooked === '');
}

/** The properties (object) or indices (array) of a literal whose values it computes. */
function madeValues(node: N): string[] | undefined {
  const made: string[] = [];
  if (node.type === 'ObjectExpression') {
    for (const p of node.properties as N[]) {
      if (p.type === 'Property' && p.kind === 'init' && !p.method && makesValue(p.value)) {
        const name = keyName(p);
        if (name) made.push(name);
      }
    }
  } else if (node.type === 'ArrayExpression') {
    (node.elements as Array<N | null>).forEach((e, i) => {
      if (e && e.type !== 'SpreadElement' && makesValue(e)) made.push(String(i));
    });
  }
  return made.length > 0 ? made : undefined;
}

/** `a.b.c` for a static member chain (V8's inferred name), '' otherwise. */
function memberName(node: N): string {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'ThisExpression') return '';
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') {
    const base = memberName(node.object);
    return base ? base + '.' + node.property.name : node.property.name;
  }
  return '';
}

/** Name for an assignment target; null for destructuring patterns, which name nothing. */
function targetName(node: N): string | null {
  return node.type === 'Identifier' || node.type === 'MemberExpression' ? memberName(node) : null;
}

function isMethodHolder(parent: N | null, key: string): boolean {
  if (!parent || key !== 'value') return false;
  if (parent.type === 'MethodDefinition') return true;
  return parent.type === 'Property' && (parent.method || parent.kind !== 'init');
}

/**
 * The name an anonymous function or class receives from its position
 * (NamedEvaluation, or V8's inferred name for member assignments), or null
 * when the position gives none.
 */
function positionName(parent: N | null, key: string): string | null {
  if (!parent) return null;
  switch (parent.type) {
    case 'VariableDeclarator':
      // V8 leaves literals under a destructuring declaration pending and names
      // them after the next assignment it sees: treat as naming too.
      if (key !== 'init') return null;
      return parent.id.type === 'Identifier' ? parent.id.name : '';
    case 'AssignmentExpression':
      // `=` and the logical assignments name identifiers; V8 infers
      // `a.b.c` for members, which wrapping would lose too.
      return key === 'right' ? targetName(parent.left) : null;
    case 'AssignmentPattern':
      return key === 'right' ? targetName(parent.left) : null;
    case 'Property':
      if (key !== 'value' || parent.kind !== 'init' || parent.method) return null;
      // `__proto__: fn` sets the prototype and names nothing.
      if (!parent.computed && keyName(parent) === '__proto__') return null;
      return keyName(parent);
    case 'PropertyDefinition':
      return key === 'value' ? keyName(parent) : null;
    case 'ExportDefaultDeclaration':
      return 'default';
    default:
      return null;
  }
}

/**
 * Slots through which V8's function name inference passes (it stops at call
 * arguments): `var x = c ? function () {} : [function () {}]` names both `x`.
 */
function transparent(parent: N, key: string): boolean {
  switch (parent.type) {
    case 'ArrayExpression':
    case 'ObjectExpression':
    case 'LogicalExpression':
    case 'SequenceExpression':
      return true;
    case 'ConditionalExpression':
      return key !== 'test';
    case 'Property':
      return key === 'value' && parent.kind === 'init' && !parent.method;
    default:
      return false;
  }
}

/** Nodes that are part of an expression (functions and classes start new ones). */
function isExpressionPart(node: N): boolean {
  switch (node.type) {
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
    case 'ClassExpression':
      return false;
    case 'Property':
    case 'SpreadElement':
    case 'TemplateLiteral':
    case 'AssignmentPattern':
    case 'ArrayPattern':
    case 'ObjectPattern':
    case 'RestElement':
      return true;
    default:
      return node.type.endsWith('Expression');
  }
}

/** A direct argument of a call or `new`. */
function isArgument(parent: N | null, key: string): boolean {
  return key === 'arguments' && (parent?.type === 'CallExpression' || parent?.type === 'NewExpression');
}

/**
 * What a function returns: `return () => {}` or the body of `x => () => {}`.
 * V8 infers no name there (checked on Node 20 to 26: the stack frames of
 * such functions read the same wrapped or not), so wrapping is as safe as
 * for a call argument. Subscribers, `once` helpers and middleware factories
 * return their closures this way.
 */
function isResult(parent: N | null, key: string): boolean {
  return (parent?.type === 'ReturnStatement' && key === 'argument') || (parent?.type === 'ArrowFunctionExpression' && key === 'body');
}

/** Positions where NamedEvaluation gives an anonymous function its own `name`. */
function ownNamed(parent: N | null, key: string): boolean {
  if (!parent) return false;
  switch (parent.type) {
    case 'VariableDeclarator':
      return key === 'init' && parent.id.type === 'Identifier';
    case 'AssignmentExpression':
      return key === 'right' && parent.left.type === 'Identifier' && /^(=|&&=|\|\|=|\?\?=)$/.test(parent.operator);
    case 'AssignmentPattern':
      return key === 'right' && parent.left.type === 'Identifier';
    case 'Property':
      return key === 'value' && parent.kind === 'init' && !parent.method && (parent.computed || keyName(parent) !== '__proto__');
    case 'PropertyDefinition':
    case 'ExportDefaultDeclaration':
      return true;
    default:
      return false;
  }
}

function allocCall(node: N): 'call' | 'tree' | null {
  const callee = node.callee as N;
  if (callee.type === 'Identifier') return GLOBAL_TREE_CALLS.has(callee.name) ? 'tree' : null;
  if (callee.type !== 'MemberExpression') return null;
  const prop = callee.property as N;
  let name: string;
  if (!callee.computed && prop.type === 'Identifier') name = prop.name;
  else if (callee.computed && prop.type === 'Literal' && typeof prop.value === 'string') name = prop.value;
  else return null;
  if (ALLOC_METHODS.has(name)) return 'call';
  const obj = callee.object as N;
  if (obj.type !== 'Identifier') return null;
  if (TREE_CALLS.get(obj.name)?.has(name)) return 'tree';
  return STATIC_ALLOC.get(obj.name)?.has(name) ? 'call' : null;
}

/** True when a link at or below `node` in an optional chain can short-circuit. */
function optionalBelow(node: N): boolean {
  for (let n: N = node; ; ) {
    if (n.optional) return true;
    if (n.type === 'CallExpression') n = n.callee;
    else if (n.type === 'MemberExpression') n = n.object;
    else return false;
  }
}

interface ClassCtx {
  name: string;
  node: N;
  instanceFn: number;
  staticFn: number;
}

/** Collects sites, functions and skipped sites in one pre-order walk. */
export class SiteFinder {
  readonly sites: RawSite[] = [];
  readonly functions: RawFunction[] = [];
  readonly skipped: RawSkip[] = [];
  private fn = -1;
  private readonly chainInner = new Set<N>();
  private readonly classes: ClassCtx[] = [];
  /** Values a literal site computes (and counts); not string sites of their own. */
  private readonly covered = new Set<N>();
  private readonly taggedQuasis = new Set<N>();

  run(program: N): void {
    this.visit(program, null, '');
    // Sites found unsafe after their children were seen.
    for (let i = this.sites.length - 1; i >= 0; i--) {
      const s = this.sites[i];
      if (s.skip) {
        this.skipped.push({ kind: s.kind, start: s.start, reason: s.skip });
        this.sites.splice(i, 1);
      }
    }
    this.skipped.sort((a, b) => a.start - b.start);
  }

  private addFunction(name: string, start: number, end: number): number {
    this.functions.push({ name, start, end });
    return this.functions.length - 1;
  }

  private candidate(node: N, parent: N | null, key: string): RawKind | null {
    switch (node.type) {
      case 'ObjectExpression': return 'object';
      case 'ArrayExpression': return 'array';
      case 'NewExpression': return 'new';
      case 'FunctionExpression': return isMethodHolder(parent, key) ? null : 'function';
      case 'ArrowFunctionExpression': return 'function';
      case 'ClassExpression': return 'class';
      case 'Literal': return node.regex ? 'regexp' : null;
      case 'CallExpression': return allocCall(node) ?? (stringCall(node) && this.stringTop(node, parent, key) ? 'string' : null);
      case 'TemplateLiteral':
        return parent?.type !== 'TaggedTemplateExpression' && !bareTemplate(node) && this.stringTop(node, parent, key) ? 'string' : null;
      case 'AssignmentExpression':
        return node.operator === '+=' && stringish(node.right) && this.stringTop(node, parent, key) ? 'string' : null;
      default: return null;
    }
  }

  /**
   * A string expression that is not part of a larger one: an operand of `+`,
   * a template's substitution or the right side of `+=` is counted with the
   * string it goes into, a literal's computed value with the literal.
   */
  private stringTop(node: N, parent: N | null, key: string): boolean {
    if (this.covered.has(node)) return false;
    if (!parent) return true;
    if (parent.type === 'BinaryExpression' && parent.operator === '+') return false;
    if (parent.type === 'TemplateLiteral' && !this.taggedQuasis.has(parent)) return false;
    return !(parent.type === 'AssignmentExpression' && parent.operator === '+=' && key === 'right');
  }

  /**
   * The key of `m.get(key)`, `m.set(key, v)`, `s.add(key)`...: V8 14 copies
   * a string key there the first time a Map or Set takes it. Wrapping an
   * argument changes nothing; literals are keys already and are left alone,
   * and so is a parenthesised sequence, whose parentheses ESTree leaves out.
   */
  private keySite(call: N): void {
    const callee = call.callee as N;
    if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier' || !KEY_METHODS.has(callee.property.name)) return;
    const arg = call.arguments[0] as N | undefined;
    if (!arg || arg.type === 'SpreadElement' || arg.type === 'Literal' || arg.type === 'SequenceExpression' || (arg.type === 'TemplateLiteral' && arg.expressions.length === 0)) return;
    this.sites.push({ kind: 'key', start: arg.start, end: arg.end, fn: this.fn, parens: false });
  }

  /**
   * The computed name of a property stored to (`counts[word] = n`,
   * `seen[id]++`): V8 copies a new string into its string table there, on
   * every version. Loads are left alone: V8 looks their names up without
   * copying.
   */
  private nameSite(target: N): void {
    if (target.type !== 'MemberExpression' || !target.computed) return;
    const name = target.property as N;
    if (name.type === 'Literal' || name.type === 'SequenceExpression' || (name.type === 'TemplateLiteral' && name.expressions.length === 0)) return;
    this.sites.push({ kind: 'key', start: name.start, end: name.end, fn: this.fn, parens: false });
  }

  /** Wraps `node` as a site of `kind` unless that would change behaviour. */
  private consider(node: N, kind: RawKind, parent: N | null, key: string, naming: string | null): void {
    const reason = this.blocker(node, kind, parent, key, naming);
    if (reason) {
      this.skipped.push({ kind, start: node.start, reason });
      return;
    }
    const parens = parent?.type === 'NewExpression' && key === 'callee';
    const site: RawSite = { kind, start: node.start, end: node.end, fn: this.fn, parens, made: madeValues(node) };
    if (kind === 'string') {
      const foreign: string[] = [];
      if (node.type === 'AssignmentExpression') {
        foreign.push('f');
        foreignPaths(node.right, 's', foreign);
      } else foreignPaths(node, '', foreign);
      if (foreign.length > 0) site.foreign = foreign;
    }
    if (site.made) {
      if (node.type === 'ObjectExpression') {
        for (const p of node.properties as N[]) if (p.type === 'Property' && p.kind === 'init' && !p.method && makesValue(p.value)) this.covered.add(p.value);
      } else for (const e of node.elements as Array<N | null>) if (e && e.type !== 'SpreadElement' && makesValue(e)) this.covered.add(e);
    }
    this.sites.push(site);
  }

  /** Why wrapping `node` would change behaviour, or null when it is safe. */
  private blocker(node: N, kind: RawKind, parent: N | null, key: string, naming: string | null): string | null {
    if (!parent) return null;
    if (parent.type === 'TaggedTemplateExpression' && key === 'tag') return 'tag of a tagged template';
    if (parent.type === 'UnaryExpression' && parent.operator === 'delete') return 'operand of delete';
    if ((kind === 'function' || kind === 'class') && !node.id) {
      if (naming !== null) return 'anonymous ' + kind + ' named by its position (wrapping would change the name V8 shows)';
      if (!isArgument(parent, key) && !isResult(parent, key)) {
        return 'anonymous ' + kind + ' outside call arguments (V8 may infer its name from the expression around it)';
      }
    }
    if (node.type === 'CallExpression' && this.chainInner.has(node) && optionalBelow(node)) {
      return 'call inside an optional chain (wrapping would break short-circuiting)';
    }
    return null;
  }

  /**
   * Visits `node`; `inherited` is the name V8 would infer at the parent's
   * position (null when none). Returns true when `node` is or contains
   * (within the same function) an anonymous function without an own name
   * that is not a direct call argument: V8 may give it an inferred name from
   * the expression around it (`w(0, { p: c ? () => {} : 0 })` shows `w.p`),
   * and wrapping it, or any literal holding it, changes that name.
   */
  private visit(node: N, parent: N | null, key: string, inherited: string | null = null): boolean {
    if (parent && !isExpressionPart(parent)) return this.visitRoot(node, parent, key, inherited);
    return this.visitInner(node, parent, key, inherited);
  }

  /**
   * An expression directly under a statement, declaration or function: the
   * scope within which V8 hands inferred names to pending function literals.
   * When it holds a name-sensitive function, wrapping any of its sites could
   * move that function or a later naming point into a call argument.
   */
  private visitRoot(node: N, parent: N, key: string, inherited: string | null): boolean {
    const mark = this.sites.length;
    const fn = this.fn;
    if (!this.visitInner(node, parent, key, inherited)) return false;
    for (let i = mark; i < this.sites.length; i++) {
      const s = this.sites[i];
      if (s.fn === fn && !s.skip) {
        s.skip = 'in an expression with an anonymous function V8 may name after it (wrapping would change that name)';
      }
    }
    return false;
  }

  private visitInner(node: N, parent: N | null, key: string, inherited: string | null): boolean {
    if (node.type === 'BinaryExpression') {
      // Long `a + b + c ...` chains (generated code) nest to the left: walk
      // that spine in a loop so depth stays flat.
      const spine: N[] = [];
      let n = node;
      for (; n.type === 'BinaryExpression'; n = n.left) spine.push(n);
      spine.forEach((b, i) => {
        const up = i === 0 ? parent : spine[i - 1];
        if (b.operator === '+' && this.stringTop(b, up, i === 0 ? key : 'left') && stringish(b)) this.consider(b, 'string', up, i === 0 ? key : 'left', null);
      });
      this.visit(n, spine[spine.length - 1], 'left');
      for (let i = spine.length - 1; i >= 0; i--) this.visit(spine[i].right, spine[i], 'right');
      return false;
    }
    const own = positionName(parent, key);
    let naming: string | null = null;
    if (own !== null) naming = parent!.type === 'Property' && inherited ? inherited + '.' + own : own;
    else if (parent && transparent(parent, key)) naming = inherited;
    // `export default` names only a function or class that is the whole declaration.
    if (parent?.type === 'ExportDefaultDeclaration' && !/^(Arrow)?Function|^Class/.test(node.type)) naming = null;

    const kind = this.candidate(node, parent, key);
    if (kind) this.consider(node, kind, parent, key, naming);
    if (node.type === 'CallExpression') this.keySite(node);
    // A function or class stored under a computed name keeps the inferred name V8 reads from the target.
    else if (node.type === 'AssignmentExpression' && !/^(Arrow)?Function|^Class/.test(node.right.type)) this.nameSite(node.left);
    else if (node.type === 'UpdateExpression') this.nameSite(node.argument);
    if (node.type === 'TaggedTemplateExpression') this.taggedQuasis.add(node.quasi);
    switch (node.type) {
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
      case 'ClassExpression': {
        if (node.type === 'ClassExpression') this.visitClass(node, parent, key, naming);
        else this.visitFunction(node, parent, key, naming);
        // Only an anonymous literal without an own name can take V8's inferred
        // name; V8 drops pending names for direct call arguments and results.
        return !node.id && !ownNamed(parent, key) && !isArgument(parent, key) && !isResult(parent, key) && !isMethodHolder(parent, key);
      }
      case 'FunctionDeclaration':
        this.visitFunction(node, parent, key, null);
        return false;
      case 'ClassDeclaration':
        this.visitClass(node, parent, key, null);
        return false;
      case 'ChainExpression':
        // Calls and members inside the chain (not its top) may be skipped
        // by short-circuiting, so they cannot be wrapped on their own.
        for (let n: N = node.expression; n.type === 'CallExpression' || n.type === 'MemberExpression'; ) {
          if (n !== node.expression) this.chainInner.add(n);
          n = n.type === 'CallExpression' ? n.callee : n.object;
        }
        break;
    }
    return this.children(node, naming);
  }

  /** Visits the children; true when one reported a name-sensitive function (see `visit`). */
  private children(node: N, naming: string | null = null): boolean {
    const keys = CHILDREN[node.type] ?? Object.keys(node);
    let inferred = false;
    for (const k of keys) {
      const v = node[k];
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c) && this.visit(c, node, k, naming)) inferred = true;
      } else if (isNode(v) && this.visit(v, node, k, naming)) inferred = true;
    }
    return inferred;
  }

  private visitFunction(node: N, parent: N | null, key: string, naming: string | null): void {
    let name: string;
    let start = node.start;
    let end = node.end;
    if (isMethodHolder(parent, key)) {
      const holder = parent as N;
      start = holder.start;
      end = holder.end;
      if (holder.kind === 'constructor') name = this.classes.at(-1)?.name ?? '';
      else name = (holder.kind === 'get' || holder.kind === 'set' ? holder.kind + ' ' : '') + keyName(holder);
    } else {
      name = node.id?.name ?? (parent?.type === 'Property' ? positionName(parent, key) : null) ?? naming ?? '';
    }
    const saved = this.fn;
    this.fn = this.addFunction(name, start, end);
    this.children(node);
    this.fn = saved;
  }

  private visitClass(node: N, parent: N | null, key: string, naming: string | null): void {
    const name = node.id?.name ?? (parent?.type === 'Property' ? positionName(parent, key) : null) ?? naming ?? '';
    const ctx: ClassCtx = { name, node, instanceFn: -1, staticFn: -1 };
    if (node.superClass) this.visit(node.superClass, node, 'superClass');
    this.classes.push(ctx);
    for (const member of node.body.body as N[]) {
      if (member.type === 'StaticBlock' || (member.type === 'PropertyDefinition' && member.value)) {
        // Computed keys run at class definition time, in the outer function.
        if (member.type === 'PropertyDefinition') this.visit(member.key, member, 'key');
        // V8 runs field initialisers and static blocks in synthetic functions.
        const isStatic = member.type === 'StaticBlock' || member.static;
        if (isStatic && ctx.staticFn < 0) ctx.staticFn = this.addFunction('<static_initializer>', node.start, node.end);
        if (!isStatic && ctx.instanceFn < 0) {
          ctx.instanceFn = this.addFunction('<instance_members_initializer>', node.start, node.end);
        }
        const saved = this.fn;
        this.fn = isStatic ? ctx.staticFn : ctx.instanceFn;
        if (member.type === 'StaticBlock') this.children(member);
        else this.visit(member.value, member, 'value');
        this.fn = saved;
      } else {
        this.visit(member, node.body, 'body');
      }
    }
    this.classes.pop();
  }
}

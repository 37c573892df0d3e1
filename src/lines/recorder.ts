/**
 * The runtime half of line mode: instrumented modules call their own hoisted
 * `__tm$(site, value)`
 * around each allocation expression. Most calls only decrement a counter;
 * about one in `interval` allocations is sampled: its callers are captured
 * and the object is registered, weakly, until it dies.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import vm from 'node:vm';
import type { LineFunction, LineSite } from './transform/index.js';
import { WaitingKeys } from './waiting-keys.js';

/** `Symbol.for` key under which instrumented code finds the recorder. */
export const RECORDER_SYMBOL = Symbol.for('tracemalloc.lines');

/** An instrumented module, as its prologue registered it. */
export interface LineFile {
  /** URL or path the module runs under (what stack traces show). */
  readonly url: string;
  /** Source map from the instrumented code to the original source (JSON text). */
  readonly map: string;
  /** Sites and enclosing functions, parsed on first use. */
  table(): { sites: LineSite[]; functions: LineFunction[] };
}

/** A caller's frame as a stack trace shows it: generated position, 1-based. */
export interface CallerFrame {
  functionName: string;
  url: string;
  line: number;
  column: number;
}

/** A sampled allocation. */
export interface LineSample {
  readonly file: LineFile;
  readonly site: number;
  /**
   * Elements of an array, or entries of a Map or Set, when it was sampled
   * (0 for anything else): its backing store counts at the allocating line
   * only up to that size, since growth reallocates the store elsewhere.
   */
  readonly initialLength: number;
  /** Callers of the allocating function, innermost first, at generated positions. */
  readonly callers: readonly CallerFrame[];
  /**
   * A string sample: the first key operation that took a string like it (a
   * Map or Set method, a property store), as a sample of that key site.
   * Where the live string is in V8's string table, that operation made it
   * (V8 copies a new key there), not `site`.
   */
  readonly key?: LineSample;
}

type SlowCall = <T>(site: number, value: T, from: (...args: never[]) => unknown) => T;

/**
 * What a module's wrappers hold: `c[0]`, the countdown shared by all
 * modules, which the allocation wrapper decrements, and `s`, which it calls
 * when that reaches zero; `m`, string samples waiting for a key operation by
 * length, and `k`, which the key wrapper calls for a string of such a
 * length. A class, so that its shape is never shared with the program's objects.
 */
export class ModuleHandle {
  constructor(
    readonly c: Float64Array,
    readonly s: SlowCall,
    readonly m: Uint32Array,
    readonly k: SlowCall,
  ) {}
}

/** What instrumented code sees under {@link RECORDER_SYMBOL}. */
export interface RecorderHandle {
  file(url: string, table: string, map: string): ModuleHandle;
}

/** Prefix of the tag strings that name samples in the heap (`tm<slot>`). */
export const SAMPLE_TAG_PREFIX = 'tm';

/**
 * Registers every sampled object with its tag string. A heap snapshot shows
 * each registration as a cell with a weak `target` edge to the object and an
 * edge to the tag: that is how line mode finds the samples still alive and
 * sizes them, and the registry's cleanup frees the slots of dead ones. (A
 * WeakRef per sample would be simpler, but V8 spends about 30 µs per WeakRef
 * writing a snapshot.)
 */
export class TracemallocLineProbe {
  readonly registry: FinalizationRegistry<string>;
  constructor(free: (tag: string) => void) {
    this.registry = new FinalizationRegistry<string>(free);
  }
}

type CallSite = NodeJS.CallSite;

/**
 * Strings this long or longer are not sampled: V8's heap snapshots cut a
 * string's name at 1,024 characters, so a longer one could not be told from
 * others with the same start (and reading it costs its length).
 */
export const MAX_SAMPLED_STRING = 1023;
/** String samples kept between snapshots at most (20 bytes each); later ones are dropped. */
const MAX_PENDING_STRINGS = 1 << 20;

/** A sampled string, by content: what a heap snapshot is searched for. */
export interface StringFingerprint {
  slot: number;
  length: number;
  hash: number;
}

/** FNV-1a over UTF-16 code units: the same on a sampled string and on a heap snapshot's name for it. */
export function stringHash(s: string, length = s.length): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * {@link stringHash} of a string in the program. Reading a concatenated
 * string's characters flattens it (a new flat copy in its place); reading
 * them through a new string flattens only that one.
 */
function contentHash(value: string): number {
  return stringHash(value.length < 13 ? value : value + '\0', value.length);
}

/** Samples in parallel arrays by slot: no object per sample besides V8's own cell. */
class Recorder {
  /** Mean allocations between samples; Infinity while not tracing. */
  interval = Infinity;
  /** Frames captured per sample (the caller chain). */
  depth = 1;
  readonly files: LineFile[] = [];
  probe = this.newProbe();
  private fileOf = new Int32Array(1024);
  private siteOf = new Int32Array(1024);
  private stackOf = new Int32Array(1024);
  private lengthOf = new Int32Array(1024);
  /** String samples: length (0 for objects) and content hash. */
  private textLengthOf = new Int32Array(1024);
  private hashOf = new Int32Array(1024);
  /** Slots of string samples not yet looked for in a heap snapshot, or found live in the last one. */
  private strings: number[] = [];
  /** A string sample's first key operation, as a sample slot's site, file and callers (-1: none yet). */
  private keySiteOf = new Int32Array(1024).fill(-1);
  private keyFileOf = new Int32Array(1024);
  private keyStackOf = new Int32Array(1024);
  /** String samples taken since the last heap snapshot and not yet seen at a key operation. */
  readonly keyWaiting = new WaitingKeys(MAX_SAMPLED_STRING);
  private used = 0;
  private free: number[] = [];
  private readonly stacks: CallerFrame[][] = [[]];
  private readonly stackIds = new Map<string, number>([['', 0]]);
  /** Live slots (registered and not yet finalized). */
  live = 0;

  private newProbe(): TracemallocLineProbe {
    // Finalizers of an older generation must not free the slots of this one.
    const probe: TracemallocLineProbe = new TracemallocLineProbe((tag) => {
      if (this.probe === probe) this.release(tag);
    });
    return probe;
  }

  reset(): void {
    this.probe = this.newProbe();
    this.used = 0;
    this.free = [];
    this.live = 0;
    this.strings = [];
    this.keyWaiting.clear();
  }

  /** Add an instrumented module; returns its index, which samples store. */
  register(url: string, tableJson: string, map: string): number {
    let parsed: { sites: LineSite[]; functions: LineFunction[] } | null = null;
    const file: LineFile = {
      url,
      map,
      table: () => (parsed ??= JSON.parse(tableJson) as { sites: LineSite[]; functions: LineFunction[] }),
    };
    return this.files.push(file) - 1;
  }

  /** Record one allocation chosen by the countdown. `from` is the instrumented call to hide. */
  sample(file: number, site: number, value: unknown, from: (...args: never[]) => unknown): void {
    if (typeof value === 'string') return this.sampleString(file, site, value, from);
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
    const slot = this.newSlot(file, site, from);
    this.lengthOf[slot] = initialLength(value);
    this.live++;
    this.probe.registry.register(value as object, SAMPLE_TAG_PREFIX + slot);
  }

  /**
   * A string cannot be held weakly: its length and content hash are kept
   * instead, and the next heap snapshot looks for a live string like it.
   */
  private sampleString(file: number, site: number, value: string, from: (...args: never[]) => unknown): void {
    const length = value.length;
    if (length === 0 || length > MAX_SAMPLED_STRING || this.strings.length >= MAX_PENDING_STRINGS) return;
    const hash = contentHash(value);
    const slot = this.newSlot(file, site, from);
    this.lengthOf[slot] = 0;
    this.textLengthOf[slot] = length;
    this.hashOf[slot] = hash;
    this.strings.push(slot);
    this.keyWaiting.add(slot, length, hash);
  }

  /**
   * A key operation (a Map or Set method, a property store) took `value`, and
   * a string sample of its length waits for one: a sample with its content
   * gets this key site. Only the first counts: that is where V8
   * copies a new string into its string table.
   */
  key(file: number, site: number, value: string, from: (...args: never[]) => unknown): void {
    const slot = this.keyWaiting.take(value.length, contentHash(value));
    if (slot < 0) return;
    this.keySiteOf[slot] = site;
    this.keyFileOf[slot] = file;
    this.keyStackOf[slot] = this.callers(from);
  }

  /** String samples to look for in a heap snapshot. */
  stringSamples(): StringFingerprint[] {
    return this.strings.map((slot) => ({ slot, length: this.textLengthOf[slot], hash: this.hashOf[slot] }));
  }

  /** After a heap snapshot: the string samples it showed live stay, the others are freed. */
  keepStrings(live: ReadonlySet<number>): void {
    // A string that lives through a snapshot is old by the time a later key operation takes it, and V8 internalizes old strings in place.
    this.keyWaiting.clear();
    const kept: number[] = [];
    for (const slot of this.strings) {
      if (live.has(slot)) kept.push(slot);
      else {
        this.textLengthOf[slot] = 0;
        this.free.push(slot);
      }
    }
    this.strings = kept;
  }

  /** String samples held (found live, or taken since the last snapshot). */
  get stringCount(): number {
    return this.strings.length;
  }

  /** A free slot for a sample of `site`, its callers captured, no key operation yet. */
  private newSlot(file: number, site: number, from: (...args: never[]) => unknown): number {
    const slot = this.free.length > 0 ? this.free.pop()! : this.grow();
    this.fileOf[slot] = file;
    this.siteOf[slot] = site;
    this.stackOf[slot] = this.callers(from);
    this.keySiteOf[slot] = -1;
    return slot;
  }

  private grow(): number {
    if (this.used === this.fileOf.length) {
      const n = this.used * 2;
      for (const key of ['fileOf', 'siteOf', 'stackOf', 'lengthOf', 'textLengthOf', 'hashOf', 'keySiteOf', 'keyFileOf', 'keyStackOf'] as const) {
        const next = new Int32Array(n);
        next.set(this[key]);
        this[key] = next;
      }
    }
    return this.used++;
  }

  private release(tag: string): void {
    const slot = Number(tag.slice(SAMPLE_TAG_PREFIX.length));
    if (!Number.isInteger(slot) || slot >= this.used) return;
    this.free.push(slot);
    this.live--;
  }

  /** The sample in `slot`, named by a tag found in a heap snapshot. */
  at(slot: number): LineSample | null {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.used) return null;
    const file = this.files[this.fileOf[slot]];
    if (!file) return null;
    const keyFile = this.keySiteOf[slot] >= 0 ? this.files[this.keyFileOf[slot]] : undefined;
    const key = keyFile ? { file: keyFile, site: this.keySiteOf[slot], callers: this.stacks[this.keyStackOf[slot]], initialLength: 0 } : undefined;
    return { file, site: this.siteOf[slot], callers: this.stacks[this.stackOf[slot]], initialLength: this.lengthOf[slot], ...(key ? { key } : {}) };
  }

  /** Interned caller chain (id into `stacks`); 0 = none captured. */
  private callers(from: (...args: never[]) => unknown): number {
    if (this.depth <= 1) return 0;
    const holder: { stack?: unknown } = {};
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    let sites: CallSite[] | undefined;
    try {
      Error.prepareStackTrace = (_error, s) => s;
      // +1: the allocating frame itself comes from the site table.
      Error.stackTraceLimit = this.depth + 1;
      Error.captureStackTrace(holder, from);
      sites = holder.stack as CallSite[] | undefined;
    } catch {
      return 0;
    } finally {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    }
    if (!Array.isArray(sites)) return 0;
    const frames: CallerFrame[] = [];
    let key = '';
    for (let i = 1; i < sites.length; i++) {
      const s = sites[i];
      const frame = {
        functionName: s.getFunctionName() ?? '',
        url: s.getFileName() ?? '',
        line: s.getLineNumber() ?? 0,
        column: s.getColumnNumber() ?? 0,
      };
      frames.push(frame);
      key += `${frame.url}\0${frame.line}\0${frame.column}\0${frame.functionName}\n`;
    }
    let id = this.stackIds.get(key);
    if (id === undefined) {
      id = this.stacks.push(frames) - 1;
      this.stackIds.set(key, id);
    }
    return id;
  }
}

// Read without running program code: no getter, no proxy trap (Array.isArray and
// util.types look at the object itself; the size getters are the built-ins').
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')!.get!;
const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size')!.get!;
const arrayLength = (a: unknown[]): number => Reflect.getOwnPropertyDescriptor(a, 'length')?.value as number;

function initialLength(value: object): number {
  if (types.isProxy(value)) return 0;
  if (Array.isArray(value)) return Math.min(arrayLength(value) ?? 0, 2 ** 31 - 1);
  if (types.isMap(value)) return Reflect.apply(mapSize, value, []) as number;
  if (types.isSet(value)) return Reflect.apply(setSize, value, []) as number;
  return 0;
}

const recorder = new Recorder();
// Shared by every instrumented module: allocations left until the next sample.
// A typed array, not `{ n }`: a double field in a plain object would turn the
// same field of the program's own `{ n }` objects into boxed numbers (V8
// shares the shapes of object literals), which doubled their heap objects.
const countdown = new Float64Array([Infinity]);

function nextCountdown(): number {
  const mean = recorder.interval;
  if (mean === Infinity) return Infinity;
  if (mean <= 1) return 1;
  // Geometric gaps: each allocation is sampled independently with p = 1/mean.
  return Math.floor(Math.log(1 - Math.random()) / Math.log(1 - 1 / mean)) + 1;
}

type Slow = (file: number, site: number, value: unknown, from: (...args: never[]) => unknown) => void;

function sampleSafely(file: number, site: number, value: unknown, from: (...args: never[]) => unknown): void {
  try {
    recorder.sample(file, site, value, from);
  } catch {
    // Never let the profiler break the allocation it observes.
  }
}

function keySafely(file: number, site: number, value: unknown, from: (...args: never[]) => unknown): void {
  try {
    if (typeof value === 'string') recorder.key(file, site, value, from);
  } catch {
    // Nor the key operation.
  }
}

/**
 * The slow path, entered through a function of another V8 context: V8 does
 * not inline across contexts, so the bookkeeping's own allocations are seen
 * under tracemalloc's frames (and dropped), never under the user's function
 * that the fast path was inlined into.
 */
function makeSlowPath(name: string, slow: Slow): Slow {
  const filename = fileURLToPath(new URL('./recorder-slow-path.vm.js', import.meta.url));
  const wrap = vm.runInNewContext(`(slow) => function ${name}(f, s, v, a) { slow(f, s, v, a); }`, {}, { filename });
  return (wrap as (slow: Slow) => Slow)(slow);
}

let slowPath: Slow | null = null;
let keyPath: Slow | null = null;

const handle: RecorderHandle = {
  file(url: string, table: string, map: string) {
    const file = recorder.register(String(url), String(table), String(map));
    const slow = (slowPath ??= makeSlowPath('tracemallocSample', sampleSafely));
    const keySlow = (keyPath ??= makeSlowPath('tracemallocKey', keySafely));
    // Reached when the shared countdown runs out; `from` is the module's wrapper, hidden from captured stacks.
    const s = <T>(site: number, value: T, from: (...args: never[]) => unknown): T => {
      countdown[0] = nextCountdown();
      slow(file, site, value, from);
      return value;
    };
    const k = <T>(site: number, value: T, from: (...args: never[]) => unknown): T => {
      keySlow(file, site, value, from);
      return value;
    };
    return new ModuleHandle(countdown, s, recorder.keyWaiting.lengths, k);
  },
};

/**
 * Install the recorder where instrumented modules look for it. Idempotent;
 * it records nothing until {@link startLineRecording}.
 */
export function installRecorder(): void {
  const g = globalThis as Record<symbol, unknown>;
  if (g[RECORDER_SYMBOL] === undefined) {
    Object.defineProperty(g, RECORDER_SYMBOL, { value: handle, configurable: true, enumerable: false, writable: false });
  }
}

/** Start sampling one in `interval` allocations (on average), capturing `depth` frames each. */
export function startLineRecording(interval: number, depth: number): void {
  recorder.interval = interval;
  recorder.depth = depth;
  recorder.reset();
  countdown[0] = nextCountdown();
}

/** Stop sampling and forget the samples. */
export function stopLineRecording(): void {
  recorder.interval = Infinity;
  countdown[0] = Infinity;
  recorder.reset();
}

/** Change the frames captured by later samples. */
export function setLineDepth(depth: number): void {
  recorder.depth = depth;
}

/** The modules instrumented so far. */
export function lineFiles(): readonly LineFile[] {
  return recorder.files;
}

/** The sample in a slot named by a heap snapshot tag, or null. */
export function lineSampleAt(slot: number): LineSample | null {
  return recorder.at(slot);
}

/** Samples registered and not yet known dead, objects and strings. */
export function liveLineSampleCount(): number {
  return recorder.live + recorder.stringCount;
}

/** String samples to look for in a heap snapshot. */
export function lineStringSamples(): StringFingerprint[] {
  return recorder.stringSamples();
}

/** Keep the string samples a heap snapshot showed live; forget the others. */
export function keepLineStringSamples(live: ReadonlySet<number>): void {
  recorder.keepStrings(live);
}

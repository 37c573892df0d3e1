/**
 * Sampling of off-heap allocations: the backing stores of Buffers,
 * ArrayBuffers and typed arrays, which V8's sampling heap profiler does not
 * see (it samples only the ~100-byte JavaScript wrapper).
 *
 * While installed, the JavaScript entry points that allocate a backing store
 * are wrapped: `Buffer.alloc`, `allocUnsafe`, `allocUnsafeSlow`, `from` and
 * `concat` (properties of the `Buffer` function, so Node's own modules that
 * call them are seen too), and the `ArrayBuffer`, `SharedArrayBuffer` and
 * typed array constructors (each global replaced by a Proxy of the original,
 * whose prototype's `constructor` points at the Proxy while installed, so
 * `x.constructor === Uint8Array` and `instanceof` still hold). Each
 * allocation of `s` off-heap bytes is sampled with probability
 * `1 - exp(-s / interval)`, as V8 samples heap bytes (a countdown of
 * exponentially distributed bytes), and a sampled one is followed weakly
 * (FinalizationRegistry) until the object returned dies.
 *
 * @module
 */
import { isAnyArrayBuffer } from 'node:util/types';

/** A stack frame of a sampled allocation, innermost first; line and column of the enclosing function's start, 1-based. */
export interface OffHeapFrame {
  readonly functionName: string;
  readonly url: string;
  readonly line: number;
  readonly column: number;
}

/**
 * One live sample: `size` off-heap bytes allocated at `stack`. A class: a
 * literal `{ size }` holding a double would box the `size` field of the
 * program's own literals (V8 shares literal shapes; test/host-shapes).
 */
export class OffHeapSample {
  constructor(
    readonly size: number,
    readonly stack: readonly OffHeapFrame[],
    /** Numbers samples in the order they were taken (a timeline tells them apart across reads). */
    readonly serial: number,
  ) {}
}

// V8 keeps typed arrays of up to this many bytes on the heap (V8's typed_array_max_size_in_heap).
const MAX_ON_HEAP_TYPED_ARRAY = 64;

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/** How an entry point's result holds off-heap bytes. */
const enum Kind {
  /** A fresh typed array or Buffer: off-heap above 64 bytes. */
  View,
  /** A Buffer that may be a slice of the shared pool: its own bytes are off-heap, whatever its size. */
  Pooled,
  /** An ArrayBuffer or SharedArrayBuffer: always off-heap. */
  Buffer,
}

type CallSite = NodeJS.CallSite;

/** Samples by slot in parallel arrays; a class so its double fields never share a program literal's shape. */
class Store {
  size = new Float64Array(256);
  stack = new Int32Array(256);
  serial = new Float64Array(256);
  taken = 0;
  used = 0;
  free: number[] = [];
  live = 0;
  readonly stacks: OffHeapFrame[][] = [];
  readonly stackIds = new Map<string, number>();

  slot(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.used === this.size.length) {
      const size = new Float64Array(this.used * 2);
      size.set(this.size);
      this.size = size;
      const stack = new Int32Array(this.used * 2);
      stack.set(this.stack);
      this.stack = stack;
      const serial = new Float64Array(this.used * 2);
      serial.set(this.serial);
      this.serial = serial;
    }
    return this.used++;
  }
}

/** A generation of samples: `clear()` starts a new one, whose finalizers cannot free the older one's slots. */
class Generation {
  readonly store = new Store();
  readonly registry: FinalizationRegistry<number>;
  constructor() {
    this.registry = new FinalizationRegistry<number>((slot) => {
      if (this.store.size[slot] === 0) return;
      this.store.size[slot] = 0;
      this.store.free.push(slot);
      this.store.live--;
    });
  }
}

interface Patch {
  restore(): void;
}

/**
 * The off-heap sampler. One per process at a time (it patches globals);
 * `stop()` puts every original back.
 */
export class OffHeapSampler {
  private generation = new Generation();
  // Bytes left before the next sample, in a typed array: a double in a plain field would be boxed on every write.
  private readonly countdown = new Float64Array(1);
  // Wrapped calls in progress: Buffer.concat calls Buffer.allocUnsafe, which must not count again.
  private depth = 0;
  private readonly patches: Patch[] = [];
  private stackDepth: number;

  /**
   * @param interval - mean off-heap bytes between samples
   * @param stackDepth - frames captured per sample
   */
  constructor(
    readonly interval: number,
    stackDepth: number,
  ) {
    this.stackDepth = stackDepth;
    this.countdown[0] = this.nextGap();
    const observe = (value: unknown, kind: Kind, from: Function) => this.observe(value, kind, from);
    const enter = () => this.depth++;
    const leave = () => this.depth--;
    const B = Buffer as unknown as Record<string, unknown>;
    for (const [name, kind] of [
      ['alloc', Kind.View],
      ['allocUnsafeSlow', Kind.View],
      ['allocUnsafe', Kind.Pooled],
      ['from', Kind.Pooled],
      ['concat', Kind.Pooled],
    ] as const) {
      this.patches.push(wrapMethod(B, name, kind, observe, enter, leave));
    }
    const g = globalThis as Record<string, unknown>;
    for (const name of ['ArrayBuffer', 'SharedArrayBuffer'] as const) {
      const patch = wrapConstructor(g, name, Kind.Buffer, observe, enter, leave);
      if (patch) this.patches.push(patch);
    }
    for (const name of TYPED_ARRAYS) {
      const patch = wrapConstructor(g, name, Kind.View, observe, enter, leave);
      if (patch) this.patches.push(patch);
    }
  }

  /** Change the frames captured by later samples. */
  setStackDepth(depth: number): void {
    this.stackDepth = depth;
  }

  /** Put every patched function back. Idempotent. */
  stop(): void {
    for (let i = this.patches.length - 1; i >= 0; i--) this.patches[i].restore();
    this.patches.length = 0;
    this.generation = new Generation();
  }

  /** Forget every sample so far. */
  clear(): void {
    this.generation = new Generation();
  }

  /** Samples whose objects are still alive (or whose finalizers have not run yet). */
  samples(): OffHeapSample[] {
    const { store } = this.generation;
    const out: OffHeapSample[] = [];
    for (let slot = 0; slot < store.used; slot++) {
      const size = store.size[slot];
      if (size > 0) out.push(new OffHeapSample(size, store.stacks[store.stack[slot]], store.serial[slot]));
    }
    return out;
  }

  /** Live samples held. */
  get liveSamples(): number {
    return this.generation.store.live;
  }

  private nextGap(): number {
    return -Math.log(1 - Math.random()) * this.interval;
  }

  private observe(value: unknown, kind: Kind, from: Function): void {
    if (this.depth !== 0 || value === null || typeof value !== 'object') return;
    const bytes = offHeapBytes(value, kind);
    if (bytes <= 0) return;
    const left = this.countdown[0] - bytes;
    if (left > 0) {
      this.countdown[0] = left;
      return;
    }
    // Memoryless gaps: an allocation of s bytes is sampled with probability 1 - exp(-s / interval).
    this.countdown[0] = this.nextGap();
    try {
      this.record(value, bytes, from);
    } catch {
      // Never let the profiler break the allocation it observes.
    }
  }

  private record(value: object, bytes: number, from: Function): void {
    const stack = this.capture(from);
    const { store, registry } = this.generation;
    const slot = store.slot();
    store.size[slot] = bytes;
    store.stack[slot] = stack;
    store.serial[slot] = ++store.taken;
    store.live++;
    registry.register(value, slot);
  }

  private capture(from: Function): number {
    const holder: { stack?: unknown } = {};
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    let sites: unknown;
    try {
      Error.prepareStackTrace = (_error, s) => s;
      Error.stackTraceLimit = this.stackDepth;
      Error.captureStackTrace(holder, from);
      sites = holder.stack;
    } finally {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    }
    const store = this.generation.store;
    const frames: OffHeapFrame[] = [];
    let key = '';
    if (Array.isArray(sites)) {
      for (const s of sites as CallSite[]) {
        const frame: OffHeapFrame = {
          functionName: s.getFunctionName() ?? '',
          url: s.getFileName() ?? s.getScriptNameOrSourceURL() ?? '',
          line: s.getEnclosingLineNumber() ?? 0,
          column: s.getEnclosingColumnNumber() ?? 0,
        };
        frames.push(frame);
        key += `${frame.url}\0${frame.line}\0${frame.column}\0${frame.functionName}\n`;
      }
    }
    let id = store.stackIds.get(key);
    if (id === undefined) {
      id = store.stacks.push(frames) - 1;
      store.stackIds.set(key, id);
    }
    return id;
  }
}

/** Off-heap bytes that `value`, the result of an entry point of `kind`, allocated; 0 for none. */
function offHeapBytes(value: object, kind: Kind): number {
  if (kind === Kind.Buffer) return (value as ArrayBuffer).byteLength;
  if (!ArrayBuffer.isView(value)) return 0;
  const bytes = value.byteLength;
  return kind === Kind.Pooled || bytes > MAX_ON_HEAP_TYPED_ARRAY ? bytes : 0;
}

/** True when `args` make a view of memory that already exists (any realm's ArrayBuffer) instead of allocating. */
function wrapsExisting(args: readonly unknown[]): boolean {
  return isAnyArrayBuffer(args[0]);
}

type Observe = (value: unknown, kind: Kind, from: Function) => void;

/** Replace `owner[name]` with a function of the same name and length that observes each result. */
function wrapMethod(owner: Record<string, unknown>, name: string, kind: Kind, observe: Observe, enter: () => void, leave: () => void): Patch {
  const original = owner[name] as (...args: unknown[]) => unknown;
  const descriptor = Object.getOwnPropertyDescriptor(owner, name)!;
  // Buffer.from(arrayBuffer) makes a view of memory that already exists.
  const viewsExisting = name === 'from';
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    enter();
    let result: unknown;
    try {
      result = Reflect.apply(original, this, args);
    } finally {
      leave();
    }
    if (!(viewsExisting && wrapsExisting(args))) observe(result, kind, wrapper);
    return result;
  };
  Object.defineProperty(wrapper, 'name', { value: original.name });
  Object.defineProperty(wrapper, 'length', { value: original.length });
  Object.defineProperty(owner, name, { ...descriptor, value: wrapper });
  return {
    restore() {
      if (owner[name] === wrapper) Object.defineProperty(owner, name, descriptor);
    },
  };
}

/**
 * Replace the global constructor `name` with a Proxy of it that observes
 * each instance, and point its prototype's `constructor` at the Proxy.
 * Subclasses (`class X extends Uint8Array`) construct through the Proxy too.
 */
function wrapConstructor(global: Record<string, unknown>, name: string, kind: Kind, observe: Observe, enter: () => void, leave: () => void): Patch | null {
  const descriptor = Object.getOwnPropertyDescriptor(global, name);
  const original = descriptor?.value as (new (...args: unknown[]) => object) | undefined;
  if (typeof original !== 'function') return null;
  const proto = original.prototype as Record<string, unknown>;
  const protoDescriptor = Object.getOwnPropertyDescriptor(proto, 'constructor');
  // A named trap, so that captured stacks can start below it.
  const construct = (target: typeof original, args: unknown[], newTarget: Function): object => {
    enter();
    let result: object;
    try {
      result = Reflect.construct(target, args, newTarget === proxy ? target : newTarget) as object;
    } finally {
      leave();
    }
    if (kind === Kind.Buffer || !wrapsExisting(args)) observe(result, kind, construct);
    return result;
  };
  const proxy: typeof original = new Proxy(original, { construct });
  Object.defineProperty(global, name, { ...descriptor, value: proxy });
  if (protoDescriptor) Object.defineProperty(proto, 'constructor', { ...protoDescriptor, value: proxy });
  return {
    restore() {
      if (global[name] === proxy) Object.defineProperty(global, name, descriptor!);
      if (protoDescriptor && proto.constructor === proxy) Object.defineProperty(proto, 'constructor', protoDescriptor);
    },
  };
}

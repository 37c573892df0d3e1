/**
 * The runtime half of line mode: instrumented modules call `a(site, value)`
 * around each allocation expression. Most calls only decrement a counter;
 * about one in `interval` allocations is sampled: its stack is captured and
 * the object is followed with a weak reference until it dies.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { RawFrame } from '../tracer/frames.js';
import type { LineFunction, LineSite } from './transform.js';

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

/** A sampled allocation that may still be alive. */
export interface LineSample {
  readonly file: LineFile;
  readonly site: number;
  /** Callers of the allocating function, innermost first, at generated positions. */
  readonly callers: RawFrame[];
  readonly ref: WeakRef<object>;
}

/** What instrumented code sees under {@link RECORDER_SYMBOL}. */
export interface RecorderHandle {
  file(url: string, table: string, map: string): { a<T>(site: number, value: T): T };
}

type CallSite = NodeJS.CallSite;

class Recorder {
  /** Mean allocations between samples; Infinity while not tracing. */
  interval = Infinity;
  /** Frames captured per sample (the caller chain). */
  depth = 1;
  readonly files: LineFile[] = [];
  readonly samples = new Map<number, LineSample>();
  private nextId = 1;
  // Cleanup keeps the bookkeeping proportional to live samples.
  private readonly registry = new FinalizationRegistry<number>((id) => this.samples.delete(id));
  private readonly sampled = new WeakSet<object>();

  register(url: string, tableJson: string, map: string): LineFile {
    let parsed: { sites: LineSite[]; functions: LineFunction[] } | null = null;
    const file: LineFile = {
      url,
      map,
      table: () => (parsed ??= JSON.parse(tableJson) as { sites: LineSite[]; functions: LineFunction[] }),
    };
    this.files.push(file);
    return file;
  }

  /** Record one allocation chosen by the countdown. `from` is the instrumented call to hide. */
  sample(file: LineFile, site: number, value: unknown, from: (...args: never[]) => unknown): void {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
    const object = value as object;
    // The same object passing two sites (a copy method returning its receiver) counts once.
    if (this.sampled.has(object)) return;
    this.sampled.add(object);
    const id = this.nextId++;
    this.samples.set(id, { file, site, callers: this.callers(from), ref: new WeakRef(object) });
    this.registry.register(object, id);
  }

  private callers(from: (...args: never[]) => unknown): RawFrame[] {
    if (this.depth <= 1) return [];
    const holder: { stack?: unknown } = {};
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    try {
      Error.prepareStackTrace = (_error, sites) => sites;
      // +1: the allocating frame itself comes from the site table.
      Error.stackTraceLimit = this.depth + 1;
      Error.captureStackTrace(holder, from);
      const sites = holder.stack as CallSite[] | undefined;
      if (!Array.isArray(sites)) return [];
      const frames: RawFrame[] = [];
      for (let i = 1; i < sites.length; i++) {
        const s = sites[i];
        frames.push({
          functionName: s.getFunctionName() ?? '',
          url: s.getFileName() ?? '',
          line: s.getLineNumber() ?? 0,
          column: s.getColumnNumber() ?? 0,
        });
      }
      return frames;
    } catch {
      return [];
    } finally {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    }
  }
}

const recorder = new Recorder();
// Shared by every instrumented module: allocations left until the next sample.
let countdown = Infinity;

function nextCountdown(): number {
  const mean = recorder.interval;
  if (mean === Infinity) return Infinity;
  if (mean <= 1) return 1;
  // Geometric gaps: each allocation is sampled independently with p = 1/mean.
  return Math.floor(Math.log(1 - Math.random()) / Math.log(1 - 1 / mean)) + 1;
}

type Slow = (file: LineFile, site: number, value: unknown, from: (...args: never[]) => unknown) => void;

function sampleSafely(file: LineFile, site: number, value: unknown, from: (...args: never[]) => unknown): void {
  try {
    recorder.sample(file, site, value, from);
  } catch {
    // Never let the profiler break the allocation it observes.
  }
}

/**
 * The slow path, entered through a function of another V8 context: V8 does
 * not inline across contexts, so the bookkeeping's own allocations are seen
 * under tracemalloc's frames (and dropped), never under the user's function
 * that the fast path was inlined into.
 */
function makeSlowPath(): Slow {
  const filename = fileURLToPath(new URL('./recorder-slow-path.vm.js', import.meta.url));
  const wrap = vm.runInNewContext('(slow) => function tracemallocSample(f, s, v, a) { slow(f, s, v, a); }', {}, { filename });
  return (wrap as (slow: Slow) => Slow)(sampleSafely);
}

let slowPath: Slow | null = null;

const handle: RecorderHandle = {
  file(url: string, table: string, map: string) {
    const file = recorder.register(String(url), String(table), String(map));
    const slow = (slowPath ??= makeSlowPath());
    const a = <T>(site: number, value: T): T => {
      if (--countdown > 0) return value;
      countdown = nextCountdown();
      slow(file, site, value, a);
      return value;
    };
    return { a };
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
  recorder.samples.clear();
  countdown = nextCountdown();
}

/** Stop sampling and forget the samples. */
export function stopLineRecording(): void {
  recorder.interval = Infinity;
  countdown = Infinity;
  recorder.samples.clear();
}

/** Change the frames captured by later samples. */
export function setLineDepth(depth: number): void {
  recorder.depth = depth;
}

/** The modules instrumented so far. */
export function lineFiles(): readonly LineFile[] {
  return recorder.files;
}

/** Samples whose objects are still alive (their weak references still hold). */
export function liveLineSamples(): Array<{ sample: LineSample; object: object }> {
  const out: Array<{ sample: LineSample; object: object }> = [];
  for (const [id, sample] of recorder.samples) {
    const object = sample.ref.deref();
    if (object === undefined) recorder.samples.delete(id);
    else out.push({ sample, object });
  }
  return out;
}

/** Mean allocations between samples, Infinity when not recording. */
export function lineInterval(): number {
  return recorder.interval;
}

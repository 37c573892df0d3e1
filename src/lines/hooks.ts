/**
 * Module customisation hooks of line mode: instrument the user's modules as
 * they load. The same `load` logic serves Node's in-thread hooks
 * (`module.registerHooks`, Node >= 22.15), its off-thread hooks
 * (`module.register`, this file is the hooks module then) and CommonJS's
 * `Module.prototype._compile` on Node 20.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import * as nodeModule from 'node:module';
import { sourceMapOf } from '../sourcemap/index.js';
import { PathFilter } from './glob.js';
import { instrument } from './transform/index.js';

/** Which files line mode instruments (globs; relative ones from `root`). */
export interface LineHookConfig {
  include: string[];
  exclude: string[];
  root: string;
}

/** A module's source as a load hook returns it. */
export interface Loaded {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView | null;
  [key: string]: unknown;
}

// tracemalloc's own files are never instrumented: it does not trace itself.
const OWN_ROOT = fileURLToPath(new URL('../', import.meta.url));
let filter: PathFilter | null = null;
const warned = new Set<string>();
// Every prologue names the recorder: code holding it is instrumented already.
const INSTRUMENTED_MARK = 'Symbol.for("tracemalloc.lines")';

/** Set the files to instrument (in the thread that runs the hooks). */
export function configure(config: LineHookConfig): void {
  filter = new PathFilter(config.include, config.exclude, config.root);
}

/** `module.register`'s entry point: receives the configuration. */
export function initialize(data: LineHookConfig): void {
  configure(data);
}

function warnOnce(file: string, reason: string): void {
  if (warned.has(file)) return;
  warned.add(file);
  process.stderr.write(`tracemalloc: lines: ${file} left uninstrumented: ${reason}\n`);
}

/** True when line mode should instrument the file at `path` (absolute). */
export function wants(path: string): boolean {
  return filter !== null && !path.startsWith(OWN_ROOT) && filter.matches(path);
}

function text(source: Loaded['source']): string | null {
  if (typeof source === 'string') return source;
  if (source == null) return null;
  const bytes = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
  return new TextDecoder().decode(bytes);
}

type Strip = (code: string, options: { mode: 'strip' }) => string;

/** Run `fn` without its process warnings (the stripper's "experimental" notice is ours, not the program's). */
function quietly<T>(fn: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * The instrumented code of a module, or null to keep it as it is. `url` is
 * what the module runs under (a file URL for ESM, a path for CommonJS).
 * `detect`: Node has not decided yet; it compiles the code as CommonJS
 * (under `path`) unless that fails on ESM syntax, so try in that order.
 */
export function instrumentModule(url: string, path: string, code: string, sourceType: 'module' | 'script' | 'detect', typescript: boolean): string | null {
  if (!wants(path) || code.includes(INSTRUMENTED_MARK)) return null;
  try {
    if (typescript) {
      // Type stripping keeps every position; instrument the JavaScript it leaves.
      const strip = (nodeModule as unknown as { stripTypeScriptTypes?: Strip }).stripTypeScriptTypes;
      if (!strip) return null;
      code = quietly(() => strip(code, { mode: 'strip' }));
    }
    const inputMap = typescript ? null : (sourceMapOf(code, path)?.text ?? null);
    if (sourceType === 'detect') {
      try {
        return instrument(code, { url: path, sourceType: 'script', inputMap }).code;
      } catch {
        return instrument(code, { url, sourceType: 'module', inputMap }).code;
      }
    }
    return instrument(code, { url, sourceType, inputMap }).code;
  } catch (err) {
    warnOnce(path, (err as Error).message.split('\n')[0]);
    return null;
  }
}

/** The load logic shared by both kinds of hooks, on a module `nextLoad` has loaded. */
export function transformLoaded(url: string, loaded: Loaded): Loaded {
  if (!url.startsWith('file:')) return loaded;
  // No format: require() of a .js file whose package.json names no "type";
  // Node decides when it compiles it, so the format stays unset.
  const format = loaded.format ?? 'detect';
  const typescript = format === 'module-typescript' || format === 'commonjs-typescript';
  const base = typescript ? format.slice(0, -'-typescript'.length) : format;
  if (base !== 'module' && base !== 'commonjs' && base !== 'detect') return loaded;
  const code = text(loaded.source);
  if (code === null) return loaded;
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    return loaded;
  }
  // CommonJS runs under its path; ESM under its URL (that is what stacks show).
  const sourceType = base === 'module' ? 'module' : base === 'detect' ? 'detect' : 'script';
  const out = instrumentModule(base === 'commonjs' ? path : url, path, code, sourceType, typescript);
  if (out === null) return loaded;
  return base === 'detect' ? { ...loaded, source: out } : { ...loaded, format: base, source: out };
}

type NextLoad = (url: string, context?: unknown) => Loaded | Promise<Loaded>;

/** Off-thread `load` hook (`module.register`). CommonJS is left to `_compile`. */
export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<Loaded> {
  const loaded = await nextLoad(url, context);
  // CommonJS goes through `_compile` on these Node versions, which instruments it there.
  if (loaded.format === 'commonjs' || loaded.format === 'commonjs-typescript') return loaded;
  return transformLoaded(url, loaded);
}

/** In-thread `load` hook (`module.registerHooks`): ESM and CommonJS alike. */
export function loadSync(url: string, context: unknown, nextLoad: NextLoad): Loaded {
  return transformLoaded(url, nextLoad(url, context) as Loaded);
}

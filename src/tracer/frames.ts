import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Frame, Traceback } from '../model/index.js';
import type { SourceMapResolver } from '../sourcemap/index.js';

/** A stack frame as V8 reports it, innermost first, lines and columns 1-based (0 = unknown). */
export interface RawFrame {
  functionName: string;
  url: string;
  line: number;
  column: number;
  /** The position is the allocating or calling line (line mode), not the function's start. */
  atLine?: boolean;
  /** The position is already in original source: do not source-map it again. */
  original?: boolean;
}

/** How raw V8 stacks become tracemalloc tracebacks. */
export interface FramePolicy {
  /** Most recent frames kept per traceback. */
  limit: number;
  /** Keep frames from Node's internals and from tracemalloc itself. */
  internalFrames: boolean;
  /** Report frames at their original (e.g. TypeScript) positions; null keeps generated ones. */
  sourceMaps: SourceMapResolver | null;
}

// dist/src/ of this package: frames below it are the tool's own.
const LIBRARY_ROOT = fileURLToPath(new URL('../', import.meta.url));
// Runtime dependencies that the tool calls (source maps): their allocations
// are the tool's when the tool called them.
const DEPENDENCY_ROOTS = [
  '@jridgewell/trace-mapping',
  '@jridgewell/sourcemap-codec',
  '@jridgewell/resolve-uri',
  // Line mode's instrumentation, which runs in the traced thread on most Node versions.
  'acorn',
]
  .map((name) => {
    try {
      const entry = fileURLToPath(import.meta.resolve(name));
      const at = entry.lastIndexOf(`${sep}node_modules${sep}`);
      return at === -1 ? null : entry.slice(0, at + 14) + name.split('/').join(sep) + sep;
    } catch {
      return null;
    }
  })
  .filter((root): root is string => root !== null);

/** A frame from Node's own JavaScript, from V8 builtins, or from a pseudo-frame like `(root)`. */
export function isInternalFrame(url: string): boolean {
  return url === '' || url.startsWith('node:') || url.startsWith('internal/');
}

/** Frames from tracemalloc's own code, which would otherwise blame the user's caller. */
export function isLibraryFrame(filename: string): boolean {
  return filename.startsWith(LIBRARY_ROOT);
}

function isDependencyFrame(filename: string): boolean {
  return DEPENDENCY_ROOTS.some((root) => filename.startsWith(root));
}

/** `file://` URLs become paths, as Python's frames hold file names. */
export function filenameOf(url: string): string {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  }
  return url;
}

/**
 * Where memory allocated with no JavaScript on the stack is reported: by
 * Node's C++ (a socket's chunk, a parser's strings), by V8 itself (the
 * compiler, the GC), or before any script ran. V8 names what it was doing
 * instead of a frame: `(V8 API)` is native code calling into V8, `(GC)`,
 * `(COMPILER)`, `(PARSER)`, `(EXTERNAL)`, `(IDLE)`; exact mode says `(root)`.
 */
export const NO_JS_STACK = '<no JavaScript stack>';
const VM_STATE = /^\([A-Za-z0-9 ]+\)$/;

/**
 * Turns raw stacks into tracebacks, interning frames and tracebacks so that
 * a snapshot with a million objects holds one object per distinct site.
 */
export class TracebackBuilder {
  private readonly frames = new Map<string, Frame>();
  private readonly tracebacks = new Map<string, Traceback>();

  constructor(private readonly policy: FramePolicy) {}

  /** Whether Node's and tracemalloc's own frames are kept (`FramePolicy.internalFrames`). */
  get internalFrames(): boolean {
    return this.policy.internalFrames;
  }

  /**
   * The traceback for a stack given innermost frame first, or null when the
   * allocation is tracemalloc's own (its innermost frame that is neither
   * Node's nor in one of the tool's dependencies is the tool's): the tool
   * does not trace itself, as Python's does not.
   */
  build(innermostFirst: readonly RawFrame[]): Traceback | null {
    const kept: Frame[] = [];
    let firstUser: boolean | null = null;
    let innermostInternal: RawFrame | null = null;
    for (const raw of innermostFirst) {
      const internal = isInternalFrame(raw.url);
      const filename = filenameOf(raw.url);
      const library = !internal && isLibraryFrame(filename);
      // WebAssembly (such as Node's TypeScript stripper) belongs to whoever called it.
      if (!internal && firstUser === null && !raw.url.startsWith('wasm://') && (library || !isDependencyFrame(filename))) firstUser = !library;
      if (firstUser === false && !this.policy.internalFrames) return null;
      if ((internal || library) && !this.policy.internalFrames) {
        if (internal && innermostInternal === null && raw.url !== '') innermostInternal = raw;
        continue;
      }
      kept.push(this.frame(filename, raw));
    }
    // Memory allocated only by Node's internals stays visible at its innermost internal frame.
    if (kept.length === 0 && innermostInternal) kept.push(this.frame(innermostInternal.url, innermostInternal));
    if (kept.length === 0) kept.push(this.noJsStack(innermostFirst[0]));
    const total = kept.length;
    const limited = kept.slice(0, this.policy.limit).reverse();
    const key = `${total}|${limited.map((f) => this.keyOf(f)).join('\n')}`;
    let traceback = this.tracebacks.get(key);
    if (!traceback) {
      traceback = new Traceback(limited, total);
      this.tracebacks.set(key, traceback);
    }
    return traceback;
  }

  private frame(filename: string, raw: RawFrame): Frame {
    const key = `${filename}\0${raw.line}\0${raw.column}\0${raw.functionName}\0${raw.atLine ? 1 : 0}${raw.original ? 1 : 0}`;
    let frame = this.frames.get(key);
    if (!frame) {
      const original = raw.original ? null : this.policy.sourceMaps?.map(filename, raw.line, raw.column);
      const atLine = raw.atLine === true;
      frame = original
        ? new Frame(original.filename, original.line, original.column, raw.functionName, atLine)
        : new Frame(filename, raw.line, raw.column, raw.functionName, atLine);
      this.frames.set(key, frame);
    }
    return frame;
  }

  private noJsStack(raw: RawFrame | undefined): Frame {
    const state = raw && raw.url === '' && VM_STATE.test(raw.functionName) && raw.functionName !== '(root)' ? raw.functionName : '';
    return this.frame(NO_JS_STACK, { functionName: state, url: NO_JS_STACK, line: 0, column: 0, original: true });
  }

  private keyOf(frame: Frame): string {
    return `${frame.filename}\0${frame.lineno}\0${frame.column}\0${frame.functionName}\0${frame.atLine ? 1 : 0}`;
  }
}


/**
 * `Traceback`: the frames of an allocation, oldest first (Python 3.7+ order).
 *
 * @module
 */
import { Frame } from './frame.js';
import { getSourceLine } from './source-lines.js';

/** Options of {@link Traceback.format}. */
export interface FormatOptions {
  /**
   * Positive: format the `limit` most recent frames. Negative: the
   * `|limit|` oldest frames. Zero: none. Omitted or null: all frames.
   */
  limit?: number | null;
  /** Print the most recent frame first instead of last. Default false. */
  mostRecentFirst?: boolean;
}

/**
 * A sequence of frames, OLDEST FIRST like Python 3.7+: `traceback.at(0)` is
 * the outermost caller, `traceback.at(-1)` the frame that allocated.
 *
 * A traceback holds at most the traceback limit of frames (the most recent
 * ones); `totalFrames` tells how many there were before truncation.
 * Equality and ordering follow Python: the tuple of frames compared by
 * `(filename, lineno)`, oldest first.
 */
export class Traceback implements Iterable<Frame> {
  /** The frames, oldest first. */
  readonly frames: readonly Frame[];
  /**
   * Frames in the stack before it was truncated to the traceback limit;
   * undefined when unknown (as Python's `total_nframe` None).
   */
  readonly totalFrames: number | undefined;
  #key: string | undefined;

  /**
   * @param frames - frames, OLDEST FIRST; at least one (V8 stacks without a
   *   frame are recorded as a single `<unknown>:0` frame, as Python does)
   * @param totalFrames - frames before truncation, when known
   */
  constructor(frames: Iterable<Frame>, totalFrames?: number) {
    const list = Object.freeze([...frames]);
    if (list.length === 0) throw new RangeError('a Traceback needs at least one frame (use <unknown>:0 for an unknown stack)');
    for (const frame of list) {
      if (!(frame instanceof Frame)) throw new TypeError('Traceback frames must be Frame instances');
    }
    if (totalFrames !== undefined && (!Number.isInteger(totalFrames) || totalFrames < list.length)) {
      throw new RangeError(`Traceback totalFrames must be an integer >= ${list.length} (the frames kept), not ${String(totalFrames)}`);
    }
    this.frames = list;
    this.totalFrames = totalFrames;
    // Private fields (the cached key) stay writable on a frozen object.
    Object.freeze(this);
  }

  /** Number of frames kept (at most the traceback limit). */
  get length(): number {
    return this.frames.length;
  }

  /** Frame `index`, oldest first; negative indexes count from the most recent. */
  at(index: number): Frame | undefined {
    return this.frames.at(index);
  }

  /** The most recent frame: where the allocation happened (Python's raw `traceback[0]`). */
  get mostRecent(): Frame {
    return this.frames[this.frames.length - 1];
  }

  /** Iterate over the frames, oldest first. */
  [Symbol.iterator](): Iterator<Frame> {
    return this.frames[Symbol.iterator]();
  }

  /**
   * Grouping key: equal for tracebacks Python considers equal (same
   * `(filename, lineno)` sequence).
   */
  get key(): string {
    // Frame keys are self-delimiting (length-prefixed), so joining is unambiguous.
    this.#key ??= this.frames.map((f) => f.key).join('|');
    return this.#key;
  }

  /** Python's `traceback == other`. */
  equals(other: Traceback): boolean {
    return this === other || this.key === other.key;
  }

  /** Python's tuple ordering of the frames (oldest first, by filename then line). */
  compare(other: Traceback): number {
    const n = Math.min(this.frames.length, other.frames.length);
    for (let i = 0; i < n; i++) {
      const c = this.frames[i].compare(other.frames[i]);
      if (c !== 0) return c;
    }
    return this.frames.length - other.frames.length;
  }

  /** `String(frames[0])`: the OLDEST frame, exactly as Python's `str(traceback)`. */
  toString(): string {
    return String(this.frames[0]);
  }

  /**
   * Lines as Python's `Traceback.format()`: `  File "app.ts", line 10` plus
   * `, in fn` when the function name is known, then `    <source line>`
   * (stripped) when the file can be read. Lines have no trailing newline.
   */
  format(options: FormatOptions = {}): string[] {
    const { limit = null, mostRecentFirst = false } = options;
    let frames: readonly Frame[] = this.frames;
    if (limit !== null && limit !== undefined) {
      if (!Number.isInteger(limit)) throw new TypeError(`format limit must be an integer or null, not ${String(limit)}`);
      // Python's documented semantics: the |limit| oldest frames when negative.
      frames = limit > 0 ? frames.slice(-limit) : frames.slice(0, -limit);
    }
    if (mostRecentFirst) frames = [...frames].reverse();
    const lines: string[] = [];
    for (const frame of frames) {
      const fn = frame.functionName ? `, in ${frame.functionName}` : '';
      lines.push(`  File "${frame.filename}", line ${frame.lineno}${fn}`);
      const source = getSourceLine(frame.filename, frame.lineno).trim();
      if (source) lines.push(`    ${source}`);
    }
    return lines;
  }

  /** JSON view: frames oldest first and `totalFrames`. */
  toJSON(): { frames: ReturnType<Frame['toJSON']>[]; totalFrames: number | undefined } {
    return { frames: this.frames.map((f) => f.toJSON()), totalFrames: this.totalFrames };
  }
}

/**
 * `Frame`: one source location of an allocation traceback.
 *
 * @module
 */

/**
 * Compare two strings by Unicode code point, as Python compares `str`
 * (JavaScript's `<` compares UTF-16 code units, which orders characters
 * above U+FFFF before U+E000..U+FFFF). Returns a negative number, 0 or a
 * positive number.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (astral characters) sort after every other BMP code unit. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * A frame of a traceback: file, line, column and function name.
 *
 * V8 reports a frame at the start of its FUNCTION, not at the line that
 * allocated: `lineno` is the line where the function begins. That is why
 * frames also carry the function name; show it beside `file:line` (see
 * {@link formatFrameWithFunction}).
 *
 * Frames are immutable values. Like Python's, equality and ordering use
 * `(filename, lineno)` only; column and function name are extra detail.
 */
export class Frame {
  /** File name or URL of the script (`<unknown>` when V8 has none). */
  readonly filename: string;
  /** 1-based line number (of the function's start in V8); 0 when unknown. */
  readonly lineno: number;
  /** 1-based column (of the function's start in V8); 0 when unknown. */
  readonly column: number;
  /** Function name; `''` for anonymous functions and unknown frames. */
  readonly functionName: string;
  /**
   * True when `lineno` is the line that allocated or called (line mode,
   * `start({ lines: true })`); false when it is V8's function start.
   */
  readonly atLine: boolean;
  /**
   * Grouping key: equal for frames Python would consider equal, i.e. same
   * `(filename, lineno)`. Stable across processes (a plain string).
   */
  readonly key: string;

  /**
   * @param filename - file name or URL
   * @param lineno - 1-based line number, 0 when unknown
   * @param column - 1-based column number, 0 when unknown
   * @param functionName - name of the function, `''` when unknown
   * @param atLine - `lineno` is the allocating or calling line, not the function's start
   */
  constructor(filename: string, lineno: number, column = 0, functionName = '', atLine = false) {
    if (typeof filename !== 'string') throw new TypeError(`Frame filename must be a string, not ${typeof filename}`);
    if (!Number.isInteger(lineno) || lineno < 0) throw new TypeError(`Frame lineno must be an integer >= 0, not ${String(lineno)}`);
    if (!Number.isInteger(column) || column < 0) throw new TypeError(`Frame column must be an integer >= 0, not ${String(column)}`);
    if (typeof functionName !== 'string') throw new TypeError(`Frame functionName must be a string, not ${typeof functionName}`);
    this.filename = filename;
    this.lineno = lineno;
    this.column = column;
    this.functionName = functionName;
    this.atLine = atLine === true;
    // Length prefix keeps the key unambiguous whatever characters the name holds.
    this.key = `${lineno}:${filename.length}:${filename}`;
    Object.freeze(this);
  }

  /** `filename:lineno`, exactly as Python's `str(frame)`. */
  toString(): string {
    return `${this.filename}:${this.lineno}`;
  }

  /** Python's `frame == other`: same filename and line. */
  equals(other: Frame): boolean {
    return this.filename === other.filename && this.lineno === other.lineno;
  }

  /** Python's ordering of frames: by `(filename, lineno)`. */
  compare(other: Frame): number {
    return compareCodePoints(this.filename, other.filename) || this.lineno - other.lineno;
  }

  /** Python-style representation, with the extra fields we know. */
  toJSON(): { filename: string; lineno: number; column: number; functionName: string; atLine?: true } {
    const json = { filename: this.filename, lineno: this.lineno, column: this.column, functionName: this.functionName };
    return this.atLine ? { ...json, atLine: true } : json;
  }
}

/**
 * `file:line (in fn)`, for reports that want the function beside the
 * location (V8 lines are function starts): `app.ts:10 (in makeGlobals)`.
 * Frames without a function name print as `String(frame)`. With
 * `markFunctionStarts` (snapshots of line mode, which mix both kinds), a
 * frame at its function's start says so: `lib.js:3 (function start of parse)`.
 */
export function formatFrameWithFunction(frame: Frame, markFunctionStarts = false): string {
  if (markFunctionStarts && !frame.atLine) return `${frame} (function start${frame.functionName ? ` of ${frame.functionName}` : ''})`;
  return frame.functionName ? `${frame} (in ${frame.functionName})` : String(frame);
}

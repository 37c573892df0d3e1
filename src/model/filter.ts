/**
 * `Filter` on traces by file name glob and line, and Python's `fnmatch`.
 *
 * @module
 */
import type { Trace } from './trace.js';
import type { Traceback } from './traceback.js';

/** Escape one code point for a `u`-flag regular expression. */
function lit(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/**
 * Translate a glob to a regular expression with Python's `fnmatch.translate`
 * rules: `*` any string (including `/` and newlines), `?` one character,
 * `[seq]` / `[!seq]` a character set (ranges `a-z`, `]` first is literal, a
 * reversed range matches nothing), an unclosed `[` is literal. Case-sensitive,
 * as `fnmatch` on POSIX.
 */
export function globToRegExp(pattern: string): RegExp {
  const pat = Array.from(pattern); // code points
  const n = pat.length;
  let out = '';
  let i = 0;
  while (i < n) {
    const c = pat[i++];
    if (c === '*') {
      // Consecutive stars are one star.
      while (i < n && pat[i] === '*') i++;
      out += '.*';
    } else if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        out += lit(0x5b);
        continue;
      }
      let body = pat.slice(i, j);
      i = j + 1;
      let negate = false;
      if (body[0] === '!') {
        negate = true;
        body = body.slice(1);
      }
      const parts: string[] = [];
      for (let k = 0; k < body.length; k++) {
        const lo = body[k].codePointAt(0)!;
        if (k + 2 < body.length && body[k + 1] === '-') {
          const hi = body[k + 2].codePointAt(0)!;
          k += 2;
          if (lo <= hi) parts.push(`${lit(lo)}-${lit(hi)}`); // reversed ranges match nothing
        } else {
          parts.push(lit(lo));
        }
      }
      if (parts.length === 0) out += negate ? '.' : '(?!)';
      else out += `[${negate ? '^' : ''}${parts.join('')}]`;
    } else {
      out += lit(c.codePointAt(0)!);
    }
  }
  return new RegExp(`^(?:${out})$`, 'su');
}

const regexCache = new Map<string, RegExp>();

/** Python's `fnmatch.fnmatch(name, pattern)` on POSIX (case-sensitive). */
export function fnmatch(name: string, pattern: string): boolean {
  let re = regexCache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    if (regexCache.size > 1024) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re.test(name);
}

/** Options of a {@link Filter}. */
export interface FilterOptions {
  /** Only frames at this line match; undefined or null: any line. */
  lineno?: number | null;
  /** Match against every frame of the traceback instead of the most recent one only. */
  allFrames?: boolean;
}

/**
 * Filter on traces, as Python's `tracemalloc.Filter` (no domains here).
 *
 * An inclusive filter keeps only traces allocated in a file matching
 * `filenamePattern` (and at `lineno` when given); an exclusive one drops
 * them. By default only the MOST RECENT frame is checked; with `allFrames`
 * any frame of the traceback. See {@link Snapshot.filterTraces} for how
 * several filters combine.
 */
export class Filter {
  /** Keep (true) or drop (false) the matching traces. */
  readonly inclusive: boolean;
  /** fnmatch-style glob on the frame's filename. */
  readonly filenamePattern: string;
  /** Line to match, or undefined for any line. */
  readonly lineno: number | undefined;
  /** Check every frame, not only the most recent one. */
  readonly allFrames: boolean;

  /**
   * @param inclusive - keep (true) or drop (false) matching traces
   * @param filenamePattern - glob: `*`, `?`, `[seq]`, `[!seq]`
   * @param options - `lineno` and `allFrames`
   */
  constructor(inclusive: boolean, filenamePattern: string, options: FilterOptions = {}) {
    if (typeof inclusive !== 'boolean') throw new TypeError('Filter inclusive must be a boolean');
    if (typeof filenamePattern !== 'string') throw new TypeError('Filter filenamePattern must be a string');
    const { lineno, allFrames = false } = options;
    if (lineno !== undefined && lineno !== null && !Number.isInteger(lineno)) throw new TypeError(`Filter lineno must be an integer or null, not ${String(lineno)}`);
    this.inclusive = inclusive;
    this.filenamePattern = filenamePattern;
    this.lineno = lineno ?? undefined;
    this.allFrames = Boolean(allFrames);
    Object.freeze(this);
  }

  /** Does the location match the pattern (and line), regardless of `inclusive`? */
  matchesFrame(filename: string, lineno: number): boolean {
    if (!fnmatch(filename, this.filenamePattern)) return false;
    return this.lineno === undefined || lineno === this.lineno;
  }

  /**
   * Python's `_match_traceback`: true when a trace with this traceback
   * passes the filter (kept by an inclusive one, not dropped by an exclusive one).
   */
  matchTraceback(traceback: Traceback): boolean {
    if (this.allFrames) {
      for (const frame of traceback) {
        if (this.matchesFrame(frame.filename, frame.lineno)) return this.inclusive;
      }
      return !this.inclusive;
    }
    const frame = traceback.mostRecent;
    return this.matchesFrame(frame.filename, frame.lineno) === this.inclusive;
  }

  /** Python's `_match`: does `trace` pass this filter? */
  match(trace: Trace): boolean {
    return this.matchTraceback(trace.traceback);
  }
}

/**
 * Python's `Snapshot._filter_trace`: a trace is kept when it passes at least
 * one inclusive filter (or there is none) and passes every exclusive filter.
 */
export function passesFilters(trace: Trace, filters: readonly Filter[]): boolean {
  let anyInclude = false;
  let included = false;
  for (const f of filters) {
    if (f.inclusive) {
      anyInclude = true;
      if (!included && f.match(trace)) included = true;
    } else if (!f.match(trace)) {
      return false;
    }
  }
  return !anyInclude || included;
}

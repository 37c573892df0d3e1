import { Buffer } from 'node:buffer';
import { HeapSnapshotError } from './errors.js';

/** Default cap on stored string length (UTF-16 code units). V8 itself truncates object names to 1024 chars. */
export const DEFAULT_MAX_STRING_LENGTH = 1024;

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

/**
 * Decodes the raw bytes of a JSON string body (without quotes). Stops quietly at
 * an incomplete escape at the end, which only happens when the raw bytes were
 * capped: the caller cuts the result to a shorter length anyway.
 */
export function decodeJsonStringBytes(bytes: Buffer, start: number, end: number): string {
  let out = '';
  let run = start;
  let i = start;
  while (i < end) {
    if (bytes[i] !== 0x5c) {
      i++;
      continue;
    }
    // Escapes are ASCII, so the UTF-8 run before one is always complete.
    if (i > run) out += bytes.toString('utf8', run, i);
    if (i + 1 >= end) return out;
    const c = bytes[i + 1];
    switch (c) {
      case 0x22: out += '"'; break;
      case 0x5c: out += '\\'; break;
      case 0x2f: out += '/'; break;
      case 0x62: out += '\b'; break;
      case 0x66: out += '\f'; break;
      case 0x6e: out += '\n'; break;
      case 0x72: out += '\r'; break;
      case 0x74: out += '\t'; break;
      case 0x75: {
        if (i + 6 > end) return out;
        const code =
          (hexValue(bytes[i + 2]) << 12) | (hexValue(bytes[i + 3]) << 8) | (hexValue(bytes[i + 4]) << 4) | hexValue(bytes[i + 5]);
        // Surrogate halves are appended one by one; a pair written as two escapes
        // joins into one character because JS strings are UTF-16.
        out += String.fromCharCode(code & 0xffff);
        i += 4;
        break;
      }
      default:
        out += String.fromCharCode(c);
    }
    i += 2;
    run = i;
  }
  if (end > run) out += bytes.toString('utf8', run, end);
  return out;
}

/** Cuts `s` to at most `max` code units without splitting a surrogate pair. */
export function capString(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = max;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return s.slice(0, cut);
}

/**
 * Incremental reader for one JSON string body, used when a string crosses a
 * chunk boundary, contains escapes, or is very long. Keeps only a bounded prefix
 * of raw bytes, and counts the full length in UTF-16 units as it goes.
 */
export class StringAccumulator {
  private raw: Buffer;
  private rawLen = 0;
  private readonly capBytes: number;
  /** Escape state: 0 none, 1 after a backslash, 2..5 reading \u hex digits. */
  private esc = 0;
  /** Full decoded length in UTF-16 code units. */
  length = 0;

  constructor(maxChars: number) {
    // 6 bytes per code unit is the worst case (\uXXXX), so this prefix always
    // holds at least maxChars code units of a longer string.
    this.capBytes = maxChars * 6 + 16;
    this.raw = Buffer.allocUnsafe(Math.min(this.capBytes, 1 << 16));
  }

  reset(): void {
    this.rawLen = 0;
    this.esc = 0;
    this.length = 0;
  }

  /**
   * Consumes bytes from `buf[i..n)`. Returns the index just past the closing
   * quote, or -1 if the chunk ended first. `base` is the chunk's byte offset,
   * for error messages.
   */
  feed(buf: Uint8Array, i: number, n: number, base: number): number {
    let esc = this.esc;
    let len = this.length;
    let rawLen = this.rawLen;
    const cap = this.capBytes;
    for (; i < n; i++) {
      const b = buf[i];
      if (esc === 0) {
        if (b === 0x22) {
          this.esc = 0;
          this.length = len;
          this.rawLen = rawLen;
          return i + 1;
        }
        if (b === 0x5c) esc = 1;
        else {
          // Count UTF-16 units: one per lead byte, two for 4-byte sequences.
          if ((b & 0xc0) !== 0x80) len++;
          if (b >= 0xf0) len++;
        }
      } else if (esc === 1) {
        if (b === 0x75) esc = 2;
        else if (b === 0x22 || b === 0x5c || b === 0x2f || b === 0x62 || b === 0x66 || b === 0x6e || b === 0x72 || b === 0x74) {
          esc = 0;
          len++;
        } else {
          throw new HeapSnapshotError(`corrupt heap snapshot: invalid escape '\\${String.fromCharCode(b)}' at byte ${base + i}`, base + i);
        }
      } else {
        if (hexValue(b) < 0) {
          throw new HeapSnapshotError(`corrupt heap snapshot: invalid \\u escape at byte ${base + i}`, base + i);
        }
        if (++esc === 6) {
          esc = 0;
          len++;
        }
      }
      if (rawLen < cap) {
        if (rawLen === this.raw.length) {
          const next = Buffer.allocUnsafe(Math.min(cap, this.raw.length * 2));
          this.raw.copy(next, 0, 0, rawLen);
          this.raw = next;
        }
        this.raw[rawLen++] = b;
      }
    }
    this.esc = esc;
    this.length = len;
    this.rawLen = rawLen;
    return -1;
  }

  /** The decoded string, capped to `maxChars` code units. */
  value(maxChars: number): string {
    return capString(decodeJsonStringBytes(this.raw, 0, this.rawLen), maxChars);
  }
}

import { Buffer } from 'node:buffer';
import { HeapSnapshotError } from './errors.js';
import { Growable } from './growable.js';

/**
 * A snapshot's strings table, kept as the file's UTF-8 bytes and decoded on
 * first use.
 *
 * Decoding every string while parsing made a JS string per entry (764 k on a
 * 315 MB snapshot, about 30 MB of heap) and the garbage collections that come
 * with it, although a census reads only the names it groups by. Most strings
 * are plain (no escapes) and sit wholly in one read chunk: their bytes are
 * copied as they are. The rest (escapes, strings cut across chunks, very long
 * ones) are decoded while parsing, as before, and kept decoded.
 */
export class StringTable {
  /** Number of strings. */
  readonly length: number;
  private readonly bytes: Buffer;
  /** Bytes of string i are bytes[offsets[i]..offsets[i+1]); empty for a string kept decoded. */
  private readonly offsets: Uint32Array;
  /** Decoded strings, filled on first use; strings decoded while parsing are here from the start. */
  private readonly decoded: (string | undefined)[];

  /** @internal Built by {@link StringTableBuilder}. */
  constructor(bytes: Buffer, offsets: Uint32Array, decoded: (string | undefined)[]) {
    this.bytes = bytes;
    this.offsets = offsets;
    this.decoded = decoded;
    this.length = offsets.length - 1;
  }

  /** String `i`, or undefined for an index that names none. */
  get(i: number): string | undefined {
    const s = this.decoded[i];
    if (s !== undefined || !(i >= 0 && i < this.length) || Math.floor(i) !== i) return s;
    return (this.decoded[i] = this.bytes.toString('utf8', this.offsets[i], this.offsets[i + 1]));
  }

  /** Index of the first string equal to `s`, or -1; compares bytes, decoding nothing. */
  indexOf(s: string): number {
    const want = Buffer.from(s, 'utf8');
    const { bytes, offsets, decoded } = this;
    for (let i = 0; i < this.length; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      if (a === b) {
        if (decoded[i] === s) return i;
      } else if (b - a === want.length && bytes.compare(want, 0, want.length, a, b) === 0) return i;
    }
    return -1;
  }

  /** Every string, decoded. */
  toArray(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.get(i)!);
    return out;
  }
}

/**
 * Collects the strings section for a {@link StringTable}: plain strings as
 * bytes, the rest decoded. The parser cuts long strings to its
 * `maxStringLength` and passes them decoded, so bytes never need cutting.
 */
export class StringTableBuilder {
  private readonly bytes = new Growable(Uint8Array, 1 << 16);
  private readonly offsets = new Growable(Uint32Array, 1 << 12);
  private readonly decoded = new Map<number, string>();
  private count = 0;

  constructor() {
    this.offsets.push(0);
  }

  get length(): number {
    return this.count;
  }

  /** Appends the plain UTF-8 bytes buf[start..end) as the next string. */
  addBytes(buf: Uint8Array, start: number, end: number, at: number): void {
    const len = end - start;
    const bytes = this.bytes;
    if (bytes.length + len > 0xffffffff) throw new HeapSnapshotError(`heap snapshot not supported: its strings pass 4 GiB at byte ${at}`, at);
    bytes.grow(bytes.length + len);
    const out = bytes.array;
    let o = bytes.length;
    // Most strings are a few bytes: a loop beats making a subarray for set().
    if (len < 64) for (let i = start; i < end; i++) out[o++] = buf[i];
    else {
      out.set(buf.subarray(start, end), o);
      o += len;
    }
    bytes.length = o;
    this.offsets.push(o);
    this.count++;
  }

  /** Appends a string decoded by the caller (escaped, cut across chunks, or cut to length). */
  addDecoded(s: string): void {
    this.decoded.set(this.count, s);
    this.offsets.push(this.bytes.length);
    this.count++;
  }

  finish(): StringTable {
    // Holes read as undefined; V8 keeps an array made this way in fast elements.
    const decoded = new Array<string | undefined>(this.count);
    for (const [i, s] of this.decoded) decoded[i] = s;
    const bytes = this.bytes.finish();
    return new StringTable(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), this.offsets.finish(), decoded);
  }
}

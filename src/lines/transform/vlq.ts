// Source map v3 "mappings" encoding over flat segment arrays. Written here
// (instead of decoding into arrays of arrays) because a 9 MB input has
// millions of segments and one small array per segment would dominate memory.

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGITS = new Uint8Array(64);
for (let i = 0; i < 64; i++) DIGITS[i] = BASE64.charCodeAt(i);

/** Growable byte buffer that turns into a latin1 string at the end. */
export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private len = 0;

  private grow(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.grow(1);
    this.buf[this.len++] = b;
  }

  /** Appends one signed VLQ value. */
  vlq(value: number): void {
    this.grow(7);
    let v = value < 0 ? (-value << 1) | 1 : value << 1;
    do {
      let digit = v & 31;
      v >>>= 5;
      if (v > 0) digit |= 32;
      this.buf[this.len++] = DIGITS[digit];
    } while (v > 0);
  }

  toString(): string {
    return Buffer.from(this.buf.buffer, 0, this.len).toString('latin1');
  }
}

/**
 * Flat list of mapping segments in generated order. `src === -1` marks an
 * unmapped (one-field) segment; `name === -1` means no name.
 */
export class Segments {
  genLine: Int32Array;
  genCol: Int32Array;
  src: Int32Array;
  line: Int32Array;
  col: Int32Array;
  name: Int32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.genLine = new Int32Array(capacity);
    this.genCol = new Int32Array(capacity);
    this.src = new Int32Array(capacity);
    this.line = new Int32Array(capacity);
    this.col = new Int32Array(capacity);
    this.name = new Int32Array(capacity);
  }

  push(genLine: number, genCol: number, src: number, line: number, col: number, name: number): void {
    if (this.length === this.genLine.length) this.resize(this.length * 2);
    const i = this.length++;
    this.genLine[i] = genLine;
    this.genCol[i] = genCol;
    this.src[i] = src;
    this.line[i] = line;
    this.col[i] = col;
    this.name[i] = name;
  }

  private resize(capacity: number): void {
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    this.genLine = grow(this.genLine);
    this.genCol = grow(this.genCol);
    this.src = grow(this.src);
    this.line = grow(this.line);
    this.col = grow(this.col);
    this.name = grow(this.name);
  }
}

/** Running state of the relative fields, carried across lines. */
export interface EncodeState {
  src: number;
  line: number;
  col: number;
  name: number;
}

/**
 * Encodes the segments with generated line in [fromLine, toLine) and index in
 * [from, to), emitting one ';' per line boundary. `colShift` is added to the
 * generated column of segments with index >= shiftFrom (the prologue).
 */
export function encodeRange(
  segs: Segments,
  from: number,
  to: number,
  fromLine: number,
  toLine: number,
  state: EncodeState,
  colShift = 0,
  shiftFrom = Infinity,
): string {
  const w = new ByteWriter();
  let line = fromLine;
  let prevCol = 0;
  let first = true;
  for (let i = from; i < to; i++) {
    const gl = segs.genLine[i];
    while (line < gl) {
      w.byte(59); // ;
      line++;
      prevCol = 0;
      first = true;
    }
    if (!first) w.byte(44); // ,
    first = false;
    const gc = segs.genCol[i] + (i >= shiftFrom ? colShift : 0);
    w.vlq(gc - prevCol);
    prevCol = gc;
    const src = segs.src[i];
    if (src < 0) continue;
    w.vlq(src - state.src);
    state.src = src;
    w.vlq(segs.line[i] - state.line);
    state.line = segs.line[i];
    w.vlq(segs.col[i] - state.col);
    state.col = segs.col[i];
    const name = segs.name[i];
    if (name >= 0) {
      w.vlq(name - state.name);
      state.name = name;
    }
  }
  while (line < toLine) {
    w.byte(59);
    line++;
  }
  return w.toString();
}

import { Buffer } from 'node:buffer';
import type { SnapshotData } from './data.js';
import { HeapSnapshotError } from './errors.js';
import { Growable } from './growable.js';
import { type HeapSnapshotMeta, parseMeta } from './meta.js';
import { HeapSnapshot } from './snapshot.js';
import { StringTableBuilder } from './string-table.js';
import { capString, DEFAULT_MAX_STRING_LENGTH, StringAccumulator } from './strings.js';
import { TraceTreeBuilder } from './trace-tree-builder.js';

/** Options of {@link HeapSnapshotParser}. */
export interface HeapSnapshotParserOptions {
  /** Called after each chunk with the total number of bytes consumed so far. */
  onProgress?: (bytesRead: number) => void;
  /**
   * Strings longer than this (UTF-16 code units) are stored truncated, with their
   * original length kept. Default 1024, the cap V8 applies to object names.
   */
  maxStringLength?: number;
  /**
   * Size of the whole input in bytes, when known ({@link readHeapSnapshot}
   * passes the file size). It bounds how much the header's `node_count` and
   * `edge_count` may preallocate, so that a header claiming a trillion nodes
   * cannot take the memory. Without it, preallocation stops at 2^20 nodes
   * and edges and bigger inputs grow as they are read.
   */
  inputBytes?: number;
  /**
   * @internal How this parser handles the "edges" section, so that two threads
   * can share one file ({@link readHeapSnapshot}): `read` (default) parses it;
   * `elsewhere` only finds its end, and the columns come from
   * {@link HeapSnapshotParser.adoptEdges}; `only` parses the header and the
   * edges and skips the rest ({@link HeapSnapshotParser.edgesDone}).
   */
  edges?: EdgeSection;
  /**
   * @internal Node and edge columns in shared memory, so that worker threads
   * can read them without a copy ({@link HeapSnapshot.prepare}).
   */
  shared?: boolean;
}

/** @internal See {@link HeapSnapshotParserOptions.edges}. */
export type EdgeSection = 'read' | 'elsewhere' | 'only';

/** @internal The edge columns one parser read for another, with where they were in the input. */
export interface EdgeColumns {
  type: Uint8Array<ArrayBuffer>;
  name: Uint32Array<ArrayBuffer>;
  to: Uint32Array<ArrayBuffer>;
  /** Complete edges read. */
  count: number;
  /** Fields read of an incomplete last edge (0 for a well-formed file). */
  field: number;
  /** Byte offset of the section's value. */
  at: number;
}

// Parser modes: which kind of value the bytes currently belong to.
const M_TOP = 0;
const M_NUMBERS = 1;
const M_STRINGS = 2;
const M_TRACE_TREE = 3;
const M_SKIP = 4;
/** A numeric array whose values another parser reads: only its end is found. */
const M_ARRAY_END = 5;

// States of the top-level object.
const T_OPEN = 0;
const T_KEY_OR_CLOSE = 1;
const T_KEY = 2;
const T_IN_KEY = 3;
const T_COLON = 4;
const T_VALUE = 5;
const T_COMMA_OR_CLOSE = 6;
const T_END = 7;

// Destinations of numeric arrays.
const K_NODES = 0;
const K_EDGES = 1;
const K_GENERIC = 2;

// Roles of node and edge fields, looked up per value from the meta field lists.
const R_IGNORE = 0;
const R_TYPE = 1;
const R_NAME = 2;
const R_ID = 3;
const R_SELF_SIZE = 4;
const R_EDGE_COUNT = 5;
const R_TRACE = 6;
const R_DETACHED = 7;
const R_TO = 8;

const MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** Preallocation bound, in nodes or edges, when the input size is unknown. */
const PREALLOC_CAP = 1 << 20;
/** Strings up to this many bytes, with no escapes and inside one chunk, are decoded in one call. */
const FAST_STRING_BYTES = 64 * 1024;

/** Where the number {@link scanNumber} read last ends. */
let scanEnd = 0;

/**
 * The fast paths' number reader: the value of the digits at `i` (scanEnd is
 * set past them), or -1 when there is no digit or more than 10 (left to the
 * byte loops, which check and report). Small enough for V8 to inline.
 */
function scanNumber(buf: Buffer, i: number): number {
  let b = buf[i];
  if ((b - 48) >>> 0 >= 10) return -1;
  const first = i;
  let x = b - 48;
  b = buf[++i];
  while ((b - 48) >>> 0 < 10 && i - first < 11) {
    x = x * 10 + (b - 48);
    b = buf[++i];
  }
  scanEnd = i;
  return i - first > 10 ? -1 : x;
}

/**
 * A number and the separator after it, for a record's inner fields: the value
 * with scanEnd past both, or -1 (nothing consumed) when either is missing.
 */
function scanField(buf: Buffer, i: number): number {
  const x = scanNumber(buf, i);
  if (x < 0) return -1;
  const sep = separatorLength(buf, scanEnd);
  if (sep === 0) return -1;
  scanEnd += sep;
  return x;
}

/** Length of the separator V8 writes after a value at `i` (',' or '\n,'), 0 for anything else. */
function separatorLength(buf: Buffer, i: number): number {
  const b = buf[i];
  return b === 0x2c ? 1 : b === 0x0a && buf[i + 1] === 0x2c ? 2 : 0;
}

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function show(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Streaming push parser for V8 `.heapsnapshot` JSON.
 *
 * Feed it chunks with {@link write} (split anywhere: inside numbers, strings,
 * UTF-8 sequences or escapes) and call {@link end} to get the
 * {@link HeapSnapshot}. It never holds the whole text: numbers go straight from
 * bytes into typed arrays, one column per node/edge field, and only the small
 * `snapshot` header is ever handed to `JSON.parse`.
 */
export class HeapSnapshotParser {
  private readonly onProgress: ((bytesRead: number) => void) | undefined;
  private readonly maxString: number;
  private readonly inputBytes: number;
  private readonly edgeSection: EdgeSection;
  private readonly shared: boolean;
  /** Byte offset of the current chunk's start. */
  private base = 0;
  private failed: HeapSnapshotError | null = null;
  private done: HeapSnapshot | null = null;

  private mode = M_TOP;
  private top = T_OPEN;
  private key = '';
  private section = '';
  private sectionOffset = 0;
  private readonly seen = new Set<string>();
  /** Byte offset where each section's value starts, for errors found after parsing. */
  private readonly sectionStart = new Map<string, number>();
  private readonly keyAcc = new StringAccumulator(256);

  // Numeric array state, kept across chunks.
  private arrOpen = false;
  private numV = 0;
  private numDigits = 0;
  private numNeg = false;
  private needComma = false;
  private kind = K_GENERIC;
  private generic: Growable<Float64Array> | null = null;

  // Skip/capture state for values read opaquely.
  private skipStarted = false;
  private skipDepth = 0;
  private skipInStr = false;
  private skipEsc = false;
  private skipScalar = false;
  private capture: Buffer[] | null = null;
  private captureBytes = 0;

  // Strings section state.
  private strState = 0; // 0 expect '[', 1 expect string or ']', 2 inside a long/escaped string, 3 expect ',' or ']'
  private strAfterComma = false;
  private readonly strAcc: StringAccumulator;
  private readonly strings: StringTableBuilder;
  private readonly longStringLengths = new Map<number, number>();

  private meta: HeapSnapshotMeta | null = null;

  // Node columns.
  private nodeStride = 0;
  private nodeRoles: Uint8Array = new Uint8Array(0);
  private nodeField = 0;
  private nodeOrd = 0;
  private nodeCap = 0;
  private nodeType = new Uint8Array(0);
  private nodeName = new Uint32Array(0);
  private nodeId = new Uint32Array(0);
  private nodeSelfSize = new Uint32Array(0);
  private firstEdge = new Uint32Array(1);
  private nodeTraceId: Uint32Array | null = null;
  private nodeDetachedness: Uint8Array | null = null;
  private readonly bigSelfSizes = new Map<number, number>();
  /** Byte offset of each entry of bigSelfSizes, for the error if its node cannot be that big. */
  private readonly bigSelfSizeAt = new Map<number, number>();
  private edgeTotal = 0;

  // Edge columns.
  private edgeStride = 0;
  private edgeRoles: Uint8Array = new Uint8Array(0);
  /** Fields in V8's order, so the fast paths read records unrolled. */
  private v8Nodes = false;
  private v8Edges = false;
  private edgeField = 0;
  private edgeIdx = 0;
  private edgeCap = 0;
  private edgeType = new Uint8Array(0);
  private edgeName = new Uint32Array(0);
  private edgeTo = new Uint32Array(0);

  // Sections that arrived before the header are kept raw and replayed in end().
  private rawNodes: Float64Array | null = null;
  private rawEdges: Float64Array | null = null;
  private traceFunctionInfos: Float64Array | null = null;
  private samples: Float64Array | null = null;
  private locations: Float64Array | null = null;
  private readonly trace = new TraceTreeBuilder();

  constructor(options?: HeapSnapshotParserOptions) {
    this.onProgress = options?.onProgress;
    this.maxString = Math.max(16, options?.maxStringLength ?? DEFAULT_MAX_STRING_LENGTH);
    const bytes = options?.inputBytes;
    this.inputBytes = typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
    this.strAcc = new StringAccumulator(this.maxString);
    this.strings = new StringTableBuilder();
    this.edgeSection = options?.edges ?? 'read';
    this.shared = options?.shared === true;
  }

  private u8(length: number): Uint8Array<ArrayBuffer> {
    return (this.shared ? new Uint8Array(new SharedArrayBuffer(length)) : new Uint8Array(length)) as Uint8Array<ArrayBuffer>;
  }

  private u32(length: number): Uint32Array<ArrayBuffer> {
    return (this.shared ? new Uint32Array(new SharedArrayBuffer(4 * length)) : new Uint32Array(length)) as Uint32Array<ArrayBuffer>;
  }

  /**
   * @internal In `only` mode: the edges section has been read (or cannot be
   * read here because it came before the header), so the rest of the input is
   * not needed.
   */
  edgesDone = false;
  /** @internal Whether this parser read the edges itself (in `elsewhere` mode: they came before the header). */
  private edgesReadHere = false;

  /** @internal In `only` mode, after {@link edgesDone}: the columns read, or null when the edges came before the header. */
  edgeColumns(): EdgeColumns | null {
    if (!this.edgesReadHere || this.kind !== K_EDGES) return null;
    return { type: this.edgeType, name: this.edgeName, to: this.edgeTo, count: this.edgeIdx, field: this.edgeField, at: this.sectionStart.get('edges') ?? -1 };
  }

  /**
   * @internal In `elsewhere` mode: whether the columns must come from another
   * parser (false when this one read them: they came before the header).
   */
  get needsEdges(): boolean {
    return this.edgeSection === 'elsewhere' && this.seen.has('edges') && !this.edgesReadHere;
  }

  /** @internal Byte offset of the edges section's value, -1 before it. */
  get edgesAt(): number {
    return this.sectionStart.get('edges') ?? -1;
  }

  /** @internal In `elsewhere` mode: takes the columns another parser read from the same input. */
  adoptEdges(c: EdgeColumns): void {
    this.edgeType = c.type;
    this.edgeName = c.name;
    this.edgeTo = c.to;
    this.edgeCap = c.type.length;
    this.edgeIdx = c.count;
    this.edgeField = c.field;
  }

  /** Consumes the next chunk. A string chunk is UTF-8 encoded first. Throws {@link HeapSnapshotError} on bad input. */
  write(chunk: string | Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this.done) throw new HeapSnapshotError('write() after end()', this.base);
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      this.consume(buf);
    } catch (e) {
      if (e instanceof HeapSnapshotError) this.failed = e;
      throw e;
    }
    this.base += buf.length;
    this.onProgress?.(this.base);
  }

  /** Finishes parsing and returns the snapshot. Throws {@link HeapSnapshotError} if the input was incomplete or inconsistent. */
  end(): HeapSnapshot {
    if (this.failed) throw this.failed;
    if (this.done) return this.done;
    try {
      this.done = this.finish();
    } catch (e) {
      if (e instanceof HeapSnapshotError) this.failed = e;
      throw e;
    }
    return this.done;
  }

  /** Bytes consumed so far. */
  get bytesRead(): number {
    return this.base;
  }

  private error(message: string, i: number): HeapSnapshotError {
    return new HeapSnapshotError(message, this.base + i);
  }

  private consume(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    while (i < n && !this.edgesDone) {
      switch (this.mode) {
        case M_TOP:
          i = this.readTop(buf, i, n);
          break;
        case M_NUMBERS:
          i = this.readNumbers(buf, i, n);
          break;
        case M_STRINGS:
          i = this.readStrings(buf, i, n);
          break;
        case M_TRACE_TREE:
          i = this.trace.read(buf, i, n, this.base);
          if (this.trace.complete) this.endSection();
          break;
        case M_ARRAY_END:
          i = this.findArrayEnd(buf, i, n);
          break;
        default:
          i = this.readSkip(buf, i, n);
      }
    }
  }

  // ---- top-level object ----

  private readTop(buf: Buffer, i: number, n: number): number {
    while (i < n && this.mode === M_TOP) {
      if (this.top === T_IN_KEY) {
        const j = this.keyAcc.feed(buf, i, n, this.base);
        if (j < 0) return n;
        this.key = this.keyAcc.value(256);
        this.top = T_COLON;
        i = j;
        continue;
      }
      const b = buf[i];
      if (isWs(b)) {
        i++;
        continue;
      }
      switch (this.top) {
        case T_OPEN:
          if (b !== 0x7b) throw this.error(`not a V8 heap snapshot: expected '{' at byte ${this.base + i}, found ${show(b)}`, i);
          this.top = T_KEY_OR_CLOSE;
          break;
        case T_KEY_OR_CLOSE:
        case T_KEY:
          if (b === 0x7d && this.top === T_KEY_OR_CLOSE) {
            this.top = T_END;
            break;
          }
          if (b !== 0x22) throw this.error(`not a V8 heap snapshot: expected a key at byte ${this.base + i}, found ${show(b)}`, i);
          this.keyAcc.reset();
          this.top = T_IN_KEY;
          break;
        case T_COLON:
          if (b !== 0x3a) throw this.error(`corrupt heap snapshot: expected ':' after "${this.key}" at byte ${this.base + i}`, i);
          this.top = T_VALUE;
          break;
        case T_VALUE:
          this.beginValue(i);
          return i; // the section reader consumes the value's first byte
        case T_COMMA_OR_CLOSE:
          if (b === 0x2c) this.top = T_KEY;
          else if (b === 0x7d) this.top = T_END;
          else throw this.error(`corrupt heap snapshot: expected ',' or '}' after "${this.key}" at byte ${this.base + i}, found ${show(b)}`, i);
          break;
        default:
          throw this.error(`corrupt heap snapshot: unexpected ${show(b)} after the end of the snapshot at byte ${this.base + i}`, i);
      }
      i++;
    }
    return i;
  }

  private beginValue(i: number): void {
    const key = this.key;
    const known = ['snapshot', 'nodes', 'edges', 'strings', 'trace_function_infos', 'trace_tree', 'samples', 'locations'];
    if (known.includes(key)) {
      if (this.seen.has(key)) throw this.error(`corrupt heap snapshot: duplicate "${key}" at byte ${this.base + i}`, i);
      this.seen.add(key);
    }
    this.section = key;
    this.sectionOffset = this.base + i;
    if (!this.sectionStart.has(key)) this.sectionStart.set(key, this.sectionOffset);
    switch (key) {
      case 'snapshot':
        this.startSkip(true);
        return;
      case 'nodes':
      case 'edges': {
        const only = this.edgeSection === 'only';
        // The other parser reads this section: find its end, no more. Before
        // the header neither can interpret it, so each reads it as usual.
        if (this.meta && (key === 'nodes' ? only : this.edgeSection === 'elsewhere')) {
          this.mode = M_ARRAY_END;
          this.arrOpen = false;
          return;
        }
        if (key === 'edges') {
          this.edgesReadHere = true;
          if (only && !this.meta) this.edgesDone = true;
        }
        this.startNumbers(key === 'nodes' ? K_NODES : K_EDGES);
        return;
      }
      case 'trace_function_infos':
      case 'samples':
      case 'locations':
        // Locations hold at most one record per node: reserving that bound up
        // front avoids regrowth and finish() trims. The nodes read so far are
        // the bound (V8 writes them first); the header's count is not trusted.
        this.generic = new Growable(Float64Array, key === 'locations' && this.meta ? Math.max(1024, (this.nodeOrd || this.expected(this.meta.nodeCount, this.nodeStride)) * this.meta.locationFields.length) : 1024);
        this.startNumbers(K_GENERIC);
        return;
      case 'strings':
        this.mode = M_STRINGS;
        this.strState = 0;
        return;
      case 'trace_tree':
        this.trace.begin(this.meta?.traceNodeFields ?? null);
        this.mode = M_TRACE_TREE;
        return;
      default:
        this.startSkip(false); // unknown key: scan past its value
    }
  }

  private endSection(): void {
    if (this.edgeSection === 'only' && this.section === 'edges') this.edgesDone = true;
    this.mode = M_TOP;
    this.top = T_COMMA_OR_CLOSE;
  }

  /** Skips a numeric array another parser reads and checks: its first ']' ends it. */
  private findArrayEnd(buf: Buffer, i: number, n: number): number {
    if (!this.arrOpen) {
      while (i < n && isWs(buf[i])) i++;
      if (i === n) return n;
      if (buf[i] !== 0x5b) throw this.error(`corrupt heap snapshot: expected '[' to start "${this.section}" at byte ${this.base + i}, found ${show(buf[i])}`, i);
      this.arrOpen = true;
      i++;
    }
    const j = buf.indexOf(0x5d, i);
    if (j < 0 || j >= n) return n;
    this.endSection();
    return j + 1;
  }

  // ---- opaque values: the header (captured) and unknown keys (skipped) ----

  private startSkip(capture: boolean): void {
    this.mode = M_SKIP;
    this.skipStarted = false;
    this.skipDepth = 0;
    this.skipInStr = false;
    this.skipEsc = false;
    this.skipScalar = false;
    this.capture = capture ? [] : null;
    this.captureBytes = 0;
  }

  private readSkip(buf: Buffer, i: number, n: number): number {
    const start = i;
    let end = -1;
    if (!this.skipStarted) {
      const b = buf[i];
      this.skipStarted = true;
      if (b === 0x7b || b === 0x5b) this.skipDepth = 1;
      else if (b === 0x22) this.skipInStr = true;
      else if (b === 0x7d || b === 0x5d || b === 0x2c) throw this.error(`corrupt heap snapshot: missing value for "${this.key}" at byte ${this.base + i}`, i);
      else this.skipScalar = true;
      i++;
    }
    let depth = this.skipDepth;
    let inStr = this.skipInStr;
    let esc = this.skipEsc;
    const scalar = this.skipScalar;
    for (; i < n; i++) {
      const b = buf[i];
      if (inStr) {
        if (esc) esc = false;
        else if (b === 0x5c) esc = true;
        else if (b === 0x22) {
          inStr = false;
          if (depth === 0) {
            end = i + 1;
            break;
          }
        }
      } else if (scalar) {
        if (b === 0x2c || b === 0x7d || b === 0x5d || isWs(b)) {
          end = i;
          break;
        }
      } else if (b === 0x22) inStr = true;
      else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        if (--depth === 0) {
          end = i + 1;
          break;
        }
      }
    }
    this.skipDepth = depth;
    this.skipInStr = inStr;
    this.skipEsc = esc;
    const stop = end < 0 ? n : end;
    if (this.capture) {
      this.captureBytes += stop - start;
      if (this.captureBytes > MAX_HEADER_BYTES) {
        throw this.error(`corrupt heap snapshot: "${this.key}" header is larger than ${MAX_HEADER_BYTES} bytes`, i);
      }
      this.capture.push(Buffer.from(buf.subarray(start, stop))); // copy: callers may reuse their buffers
    }
    if (end < 0) return n;
    if (this.capture) {
      this.setMeta(parseMeta(Buffer.concat(this.capture).toString('utf8'), this.sectionOffset));
      this.capture = null;
    }
    this.endSection();
    return end;
  }

  // ---- header: set up the columns ----

  private setMeta(meta: HeapSnapshotMeta): void {
    this.meta = meta;
    this.nodeStride = meta.nodeFields.length;
    this.nodeRoles = new Uint8Array(
      meta.nodeFields.map((f) =>
        f === 'type' ? R_TYPE
        : f === 'name' ? R_NAME
        : f === 'id' ? R_ID
        : f === 'self_size' ? R_SELF_SIZE
        : f === 'edge_count' ? R_EDGE_COUNT
        : f === 'trace_node_id' ? R_TRACE
        : f === 'detachedness' ? R_DETACHED
        : R_IGNORE,
      ),
    );
    this.edgeStride = meta.edgeFields.length;
    this.v8Nodes = meta.nodeFields.join() === 'type,name,id,self_size,edge_count,trace_node_id,detachedness';
    this.v8Edges = meta.edgeFields.join() === 'type,name_or_index,to_node';
    this.edgeRoles = new Uint8Array(
      meta.edgeFields.map((f) => (f === 'type' ? R_TYPE : f === 'name_or_index' ? R_NAME : f === 'to_node' ? R_TO : R_IGNORE)),
    );
    // Exact preallocation when the header announces the counts (V8 always does):
    // no growth copies, no slack, which is what keeps peak memory near the final size.
    // A parser that leaves a section to another allocates nothing for it.
    if (this.edgeSection !== 'only') this.growNodes(Math.max(1024, this.expected(meta.nodeCount, this.nodeStride)));
    if (this.edgeSection !== 'elsewhere') this.growEdges(Math.max(1024, this.expected(meta.edgeCount, this.edgeStride)));
    if (meta.nodeFields.includes('detachedness')) this.nodeDetachedness = new Uint8Array(this.nodeCap);
  }

  /**
   * A header count, trusted only as far as the input can hold it: every
   * record takes at least two bytes ("0,") per field.
   */
  private expected(count: number, stride: number): number {
    const bound = this.inputBytes > 0 ? Math.floor(this.inputBytes / (2 * stride)) : PREALLOC_CAP;
    return count > 0 ? Math.min(Math.floor(count), bound) : 0;
  }

  private growNodes(min: number): void {
    if (min <= this.nodeCap) return;
    const cap = this.nodeCap === 0 ? min : Math.max(min, Math.ceil(this.nodeCap * 1.5));
    const grow = <T extends Uint8Array | Uint32Array>(a: T, make: (n: number) => T, extra = 0): T => {
      const b = make(cap + extra);
      b.set(a.subarray(0, Math.min(a.length, cap + extra)) as never);
      return b;
    };
    this.nodeType = grow(this.nodeType, (k) => this.u8(k));
    this.nodeName = grow(this.nodeName, (k) => this.u32(k));
    this.nodeId = grow(this.nodeId, (k) => this.u32(k));
    this.nodeSelfSize = grow(this.nodeSelfSize, (k) => this.u32(k));
    this.firstEdge = grow(this.firstEdge, (k) => this.u32(k), 1);
    if (this.nodeTraceId) this.nodeTraceId = grow(this.nodeTraceId, (k) => this.u32(k));
    if (this.nodeDetachedness) this.nodeDetachedness = grow(this.nodeDetachedness, (k) => this.u8(k));
    this.nodeCap = cap;
  }

  private growEdges(min: number): void {
    if (min <= this.edgeCap) return;
    const cap = this.edgeCap === 0 ? min : Math.max(min, Math.ceil(this.edgeCap * 1.5));
    const t = this.u8(cap);
    t.set(this.edgeType);
    this.edgeType = t;
    const nm = this.u32(cap);
    nm.set(this.edgeName);
    this.edgeName = nm;
    const to = this.u32(cap);
    to.set(this.edgeTo);
    this.edgeTo = to;
    this.edgeCap = cap;
  }

  // ---- numeric arrays ----

  private startNumbers(kind: number): void {
    this.mode = M_NUMBERS;
    this.arrOpen = false;
    this.numV = 0;
    this.numDigits = 0;
    this.numNeg = false;
    this.needComma = false;
    // Without the header we cannot interpret nodes/edges yet: keep raw values.
    if ((kind === K_NODES || kind === K_EDGES) && !this.meta) {
      this.generic = new Growable(Float64Array, 1 << 16);
      kind = K_GENERIC;
    }
    this.kind = kind;
  }

  private readNumbers(buf: Buffer, i: number, n: number): number {
    if (!this.arrOpen) {
      while (i < n && isWs(buf[i])) i++;
      if (i === n) return n;
      if (buf[i] !== 0x5b) throw this.error(`corrupt heap snapshot: expected '[' to start "${this.section}" at byte ${this.base + i}, found ${show(buf[i])}`, i);
      this.arrOpen = true;
      i++;
    }
    if (this.kind === K_NODES) return this.readNodes(buf, i, n);
    if (this.kind === K_EDGES) return this.readEdges(buf, i, n);
    let v = this.numV;
    let d = this.numDigits;
    const safe = n - 13;
    while (i < n) {
      if (d === 0 && !this.needComma && !this.numNeg && i < safe) {
        // Fast path for plain non-negative numbers, as in readEdges.
        const values = this.generic!;
        while (i < safe) {
          const x = scanNumber(buf, i);
          if (x < 0) break;
          values.push(x);
          i = scanEnd;
          const sep = separatorLength(buf, i);
          if (sep === 0) {
            this.needComma = true;
            break;
          }
          i += sep;
        }
        if (i >= n) break;
      }
      const b = buf[i];
      if ((b - 48) >>> 0 < 10) {
        if (d === 0 && this.needComma) this.badByte(buf, i);
        v = v * 10 + (b - 48);
        d++;
        i++;
        continue;
      }
      if (d > 0) {
        if (d > 15) this.tooLarge(i);
        this.generic!.push(this.numNeg ? -v : v);
        this.numNeg = false;
        v = 0;
        d = 0;
        this.needComma = true;
      }
      if (b === 0x2d && !this.numNeg && !this.needComma) this.numNeg = true;
      else if (!this.separator(buf, i)) {
        this.numV = 0;
        this.numDigits = 0;
        return i + 1;
      }
      i++;
    }
    this.numV = v;
    this.numDigits = d;
    return n;
  }

  /**
   * Handles a non-digit byte after any pending number was stored: comma,
   * whitespace, or the closing bracket (returns false, array finished).
   */
  private separator(buf: Buffer, i: number): boolean {
    const b = buf[i];
    if (b === 0x2c) {
      if (!this.needComma) this.badByte(buf, i);
      this.needComma = false;
      return true;
    }
    if (b === 0x5d) {
      if ((!this.needComma && this.anyValues()) || this.numNeg) this.badByte(buf, i);
      this.finishNumbers();
      return false;
    }
    if (!isWs(b)) this.badByte(buf, i);
    return true;
  }

  private badByte(buf: Buffer, i: number): never {
    throw this.error(`corrupt heap snapshot: unexpected ${show(buf[i])} at byte ${this.base + i} inside "${this.section}"`, i);
  }

  private badNumber(buf: Buffer, i: number, missingComma: boolean): never {
    if (missingComma) throw this.error(`corrupt heap snapshot: expected ',' before byte ${this.base + i} inside "${this.section}"`, i);
    this.tooLarge(i);
  }

  private tooLarge(i: number): never {
    throw this.error(`corrupt heap snapshot: number too large ending at byte ${this.base + i} inside "${this.section}"`, i);
  }

  private outOfRange(what: string, v: number, i: number): never {
    throw this.error(`corrupt heap snapshot: ${what} ${v} out of range at byte ${this.base + i} inside "${this.section}"`, i);
  }

  // The two hot loops below are specialised copies of the generic one: they
  // keep the column arrays and counters in locals and store each value by the
  // role of its field, with cold paths moved out so that the loops stay small.

  private readNodes(buf: Buffer, i: number, n: number): number {
    let v = this.numV;
    let d = this.numDigits;
    let k = this.nodeField;
    let ord = this.nodeOrd;
    let needComma = this.needComma;
    const stride = this.nodeStride;
    const roles = this.nodeRoles;
    let types = this.nodeType;
    let names = this.nodeName;
    let ids = this.nodeId;
    let sizes = this.nodeSelfSize;
    let firstEdge = this.firstEdge;
    let edgeTotal = this.edgeTotal;
    const detached = this.nodeDetachedness;
    // As in readEdges: a fast path over whole records, the byte loop for the rest.
    const safe = n - stride * 13;
    while (i < n) {
      if (k === 0 && d === 0 && !needComma && i < safe) {
        const cap = this.nodeCap;
        if (this.v8Nodes) {
          // In a method of its own, small enough for V8 to inline the field readers.
          this.nodeOrd = ord;
          this.edgeTotal = edgeTotal;
          i = this.readNodesV8(buf, i, safe);
          ord = this.nodeOrd;
          edgeTotal = this.edgeTotal;
          needComma = this.needComma;
        } else {
          fast: while (i < safe && ord < cap) {
            const start = i;
            const total = edgeTotal;
            for (let f = 0; f < stride; f++) {
              const x = scanNumber(buf, i);
              let bad = x < 0;
              if (!bad) {
                switch (roles[f]) {
                  case R_TYPE:
                    bad = x > 255;
                    types[ord] = x;
                    break;
                  case R_NAME:
                    bad = x > 0xffffffff;
                    names[ord] = x;
                    break;
                  case R_ID:
                    bad = x > 0xffffffff;
                    ids[ord] = x;
                    break;
                  case R_SELF_SIZE:
                    bad = x >= 0xffffffff;
                    sizes[ord] = x;
                    break;
                  case R_EDGE_COUNT:
                    edgeTotal += x;
                    bad = edgeTotal > 0xffffffff;
                    firstEdge[ord + 1] = edgeTotal;
                    break;
                  case R_TRACE:
                    bad = x > 0xffffffff;
                    if (x !== 0 && !bad) this.setTrace(ord, x, i);
                    break;
                  case R_DETACHED:
                    bad = x > 2;
                    detached![ord] = x;
                    break;
                }
              }
              if (bad) {
                // The byte loop reads this record again and reports what is wrong.
                i = start;
                edgeTotal = total;
                break fast;
              }
              i = scanEnd;
              const sep = separatorLength(buf, i);
              if (sep > 0) i += sep;
              else if (f === stride - 1) {
                ord++;
                needComma = true;
                break fast;
              } else {
                i = start;
                edgeTotal = total;
                break fast;
              }
            }
            ord++;
          }
        }
        if (i >= n) break;
      }
      const b = buf[i];
      if ((b - 48) >>> 0 < 10) {
        v = v * 10 + (b - 48);
        d++;
        i++;
        continue;
      }
      if (d > 0) {
        // needComma still set means two numbers without a comma between them.
        if (needComma || (d > 10 && v > 0xffffffff * 0x10000)) this.badNumber(buf, i, needComma);
        if (k === 0 && ord >= this.nodeCap) {
          this.growNodes(ord + 1);
          types = this.nodeType;
          names = this.nodeName;
          ids = this.nodeId;
          sizes = this.nodeSelfSize;
          firstEdge = this.firstEdge;
        }
        switch (roles[k]) {
          case R_TYPE:
            if (v > 255) this.outOfRange('node type', v, i);
            types[ord] = v;
            break;
          case R_NAME:
            if (v > 0xffffffff) this.outOfRange('node name', v, i);
            names[ord] = v;
            break;
          case R_ID:
            if (v > 0xffffffff) this.outOfRange('node id', v, i);
            ids[ord] = v;
            break;
          case R_SELF_SIZE:
            if (v >= 0xffffffff) this.bigSelfSize(ord, v, i);
            sizes[ord] = v >= 0xffffffff ? 0xffffffff : v;
            break;
          case R_EDGE_COUNT:
            edgeTotal += v;
            if (edgeTotal > 0xffffffff) this.outOfRange('edge total', edgeTotal, i);
            firstEdge[ord + 1] = edgeTotal;
            break;
          case R_TRACE:
            if (v !== 0) this.setTrace(ord, v, i);
            break;
          case R_DETACHED:
            if (v > 2) this.outOfRange('detachedness', v, i);
            this.nodeDetachedness![ord] = v;
            break;
        }
        if (++k === stride) {
          k = 0;
          ord++;
        }
        v = 0;
        d = 0;
        needComma = true;
      }
      if (b === 0x2c) {
        if (!needComma) this.badByte(buf, i);
        needComma = false;
      } else if (b === 0x5d) {
        if (!needComma && (ord > 0 || k > 0)) this.badByte(buf, i);
        this.nodeField = k;
        this.nodeOrd = ord;
        this.edgeTotal = edgeTotal;
        this.numV = 0;
        this.numDigits = 0;
        this.finishNumbers();
        return i + 1;
      } else if (!isWs(b)) this.badByte(buf, i);
      i++;
    }
    this.numV = v;
    this.numDigits = d;
    this.nodeField = k;
    this.nodeOrd = ord;
    this.needComma = needComma;
    this.edgeTotal = edgeTotal;
    return n;
  }

  /**
   * readNodes' fast path for V8's seven fields, unrolled: whole records from
   * `i` while they lie before `safe`. A failed check leaves the returned
   * index at the record's start; a record followed by anything but a
   * separator ends it with needComma set.
   */
  private readNodesV8(buf: Buffer, i: number, safe: number): number {
    const cap = this.nodeCap;
    const { nodeType: types, nodeName: names, nodeId: ids, nodeSelfSize: sizes, firstEdge } = this;
    const detached = this.nodeDetachedness!;
    let ord = this.nodeOrd;
    let edgeTotal = this.edgeTotal;
    this.needComma = false;
    while (i < safe && ord < cap) {
      const t = scanField(buf, i);
      if (t < 0 || t > 255) break;
      const name = scanField(buf, scanEnd);
      if (name < 0 || name > 0xffffffff) break;
      const id = scanField(buf, scanEnd);
      if (id < 0 || id > 0xffffffff) break;
      const size = scanField(buf, scanEnd);
      if (size < 0 || size >= 0xffffffff) break;
      const count = scanField(buf, scanEnd);
      if (count < 0 || edgeTotal + count > 0xffffffff) break;
      const trace = scanField(buf, scanEnd);
      if (trace < 0 || trace > 0xffffffff) break;
      const det = scanNumber(buf, scanEnd);
      if (det < 0 || det > 2) break;
      types[ord] = t;
      names[ord] = name;
      ids[ord] = id;
      sizes[ord] = size;
      edgeTotal += count;
      firstEdge[ord + 1] = edgeTotal;
      if (trace !== 0) this.setTrace(ord, trace, i);
      detached[ord] = det;
      ord++;
      const j = scanEnd;
      const sep = separatorLength(buf, j);
      if (sep === 0) {
        // A complete record followed by something else: the byte loop reads it.
        i = j;
        this.needComma = true;
        break;
      }
      i = j + sep;
    }
    this.nodeOrd = ord;
    this.edgeTotal = edgeTotal;
    return i;
  }

  private bigSelfSize(ord: number, v: number, i: number): void {
    this.bigSelfSizes.set(ord, v);
    this.bigSelfSizeAt.set(ord, this.base + i);
  }

  private setTrace(ord: number, v: number, i: number): void {
    // Allocated lazily: snapshots without allocation tracking have all zeros.
    if (!this.nodeTraceId) this.nodeTraceId = new Uint32Array(this.nodeCap);
    if (v > 0xffffffff) this.outOfRange('trace node id', v, i);
    this.nodeTraceId[ord] = v;
  }

  private readEdges(buf: Buffer, i: number, n: number): number {
    let v = this.numV;
    let d = this.numDigits;
    let k = this.edgeField;
    let e = this.edgeIdx;
    let needComma = this.needComma;
    const stride = this.edgeStride;
    const nodeStride = this.nodeStride;
    const roles = this.edgeRoles;
    let types = this.edgeType;
    let names = this.edgeName;
    let to = this.edgeTo;
    // Room for one whole record: each field at most 11 digits and 2 separator bytes.
    const safe = n - stride * 13;
    while (i < n) {
      if (k === 0 && d === 0 && !needComma && i < safe) {
        // Fast path over whole records in V8's layout ("1,2,3\n,"): no state
        // kept per byte. Anything else (long or out-of-range numbers, other
        // whitespace, the closing bracket, bad bytes) stops it at a record
        // start or after a complete record, for the byte loop below.
        const cap = this.edgeCap;
        if (this.v8Edges) {
          // V8's three fields, unrolled, as in readNodes.
          while (i < safe && e < cap) {
            const t = scanField(buf, i);
            if (t < 0 || t > 255) break;
            const name = scanField(buf, scanEnd);
            if (name < 0 || name > 0xffffffff) break;
            const x = scanNumber(buf, scanEnd);
            if (x < 0) break;
            const ord = (x / nodeStride) >>> 0;
            if (ord * nodeStride !== x) break;
            types[e] = t;
            names[e] = name;
            to[e] = ord;
            e++;
            const j = scanEnd;
            const sep = separatorLength(buf, j);
            if (sep === 0) {
              i = j;
              needComma = true;
              break;
            }
            i = j + sep;
          }
        } else {
          fast: while (i < safe && e < cap) {
            const start = i;
            for (let f = 0; f < stride; f++) {
              const x = scanNumber(buf, i);
              if (x < 0) {
                i = start;
                break fast;
              }
              i = scanEnd;
              const r = roles[f];
              if (r === R_TO) {
                const ord = (x / nodeStride) >>> 0;
                if (ord * nodeStride !== x) {
                  i = start;
                  break fast;
                }
                to[e] = ord;
              } else if (r === R_TYPE) {
                if (x > 255) {
                  i = start;
                  break fast;
                }
                types[e] = x;
              } else if (r === R_NAME) {
                if (x > 0xffffffff) {
                  i = start;
                  break fast;
                }
                names[e] = x;
              }
              const sep = separatorLength(buf, i);
              if (sep > 0) i += sep;
              else if (f === stride - 1) {
                // A complete record followed by something else: the byte loop reads it.
                e++;
                needComma = true;
                break fast;
              } else {
                i = start;
                break fast;
              }
            }
            e++;
          }
        }
        if (i >= n) break;
      }
      const b = buf[i];
      if ((b - 48) >>> 0 < 10) {
        v = v * 10 + (b - 48);
        d++;
        i++;
        continue;
      }
      if (d > 0) {
        // needComma still set means two numbers without a comma between them.
        if (needComma || (d > 10 && v > 0xffffffff * 0x10000)) this.badNumber(buf, i, needComma);
        if (k === 0 && e >= this.edgeCap) {
          this.growEdges(e + 1);
          types = this.edgeType;
          names = this.edgeName;
          to = this.edgeTo;
        }
        const r = roles[k];
        if (r === R_TO) {
          const ord = (v / nodeStride) >>> 0;
          if (ord * nodeStride !== v) this.outOfRange('edge to_node', v, i);
          to[e] = ord;
        } else if (r === R_TYPE) {
          if (v > 255) this.outOfRange('edge type', v, i);
          types[e] = v;
        } else if (r === R_NAME) {
          if (v > 0xffffffff) this.outOfRange('edge name', v, i);
          names[e] = v;
        }
        if (++k === stride) {
          k = 0;
          e++;
        }
        v = 0;
        d = 0;
        needComma = true;
      }
      if (b === 0x2c) {
        if (!needComma) this.badByte(buf, i);
        needComma = false;
      } else if (b === 0x5d) {
        if (!needComma && (e > 0 || k > 0)) this.badByte(buf, i);
        this.edgeField = k;
        this.edgeIdx = e;
        this.numV = 0;
        this.numDigits = 0;
        this.finishNumbers();
        return i + 1;
      } else if (!isWs(b)) this.badByte(buf, i);
      i++;
    }
    this.numV = v;
    this.numDigits = d;
    this.edgeField = k;
    this.edgeIdx = e;
    this.needComma = needComma;
    return n;
  }

  private anyValues(): boolean {
    if (this.kind === K_NODES) return this.nodeOrd > 0 || this.nodeField > 0;
    if (this.kind === K_EDGES) return this.edgeIdx > 0 || this.edgeField > 0;
    return this.generic!.length > 0;
  }

  private nodeValue(v: number, i: number): void {
    const k = this.nodeField;
    const ord = this.nodeOrd;
    if (k === 0 && ord >= this.nodeCap) this.growNodes(ord + 1);
    switch (this.nodeRoles[k]) {
      case R_TYPE:
        if (v > 255) throw this.error(`corrupt heap snapshot: node type ${v} out of range at byte ${this.base + i}`, i);
        this.nodeType[ord] = v;
        break;
      case R_NAME:
        if (v > 0xffffffff) throw this.error(`corrupt heap snapshot: node name index ${v} out of range at byte ${this.base + i}`, i);
        this.nodeName[ord] = v;
        break;
      case R_ID:
        if (v > 0xffffffff) throw this.error(`corrupt heap snapshot: node id ${v} out of range at byte ${this.base + i}`, i);
        this.nodeId[ord] = v;
        break;
      case R_SELF_SIZE:
        if (v >= 0xffffffff) {
          this.bigSelfSize(ord, v, i);
          this.nodeSelfSize[ord] = 0xffffffff;
        } else this.nodeSelfSize[ord] = v;
        break;
      case R_EDGE_COUNT:
        this.edgeTotal += v;
        if (this.edgeTotal > 0xffffffff) throw this.error(`corrupt heap snapshot: edge count overflow at byte ${this.base + i}`, i);
        this.firstEdge[ord + 1] = this.edgeTotal;
        break;
      case R_TRACE:
        if (v !== 0) {
          // Allocated lazily: snapshots without allocation tracking have all zeros.
          if (!this.nodeTraceId) this.nodeTraceId = new Uint32Array(this.nodeCap);
          this.nodeTraceId[ord] = v;
        }
        break;
      case R_DETACHED:
        if (v > 2) throw this.error(`corrupt heap snapshot: detachedness ${v} out of range at byte ${this.base + i}`, i);
        this.nodeDetachedness![ord] = v;
        break;
    }
    if (++this.nodeField === this.nodeStride) {
      this.nodeField = 0;
      this.nodeOrd = ord + 1;
    }
  }

  private edgeValue(v: number, i: number): void {
    const k = this.edgeField;
    const e = this.edgeIdx;
    if (k === 0 && e >= this.edgeCap) this.growEdges(e + 1);
    switch (this.edgeRoles[k]) {
      case R_TYPE:
        if (v > 255) throw this.error(`corrupt heap snapshot: edge type ${v} out of range at byte ${this.base + i}`, i);
        this.edgeType[e] = v;
        break;
      case R_NAME:
        if (v > 0xffffffff) throw this.error(`corrupt heap snapshot: edge name ${v} out of range at byte ${this.base + i}`, i);
        this.edgeName[e] = v;
        break;
      case R_TO: {
        const ord = v / this.nodeStride;
        if (ord !== Math.floor(ord) || ord > 0xffffffff) {
          throw this.error(`corrupt heap snapshot: edge to_node ${v} is not a node offset, at byte ${this.base + i}`, i);
        }
        this.edgeTo[e] = ord;
        break;
      }
    }
    if (++this.edgeField === this.edgeStride) {
      this.edgeField = 0;
      this.edgeIdx = e + 1;
    }
  }

  private finishNumbers(): void {
    if (this.kind === K_GENERIC) {
      const values = this.generic!.finish();
      this.generic = null;
      switch (this.section) {
        case 'nodes':
          this.rawNodes = values;
          break;
        case 'edges':
          this.rawEdges = values;
          break;
        case 'trace_function_infos':
          this.traceFunctionInfos = values;
          break;
        case 'samples':
          this.samples = values;
          break;
        case 'locations':
          this.locations = values;
          break;
      }
    }
    this.endSection();
  }

  // ---- strings ----

  private pushString(s: string, fullLength: number): void {
    if (fullLength > s.length) this.longStringLengths.set(this.strings.length, fullLength);
    this.strings.addDecoded(s);
  }

  private readStrings(buf: Buffer, i: number, n: number): number {
    const max = this.maxString;
    while (i < n) {
      if (this.strState === 2) {
        const j = this.strAcc.feed(buf, i, n, this.base);
        if (j < 0) return n;
        this.pushString(this.strAcc.value(max), this.strAcc.length);
        this.strState = 3;
        i = j;
        continue;
      }
      const b = buf[i];
      if (isWs(b)) {
        i++;
        continue;
      }
      if (this.strState === 0) {
        if (b !== 0x5b) throw this.error(`corrupt heap snapshot: expected '[' to start "strings" at byte ${this.base + i}, found ${show(b)}`, i);
        this.strState = 1;
        this.strAfterComma = false;
        i++;
      } else if (this.strState === 1) {
        if (b === 0x22) {
          // Fast path: a plain string wholly inside this chunk.
          let j = i + 1;
          while (j < n) {
            const c = buf[j];
            if (c === 0x22 || c === 0x5c) break;
            j++;
          }
          if (j < n && buf[j] === 0x22 && j - i <= FAST_STRING_BYTES) {
            // Kept as bytes; only a string that may pass the cap (UTF-16
            // units never outnumber bytes) is decoded to learn its length.
            if (j - i - 1 <= max) this.strings.addBytes(buf, i + 1, j, this.base + i);
            else {
              const s = buf.toString('utf8', i + 1, j);
              if (s.length > max) this.pushString(capString(s, max), s.length);
              else this.strings.addBytes(buf, i + 1, j, this.base + i);
            }
            this.strState = 3;
            i = j + 1;
          } else {
            this.strAcc.reset();
            this.strState = 2;
            i++;
          }
        } else if (b === 0x5d && !this.strAfterComma) {
          this.endSection();
          return i + 1;
        } else {
          throw this.error(`corrupt heap snapshot: expected a string at byte ${this.base + i} inside "strings", found ${show(b)}`, i);
        }
      } else {
        if (b === 0x2c) {
          this.strState = 1;
          this.strAfterComma = true;
        } else if (b === 0x5d) {
          this.endSection();
          return i + 1;
        } else {
          throw this.error(`corrupt heap snapshot: expected ',' or ']' at byte ${this.base + i} inside "strings", found ${show(b)}`, i);
        }
        i++;
      }
    }
    return i;
  }

  // ---- end of input ----

  private finish(): HeapSnapshot {
    const at = this.base;
    if (at === 0) throw new HeapSnapshotError('not a V8 heap snapshot: empty input', 0);
    if (this.mode !== M_TOP) {
      throw new HeapSnapshotError(`truncated heap snapshot: ended at byte ${at} inside "${this.section}"`, at);
    }
    if (this.top === T_OPEN) throw new HeapSnapshotError(`not a V8 heap snapshot: expected '{' at byte ${at}, found end of input`, at);
    if (this.top !== T_END) {
      throw new HeapSnapshotError(`truncated heap snapshot: ended at byte ${at} before the end of the top-level object`, at);
    }
    const meta = this.meta;
    if (!meta) throw new HeapSnapshotError(`not a V8 heap snapshot: no "snapshot" header (end at byte ${at})`, at);
    for (const key of ['nodes', 'edges', 'strings']) {
      if (!this.seen.has(key)) throw new HeapSnapshotError(`not a V8 heap snapshot: missing "${key}" (end at byte ${at})`, at);
    }
    // Replay sections that came before the header.
    if (this.rawNodes) {
      for (const v of this.rawNodes) this.nodeValue(v, 0);
      this.rawNodes = null;
    }
    if (this.rawEdges) {
      for (const v of this.rawEdges) this.edgeValue(v, 0);
      this.rawEdges = null;
    }
    const nodesAt = this.sectionStart.get('nodes') ?? -1;
    const edgesAt = this.sectionStart.get('edges') ?? -1;
    if (this.nodeField !== 0) {
      throw new HeapSnapshotError(`corrupt heap snapshot: "nodes" (at byte ${nodesAt}) length is not a multiple of ${this.nodeStride} fields`, nodesAt);
    }
    if (this.edgeField !== 0) {
      throw new HeapSnapshotError(`corrupt heap snapshot: "edges" (at byte ${edgesAt}) length is not a multiple of ${this.edgeStride} fields`, edgesAt);
    }
    const nodeCount = this.nodeOrd;
    const edgeCount = this.edgeIdx;
    if (nodeCount === 0) throw new HeapSnapshotError(`corrupt heap snapshot: "nodes" (at byte ${nodesAt}) is empty`, nodesAt);
    if (this.edgeTotal !== edgeCount) {
      throw new HeapSnapshotError(`corrupt heap snapshot: nodes declare ${this.edgeTotal} edges but "edges" (at byte ${edgesAt}) holds ${edgeCount}`, edgesAt);
    }
    // V8 writes the exact counts in the header; a header that disagrees (a
    // negative, fractional or huge count) is not one of its files.
    for (const [key, declared, actual, at] of [['node_count', meta.nodeCount, nodeCount, nodesAt], ['edge_count', meta.edgeCount, edgeCount, edgesAt]] as const) {
      if (declared !== -1 && declared !== actual) {
        throw new HeapSnapshotError(`corrupt heap snapshot: header says ${key} ${declared} but the file holds ${actual} (at byte ${at})`, at);
      }
    }
    const fit = <T extends Uint8Array | Uint32Array>(a: T, len: number): T => (a.length === len ? a : (a.slice(0, len) as T));
    const data: SnapshotData = {
      meta,
      nodeCount,
      edgeCount,
      nodeType: fit(this.nodeType, nodeCount),
      nodeName: fit(this.nodeName, nodeCount),
      nodeId: fit(this.nodeId, nodeCount),
      nodeSelfSize: fit(this.nodeSelfSize, nodeCount),
      bigSelfSizes: this.bigSelfSizes,
      firstEdge: fit(this.firstEdge, nodeCount + 1),
      nodeTraceId: this.nodeTraceId ? fit(this.nodeTraceId, nodeCount) : null,
      nodeDetachedness: this.nodeDetachedness ? fit(this.nodeDetachedness, nodeCount) : null,
      edgeType: fit(this.edgeType, edgeCount),
      edgeNameOrIndex: fit(this.edgeName, edgeCount),
      edgeTo: fit(this.edgeTo, edgeCount),
      strings: this.strings.finish(),
      longStringLengths: this.longStringLengths,
      traceFunctionInfos: this.traceFunctionInfos ?? new Float64Array(0),
      traceTree: this.trace.finish(),
      samples: this.samples ?? new Float64Array(0),
      locations: this.locations ?? new Float64Array(0),
    };
    validate(data, nodesAt, edgesAt, this.bigSelfSizeAt);
    return new HeapSnapshot(data);
  }
}

/** Cross-checks indexes so that later graph walks cannot go out of bounds. */
function validate(d: SnapshotData, nodesAt: number, edgesAt: number, bigSelfSizeAt: Map<number, number>): void {
  const { nodeCount, edgeCount, meta } = d;
  const stringCount = d.strings.length;
  const nodeTypes = meta.nodeTypes.length || 256;
  // The biggest V8 heap objects (strings, FixedArrays) stay under 1 GiB, so a
  // size of 4 GiB or more is a lie unless the node is native memory outside
  // the heap (an ArrayBuffer's backing store can be that big).
  const native = meta.nodeTypes.indexOf('native');
  for (const [k, size] of d.bigSelfSizes) {
    if (k < nodeCount && d.nodeType[k] !== native) {
      const at = bigSelfSizeAt.get(k) ?? nodesAt;
      const type = meta.nodeTypes[d.nodeType[k]] ?? String(d.nodeType[k]);
      throw new HeapSnapshotError(`corrupt heap snapshot: node ${k} (${type}) has self size ${size} at byte ${at}; no V8 heap object is 4 GiB or more`, at);
    }
  }
  for (let k = 0; k < nodeCount; k++) {
    if (d.nodeName[k] >= stringCount) {
      throw new HeapSnapshotError(`corrupt heap snapshot: node ${k} names string ${d.nodeName[k]} but there are ${stringCount} strings ("nodes" at byte ${nodesAt})`, nodesAt);
    }
    if (d.nodeType[k] >= nodeTypes) throw new HeapSnapshotError(`corrupt heap snapshot: node ${k} has unknown type ${d.nodeType[k]} ("nodes" at byte ${nodesAt})`, nodesAt);
  }
  const element = meta.edgeTypes.indexOf('element');
  const hidden = meta.edgeTypes.indexOf('hidden');
  const edgeTypes = meta.edgeTypes.length || 256;
  for (let e = 0; e < edgeCount; e++) {
    if (d.edgeTo[e] >= nodeCount) {
      throw new HeapSnapshotError(`corrupt heap snapshot: edge ${e} points to node ${d.edgeTo[e]} but there are ${nodeCount} nodes ("edges" at byte ${edgesAt})`, edgesAt);
    }
    const t = d.edgeType[e];
    if (t >= edgeTypes) throw new HeapSnapshotError(`corrupt heap snapshot: edge ${e} has unknown type ${t} ("edges" at byte ${edgesAt})`, edgesAt);
    if (t !== element && t !== hidden && d.edgeNameOrIndex[e] >= stringCount) {
      throw new HeapSnapshotError(`corrupt heap snapshot: edge ${e} names string ${d.edgeNameOrIndex[e]} but there are ${stringCount} strings ("edges" at byte ${edgesAt})`, edgesAt);
    }
  }
}

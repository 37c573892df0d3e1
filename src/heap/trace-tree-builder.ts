import type { Buffer } from 'node:buffer';
import type { TraceTreeData } from './data.js';
import { HeapSnapshotError } from './errors.js';
import { Growable } from './growable.js';

const DEFAULT_FIELDS = ['id', 'function_info_index', 'count', 'size', 'children'];

/**
 * Incremental reader for `trace_tree`: nested arrays whose records are
 * `trace_node_fields` long, one field ("children") being the array of child
 * records. Records are flattened into parallel arrays with parent links, so that
 * a traceback is a walk up `parent` with no objects per trace node.
 */
export class TraceTreeBuilder {
  complete = false;
  private stride = 5;
  private childrenField = 4;
  private roles: number[] = [];
  private started = false;
  private stack: number[] = [];
  private field = 0;
  private current = -1;
  private v = 0;
  private digits = 0;
  private readonly id = new Growable(Uint32Array);
  private readonly fn = new Growable(Uint32Array);
  private readonly count = new Growable(Float64Array);
  private readonly size = new Growable(Float64Array);
  private readonly parent = new Growable(Uint32Array);

  begin(fields: string[] | null): void {
    const f = fields && fields.includes('children') ? fields : DEFAULT_FIELDS;
    this.stride = f.length;
    this.childrenField = f.indexOf('children');
    // 1 id, 2 function_info_index, 3 count, 4 size, 0 other
    this.roles = f.map((x) => (x === 'id' ? 1 : x === 'function_info_index' ? 2 : x === 'count' ? 3 : x === 'size' ? 4 : 0));
  }

  private fail(msg: string, at: number): never {
    throw new HeapSnapshotError(`corrupt heap snapshot: ${msg} at byte ${at} inside "trace_tree"`, at);
  }

  /** Consumes bytes; sets `complete` and returns the index after the final ']'. */
  read(buf: Buffer, i: number, n: number, base: number): number {
    let v = this.v;
    let d = this.digits;
    for (; i < n; i++) {
      const b = buf[i];
      const digit = b - 48;
      if (digit >= 0 && digit <= 9) {
        v = v * 10 + digit;
        d++;
        continue;
      }
      if (d > 0) {
        if (d > 15) this.fail('number too large', base + i);
        this.value(v, base + i);
        v = 0;
        d = 0;
      }
      if (b === 0x2c || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
      if (b === 0x5b) {
        if (!this.started) {
          this.started = true;
          this.stack.push(-1);
        } else if (this.field === this.childrenField && this.current >= 0) {
          this.stack.push(this.current);
          this.field = 0;
          this.current = -1;
        } else this.fail("unexpected '['", base + i);
        continue;
      }
      if (b === 0x5d && this.started) {
        if (this.field !== 0) this.fail('incomplete trace node', base + i);
        const closed = this.stack.pop()!;
        if (this.stack.length === 0) {
          this.complete = true;
          this.v = 0;
          this.digits = 0;
          return i + 1;
        }
        // Back in the parent's record, just after its children array.
        this.current = closed;
        this.field = (this.childrenField + 1) % this.stride;
        continue;
      }
      this.fail(`unexpected '${String.fromCharCode(b)}'`, base + i);
    }
    this.v = v;
    this.digits = d;
    return n;
  }

  private value(v: number, at: number): void {
    if (!this.started || this.field === this.childrenField) this.fail('expected a children array', at);
    if (this.field === 0) {
      this.current = this.id.length;
      this.id.push(0);
      this.fn.push(0);
      this.count.push(0);
      this.size.push(0);
      this.parent.push(this.stack[this.stack.length - 1] >>> 0);
    }
    const c = this.current;
    switch (this.roles[this.field]) {
      case 1:
        this.id.array[c] = v;
        break;
      case 2:
        this.fn.array[c] = v;
        break;
      case 3:
        this.count.array[c] = v;
        break;
      case 4:
        this.size.array[c] = v;
        break;
    }
    this.field = (this.field + 1) % this.stride;
  }

  finish(): TraceTreeData {
    const parentU = this.parent.finish();
    return {
      id: this.id.finish(),
      functionInfoIndex: this.fn.finish(),
      count: this.count.finish(),
      size: this.size.finish(),
      parent: new Int32Array(parentU.buffer, parentU.byteOffset, parentU.length),
    };
  }
}

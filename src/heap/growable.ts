// Growable typed arrays. When the snapshot header announces node/edge counts
// (V8 writes `snapshot` first) the parser allocates exact sizes up front, so
// growing only happens for odd key orders or missing counts.

type TypedArrayCtor<T> = { new (length: number): T };

/** A typed array that doubles its capacity when full; `length` is the used size. */
export class Growable<T extends Uint8Array | Uint32Array | Float64Array> {
  array: T;
  length = 0;
  private readonly ctor: TypedArrayCtor<T>;

  constructor(ctor: TypedArrayCtor<T>, capacity = 1024) {
    this.ctor = ctor;
    this.array = new ctor(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.array.length) this.grow(this.length + 1);
    this.array[this.length++] = value;
  }

  /** Ensures room for at least `needed` elements. */
  grow(needed: number): void {
    if (needed <= this.array.length) return;
    let cap = this.array.length * 2;
    while (cap < needed) cap *= 2;
    const next = new this.ctor(cap);
    next.set(this.array.subarray(0, this.length) as never);
    this.array = next;
  }

  /** The used part. Copies only if a lot of capacity would otherwise be wasted. */
  finish(): T {
    if (this.array.length === this.length) return this.array;
    if (this.array.length - this.length < 4096 && this.length > 0) return this.array.subarray(0, this.length) as T;
    return this.array.slice(0, this.length) as T;
  }
}

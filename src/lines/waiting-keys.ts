/**
 * String samples waiting for their first key operation, looked up by length
 * and content hash. An open-addressing table in a typed array: its backing
 * store is off V8's heap, so a million waiting samples add nothing there
 * for the program's own figures to include (a Map of arrays would add about
 * 100 bytes each).
 *
 * @module
 */

const EMPTY = -1;
const GONE = -2;
// Each entry: slot, length, hash.
const WIDTH = 3;
const MIN_CAPACITY = 64;

export class WaitingKeys {
  /** Waiting samples by string length: what key wrappers read before calling in. */
  readonly lengths: Uint32Array;
  private table = new Int32Array(MIN_CAPACITY * WIDTH).fill(EMPTY);
  private capacity = MIN_CAPACITY;
  /** Entries in use, removed ones included (they lengthen probes until the next rehash). */
  private filled = 0;
  private count = 0;

  constructor(maxLength: number) {
    this.lengths = new Uint32Array(maxLength + 1);
  }

  add(slot: number, length: number, hash: number): void {
    if ((this.filled + 1) * 2 > this.capacity) this.rehash();
    let i = this.start(length, hash);
    while (this.table[i * WIDTH] >= 0) i = (i + 1) & (this.capacity - 1);
    if (this.table[i * WIDTH] === EMPTY) this.filled++;
    this.table[i * WIDTH] = slot;
    this.table[i * WIDTH + 1] = length;
    this.table[i * WIDTH + 2] = hash;
    this.count++;
    this.lengths[length]++;
  }

  /** Removes and returns a waiting sample with this length and hash, or -1. */
  take(length: number, hash: number): number {
    for (let i = this.start(length, hash); ; i = (i + 1) & (this.capacity - 1)) {
      const slot = this.table[i * WIDTH];
      if (slot === EMPTY) return -1;
      if (slot >= 0 && this.table[i * WIDTH + 1] === length && this.table[i * WIDTH + 2] === hash) {
        this.table[i * WIDTH] = GONE;
        this.count--;
        this.lengths[length]--;
        return slot;
      }
    }
  }

  clear(): void {
    if (this.filled === 0) return;
    if (this.capacity > MIN_CAPACITY) {
      this.capacity = MIN_CAPACITY;
      this.table = new Int32Array(MIN_CAPACITY * WIDTH);
    }
    this.table.fill(EMPTY);
    this.lengths.fill(0);
    this.filled = 0;
    this.count = 0;
  }

  private start(length: number, hash: number): number {
    return Math.imul(hash ^ length, 0x9e3779b1) >>> 0 & (this.capacity - 1);
  }

  /** At most a quarter full after: removed entries are dropped, the table doubles when live ones need it. */
  private rehash(): void {
    const old = this.table;
    const oldCapacity = this.capacity;
    while (this.capacity < (this.count + 1) * 4) this.capacity *= 2;
    this.table = new Int32Array(this.capacity * WIDTH).fill(EMPTY);
    this.filled = 0;
    this.count = 0;
    this.lengths.fill(0);
    for (let i = 0; i < oldCapacity; i++) if (old[i * WIDTH] >= 0) this.add(old[i * WIDTH], old[i * WIDTH + 1], old[i * WIDTH + 2]);
  }
}

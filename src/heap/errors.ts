/**
 * Error thrown for input that is not a readable V8 heap snapshot.
 *
 * The message is one line and names the problem; `offset` is the byte offset in
 * the input where it was detected (or -1 when the problem is not tied to a byte,
 * e.g. an inconsistency found after parsing).
 */
export class HeapSnapshotError extends Error {
  /** Byte offset in the input where the problem was detected, -1 if unknown. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'HeapSnapshotError';
    this.offset = offset;
  }
}

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
    // Messages quote keys read from the input: escape control characters so
    // that a hostile key cannot break the message over several lines.
    super(message.replace(/[\u0000-\u001f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    this.name = 'HeapSnapshotError';
    this.offset = offset;
  }
}

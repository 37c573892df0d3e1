import { open } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { HeapSnapshotError } from './errors.js';
import { HeapSnapshotParser, type HeapSnapshotParserOptions } from './parser.js';
import type { HeapSnapshot } from './snapshot.js';

/** Options of {@link readHeapSnapshot}. */
export interface ReadHeapSnapshotOptions extends HeapSnapshotParserOptions {
  /** Read size in bytes (default 8 MiB): big reads keep per-chunk overhead negligible. */
  chunkSize?: number;
}

/**
 * Reads and parses a `.heapsnapshot` file, streaming it through
 * {@link HeapSnapshotParser} with one reused read buffer.
 *
 * @throws HeapSnapshotError if the file is not a complete V8 heap snapshot.
 */
export async function readHeapSnapshot(path: string, options?: ReadHeapSnapshotOptions): Promise<HeapSnapshot> {
  const size = Math.max(4096, options?.chunkSize ?? 8 * 1024 * 1024);
  const fh = await open(path, 'r');
  try {
    const parser = new HeapSnapshotParser({ ...options, inputBytes: options?.inputBytes ?? (await fh.stat()).size });
    // The parser copies whatever it keeps, so one buffer serves every read.
    const buf = Buffer.allocUnsafe(size);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, size, null);
      if (bytesRead === 0) break;
      parser.write(bytesRead === size ? buf : buf.subarray(0, bytesRead));
    }
    return parser.end();
  } finally {
    await fh.close();
  }
}

export { HeapSnapshotError };

// Runs in a worker thread started by readHeapSnapshot: reads the "edges"
// section of the file while the main thread reads everything else.
import { open } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import { HeapSnapshotError } from './errors.js';
import { type EdgeColumns, HeapSnapshotParser } from './parser.js';

/** What the main thread passes. */
export interface EdgesWorkerData {
  path: string;
  chunkSize: number;
  inputBytes: number;
  /** Columns in shared memory (posted without a copy), else transferred. */
  shared: boolean;
}

/** What the worker posts: progress, then the columns or the error. */
export type EdgesWorkerMessage =
  | { kind: 'progress'; bytes: number }
  | { kind: 'edges'; columns: EdgeColumns | null }
  | { kind: 'error'; message: string; offset: number; heap: boolean };

const post = (m: EdgesWorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);

async function main(d: EdgesWorkerData): Promise<void> {
  const fh = await open(d.path, 'r');
  try {
    const parser = new HeapSnapshotParser({ edges: 'only', inputBytes: d.inputBytes, shared: d.shared });
    const buf = Buffer.allocUnsafe(d.chunkSize);
    while (!parser.edgesDone) {
      const { bytesRead } = await fh.read(buf, 0, d.chunkSize, null);
      if (bytesRead === 0) break;
      parser.write(bytesRead === d.chunkSize ? buf : buf.subarray(0, bytesRead));
      post({ kind: 'progress', bytes: parser.bytesRead });
    }
    // Ended without the section: the main thread finds the same and says so.
    const columns = parser.edgeColumns();
    post({ kind: 'edges', columns }, columns && !d.shared ? [columns.type.buffer, columns.name.buffer, columns.to.buffer] : []);
  } finally {
    await fh.close();
  }
}

main(workerData as EdgesWorkerData).catch((e: unknown) => {
  const heap = e instanceof HeapSnapshotError;
  post({ kind: 'error', message: e instanceof Error ? e.message : String(e), offset: heap ? e.offset : -1, heap });
});

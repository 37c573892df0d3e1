import { open } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { Worker } from 'node:worker_threads';
import { HeapSnapshotError } from './errors.js';
import type { EdgesWorkerData, EdgesWorkerMessage } from './edges-thread.js';
import { type EdgeColumns, HeapSnapshotParser, type HeapSnapshotParserOptions } from './parser.js';
import type { HeapSnapshot } from './snapshot.js';

/** Options of {@link readHeapSnapshot}. */
export interface ReadHeapSnapshotOptions extends HeapSnapshotParserOptions {
  /** Read size in bytes (default 8 MiB): big reads keep per-chunk overhead negligible. */
  chunkSize?: number;
  /**
   * Read the "edges" section (usually over half of the file) in a worker
   * thread while this thread reads the rest. Default: for files of
   * {@link PARALLEL_MIN_BYTES} or more. The node and edge columns are then in
   * shared memory, so that {@link HeapSnapshot.prepare} can also search the
   * distances on a second thread. The result is the same either way.
   */
  parallel?: boolean;
}

/** Below this size a second thread costs more to start than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Reads and parses a `.heapsnapshot` file, streaming it through
 * {@link HeapSnapshotParser} with one reused read buffer; a big file's edges
 * are read by a worker thread at the same time (`parallel`).
 *
 * @throws HeapSnapshotError if the file is not a complete V8 heap snapshot.
 */
export async function readHeapSnapshot(path: string, options?: ReadHeapSnapshotOptions): Promise<HeapSnapshot> {
  const size = Math.max(64, options?.chunkSize ?? 8 * 1024 * 1024);
  const fh = await open(path, 'r');
  let edges: EdgesReader | null = null;
  try {
    const inputBytes = options?.inputBytes ?? (await fh.stat()).size;
    const parallel = options?.parallel ?? inputBytes >= PARALLEL_MIN_BYTES;
    const progress = options?.onProgress;
    if (parallel) edges = new EdgesReader({ path, chunkSize: size, inputBytes, shared: true }, progress);
    const parser = new HeapSnapshotParser({ ...options, inputBytes, edges: parallel ? 'elsewhere' : 'read', shared: parallel, onProgress: edges ? (b) => edges!.mainRead(b) : progress });
    // The parser copies whatever it keeps, so one buffer serves every read.
    const buf = Buffer.allocUnsafe(size);
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, size, null);
        if (bytesRead === 0) break;
        parser.write(bytesRead === size ? buf : buf.subarray(0, bytesRead));
      }
      if (parser.needsEdges) {
        const columns = await edges!.columns();
        if (columns) parser.adoptEdges(columns);
      }
      return parser.end();
    } catch (e) {
      // Report the first problem in the file, as one thread reading it would.
      // Only the edges lie with the worker: an error before them needs no wait.
      if (edges && e instanceof HeapSnapshotError && parser.needsEdges && e.offset > parser.edgesAt) throw await edges.earlierError(e);
      throw e;
    }
  } finally {
    await edges?.close();
    await fh.close();
  }
}

/** The worker thread that reads the edges section, seen from the main thread. */
class EdgesReader {
  private readonly worker: Worker;
  private readonly result: Promise<EdgeColumns | null | HeapSnapshotError>;
  private mainBytes = 0;
  private workerBytes = 0;
  private workerDone = false;

  constructor(
    data: EdgesWorkerData,
    private readonly onProgress: ((bytes: number) => void) | undefined,
  ) {
    this.worker = new Worker(new URL('./edges-thread.js', import.meta.url), { workerData: data });
    this.result = new Promise((resolve) => {
      this.worker.on('message', (m: EdgesWorkerMessage) => {
        if (m.kind === 'progress') {
          this.workerBytes = m.bytes;
          this.report();
          return;
        }
        this.workerDone = true;
        this.report();
        if (m.kind === 'edges') resolve(m.columns);
        else if (m.heap) resolve(new HeapSnapshotError(m.message, m.offset));
        else resolve(new HeapSnapshotError(`cannot read the edges: ${m.message}`, -1));
      });
      this.worker.on('error', (e) => resolve(new HeapSnapshotError(`cannot read the edges: ${e.message}`, -1)));
      this.worker.on('exit', () => resolve(new HeapSnapshotError('cannot read the edges: the worker thread ended', -1)));
    });
  }

  /** Progress is the slower reader's position: both must pass a byte for it to be read. */
  mainRead(bytes: number): void {
    this.mainBytes = bytes;
    this.report();
  }

  private report(): void {
    this.onProgress?.(this.workerDone ? this.mainBytes : Math.min(this.mainBytes, this.workerBytes));
  }

  async columns(): Promise<EdgeColumns | null> {
    const r = await this.result;
    if (r instanceof HeapSnapshotError) throw r;
    return r;
  }

  /** The worker's error when it lies before `e` in the file, else `e`. */
  async earlierError(e: HeapSnapshotError): Promise<HeapSnapshotError> {
    const r = await this.result;
    return r instanceof HeapSnapshotError && r.offset >= 0 && (e.offset < 0 || r.offset < e.offset) ? r : e;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export { HeapSnapshotError };

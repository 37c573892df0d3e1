import { Worker } from 'node:worker_threads';
import type { DistanceGraph } from './distances.js';
import type { RetainerIndex } from './retainers.js';

/** What the graph thread reads: every array in shared memory. */
export interface GraphThreadInput {
  graph: DistanceGraph;
  /** Bits from `initEssentialEdges`. */
  essential: Uint8Array;
  edgeCount: number;
  root: number;
}

/** What the graph thread posts, in this order. */
export type GraphThreadMessage = { kind: 'retainers'; first: Uint32Array; source: Uint32Array } | { kind: 'distances'; dist: Uint32Array };

/** The results of a graph thread, each as soon as it is ready. */
export interface GraphThread {
  retainers: Promise<RetainerIndex>;
  distances: Promise<Uint32Array>;
}

/** Whether a worker thread can read this array without a copy. */
export function isShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/** A copy of `a` in shared memory. */
export function sharedCopy(a: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(a.length));
  out.set(a);
  return out;
}

/**
 * Builds the retainer index and then searches the distances on a worker
 * thread (`graph-thread.ts`); the results are transferred back, not copied.
 * Both promises reject if the thread fails.
 */
export function startGraphThread(input: GraphThreadInput): GraphThread {
  const worker = new Worker(new URL('./graph-thread.js', import.meta.url), { workerData: input });
  const rejects: ((e: Error) => void)[] = [];
  let gotRetainers: (r: RetainerIndex) => void = () => undefined;
  let gotDistances: (d: Uint32Array) => void = () => undefined;
  const retainers = new Promise<RetainerIndex>((resolve, reject) => {
    gotRetainers = resolve;
    rejects.push(reject);
  });
  const distances = new Promise<Uint32Array>((resolve, reject) => {
    gotDistances = resolve;
    rejects.push(reject);
  });
  // Caught here too: a caller that awaits one result must not leave the other unhandled.
  retainers.catch(() => undefined);
  distances.catch(() => undefined);
  // Rejecting a settled promise does nothing: a failure reaches what is still pending.
  const fail = (e: Error): void => rejects.forEach((reject) => reject(e));
  worker.on('message', (m: GraphThreadMessage) => {
    if (m.kind === 'retainers') gotRetainers({ first: m.first, source: m.source });
    else {
      gotDistances(m.dist);
      void worker.terminate();
    }
  });
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`the graph thread ended (exit code ${code})`)));
  return { retainers, distances };
}

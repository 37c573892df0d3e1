// Runs in a worker thread started by startGraphThread: the retainer index,
// then the distance search, over columns in shared memory, while the main
// thread searches and computes the dominators.
import { parentPort, workerData } from 'node:worker_threads';
import { computeDistances } from './distances.js';
import { buildRetainers } from './retainers.js';
import type { GraphThreadInput, GraphThreadMessage } from './second-thread.js';

const { graph, essential, edgeCount, root } = workerData as GraphThreadInput;
const post = (m: GraphThreadMessage, transfer: ArrayBuffer[]): void => parentPort!.postMessage(m, transfer);
const r = buildRetainers({ ...graph, edgeCount }, essential);
post({ kind: 'retainers', first: r.first, source: r.source }, [r.first.buffer as ArrayBuffer, r.source.buffer as ArrayBuffer]);
const dist = computeDistances(graph, root);
post({ kind: 'distances', dist }, [dist.buffer as ArrayBuffer]);

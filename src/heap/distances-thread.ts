// Runs in a worker thread started by distancesInWorker: the distance search
// over columns in shared memory, while the main thread computes dominators.
import { parentPort, workerData } from 'node:worker_threads';
import { computeDistances, type DistanceGraph } from './distances.js';

const { graph, root } = workerData as { graph: DistanceGraph; root: number };
const dist = computeDistances(graph, root);
parentPort!.postMessage(dist, [dist.buffer as ArrayBuffer]);

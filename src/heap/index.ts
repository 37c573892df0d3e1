/**
 * Heap snapshot engine: streaming `.heapsnapshot` parser, graph API
 * (retainers, distances, dominators, retained sizes, retainer paths,
 * allocation tracebacks), census and diff.
 */
export { HeapSnapshotError } from './errors.js';
export { HeapSnapshotParser, type HeapSnapshotParserOptions } from './parser.js';
export { readHeapSnapshot, type ReadHeapSnapshotOptions } from './read.js';
export { HeapSnapshot, type HeapEdge, type RetainerPathStep } from './snapshot.js';
export { backingStores, BACKING_STORE_NODE } from './backing-stores.js';
export type { HeapSnapshotMeta } from './meta.js';
export type { SnapshotData, TraceTreeData } from './data.js';
export type { AllocationFrame } from './traces.js';
export type { DominatorTree } from './dominators.js';
export { NON_ESSENTIAL, SOURCE_MASK, type RetainerIndex } from './retainers.js';
export type { IdIndex } from './id-index.js';
export { NO_DISTANCE, SYSTEM_DISTANCE_BASE } from './distances.js';
export { retainerPathText, isIndexEdge } from './path-text.js';
export { census, type Census, type CensusGroup, type CensusObject, type CensusOptions, type DuplicatedString } from './census.js';
export { preview, valueSummary, type PreviewOptions } from './preview.js';
export { compareIds, DifferentProcessesError, diffSnapshots, type SnapshotDiff, type ConstructorDiff, type SiteDiff, type DiffEntry, type DiffOptions } from './diff.js';

/**
 * The tracemalloc object model, mirroring Python's `tracemalloc` module:
 * frames, tracebacks, traces, statistics, filters and snapshots. Pure data
 * and formatting; no V8 access (only source files and dump files are read).
 *
 * @module
 */
export { Frame, formatFrameWithFunction, compareCodePoints } from './frame.js';
export { Traceback, type FormatOptions } from './traceback.js';
export { Trace, type TraceEstimate } from './trace.js';
export {
  Statistic,
  StatisticDiff,
  sortStatistics,
  sortStatisticDiffs,
  estimateInterval,
  type StatisticEstimate,
  type StatisticDiffEstimate,
  type DiffEstimateInput,
} from './statistic.js';
export { Filter, fnmatch, globToRegExp, passesFilters, type FilterOptions } from './filter.js';
export { Snapshot, KEY_TYPES, type KeyType, type StatisticsOptions } from './snapshot.js';
export { type SnapshotMeta, type SnapshotMode, type ProcessMemory, MAX_TRACEBACK_FRAMES } from './meta.js';
export { formatSize, formatFixed, formatInt, formatCount } from './format-size.js';
export {
  DUMP_FORMAT,
  DUMP_VERSION,
  encodeSnapshot,
  decodeSnapshot,
  type DumpDocument,
  type DumpFrame,
  type DumpTraceback,
  type DumpTrace,
  type SnapshotParts,
} from './dump.js';
export { getSourceLine, clearSourceCache } from './source-lines.js';

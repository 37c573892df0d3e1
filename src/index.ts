/**
 * tracemalloc for Node.js: Python's tracemalloc API over V8's sampling heap
 * profiler and allocation tracker, plus a heap snapshot engine.
 *
 * @packageDocumentation
 */
export {
  start,
  stop,
  isTracing,
  takeSnapshot,
  getTracedMemory,
  getProcessMemory,
  resetPeak,
  clearTraces,
  getTracebackLimit,
  getTracemallocMemory,
  getObjectTraceback,
  DEFAULT_SAMPLING_INTERVAL,
  DEFAULT_LINE_SAMPLE_EVERY,
  type StartOptions,
  type LineOptions,
  type TraceMode,
} from './tracer/tracer.js';
export * from './model/index.js';
export { getObjects, type ObjectGroup, type GetObjectsOptions } from './tracer/objects.js';
export * from './heap/index.js';
export { SourceMapResolver, type OriginalPosition } from './sourcemap/index.js';
export { writeRunSnapshot } from './agent/run-hooks.js';
export { snapshotBeforeOom, type BeforeOomOptions, type BeforeOomWatch } from './agent/before-oom.js';
export { servePprof, DEFAULT_PPROF_PORT, type PprofServer, type PprofServerOptions } from './agent/pprof-server.js';
export * from './leaks/index.js';

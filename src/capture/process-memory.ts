import { getHeapCodeStatistics, getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

/** The process's memory as Node and V8 count it, in bytes (see `getProcessMemory()`). */
export interface RawProcessMemory {
  rss: number;
  heapCommitted: number;
  heapUsed: number;
  spaces: Array<{ name: string; size: number; used: number }>;
  arrayBuffers: number;
  external: number;
  code: number;
}

/** Read Node's and V8's own counters; cheap (no GC, no walk of the heap). */
export function readProcessMemory(): RawProcessMemory {
  const usage = process.memoryUsage();
  const heap = getHeapStatistics();
  const code = getHeapCodeStatistics();
  return {
    rss: usage.rss,
    heapCommitted: heap.total_physical_size,
    heapUsed: heap.used_heap_size,
    spaces: getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.physical_space_size, used: s.space_used_size })),
    arrayBuffers: usage.arrayBuffers,
    external: usage.external,
    code: code.code_and_metadata_size + code.bytecode_and_metadata_size,
  };
}

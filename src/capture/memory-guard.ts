import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/** What a heap snapshot would need and what the machine has, in bytes. */
export interface SnapshotBudget {
  heapUsed: number;
  needed: number;
  available: number;
}

// V8 builds the snapshot graph and serialises it outside the JS heap: about
// twice the used heap (Node's documentation); the streaming parser adds about
// as much again in typed arrays.
const NEED_PER_HEAP_BYTE = 3;

/** Free memory: the smaller of the machine's and the container's (cgroup v2). */
function availableMemory(): number {
  let available = freemem();
  try {
    const max = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (max !== 'max') {
      const current = Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim());
      available = Math.min(available, Number(max) - current);
    }
  } catch {
    // No cgroup v2 limit to honour.
  }
  return available;
}

/** The budget of a heap snapshot now. */
export function snapshotBudget(): SnapshotBudget {
  const heapUsed = getHeapStatistics().used_heap_size;
  return { heapUsed, needed: heapUsed * NEED_PER_HEAP_BYTE, available: availableMemory() };
}

const MiB = 1024 * 1024;

/**
 * Refuse a heap snapshot that would likely run the process out of memory:
 * a profiler must not kill the program it measures. The error says what to
 * do instead.
 */
export function checkSnapshotBudget(budget: SnapshotBudget = snapshotBudget()): void {
  if (budget.needed > budget.available) {
    throw new Error(
      `tracemalloc: not taking a heap snapshot: it needs about ${Math.round(budget.needed / MiB)} MiB ` +
        `(${Math.round(budget.heapUsed / MiB)} MiB heap) but only ${Math.round(budget.available / MiB)} MiB is free; ` +
        `use sampling mode (start({ mode: 'sampling' })) or free memory first`,
    );
  }
}

import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

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
const MiB = 1024 * 1024;

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

// ---- how near the heap and the container are to their limits (agent/before-oom.ts) ----

/** `--name=N` or `--name N` (MiB) in the process's V8 options, `-`/`_` alike, the last one winning. */
function flagMiB(name: string): number | null {
  const words = [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv];
  let value: number | null = null;
  for (let i = 0; i < words.length; i++) {
    const word = words[i].replaceAll('_', '-');
    if (word === `--${name}`) value = Number(words[i + 1]);
    else if (word.startsWith(`--${name}=`)) value = Number(word.slice(name.length + 3));
  }
  return value !== null && Number.isFinite(value) && value > 0 ? value : null;
}

/**
 * The old generation's limit, where V8 dies: `heap_size_limit` less the
 * young generation, which is three semi-spaces. Without
 * `--max-semi-space-size`, a semi-space is at most 16 MiB up to V8 12, 64
 * MiB on V8 13 and 32 MiB on V8 14 (measured: `heap_size_limit` is 4096 MiB
 * plus three of them on Node 20, 22, 24, 26).
 */
export function oldGenerationLimit(): number {
  const old = flagMiB('max-old-space-size');
  if (old !== null) return old * MiB;
  const v8 = Number(process.versions.v8.split('.')[0]);
  const semi = flagMiB('max-semi-space-size') ?? (v8 <= 12 ? 16 : v8 === 13 ? 64 : 32);
  return getHeapStatistics().heap_size_limit - 3 * semi * MiB;
}

/** Bytes used in the old generation: every space but the young one. */
export function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name !== 'new_space' && space.space_name !== 'new_large_object_space') used += space.space_used_size;
  }
  return used;
}

/** The container's memory limit (cgroup v2, else v1), or null. */
export function containerLimit(): number | null {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = readFileSync(file, 'utf8').trim();
      const bytes = Number(text);
      // v1 writes a huge number for "no limit".
      if (text !== 'max' && Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60) return bytes;
      return null;
    } catch {
      // not this cgroup version
    }
  }
  return null;
}

/**
 * Loading snapshot files and turning --include/--exclude into filters, with
 * errors that say what to do.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Filter, Snapshot, type KeyType, type StatisticDiff } from '../model/index.js';
import { CommandError, UsageError } from './errors.js';

/** Load a snapshot written by `tracemalloc run` or `Snapshot.dump()`. */
export function loadSnapshot(path: string): Snapshot {
  if (!existsSync(path)) {
    throw new UsageError(`no such file: ${path}; pass a snapshot written by 'tracemalloc run' or Snapshot.dump()`);
  }
  if (statSync(path).isDirectory()) {
    throw new UsageError(`${path} is a folder; pass one of the .snap files inside it`);
  }
  try {
    return Snapshot.load(path);
  } catch (err) {
    const hint = path.endsWith('.heapsnapshot') ? "; for V8 heap snapshots use 'tracemalloc heap'" : '';
    throw new CommandError(`${(err as Error).message}${hint}`);
  }
}

/**
 * Filters from glob patterns (Python's fnmatch: `*` also matches `/`).
 * Patterns starting with `./` or `../` are taken relative to the current
 * folder, since frames hold absolute paths.
 */
export function filtersFrom(include: readonly string[] = [], exclude: readonly string[] = [], allFrames = false): Filter[] {
  const pattern = (glob: string) => (/^\.\.?\//.test(glob) ? resolve(glob) + (glob.endsWith('/') ? '/' : '') : glob);
  return [
    ...include.map((g) => new Filter(true, pattern(g), { allFrames })),
    ...exclude.map((g) => new Filter(false, pattern(g), { allFrames })),
  ];
}

/** `newer.compareTo(older)`, with the model's refusal (e.g. different modes) as a one-line command error. */
export function compareSnapshots(newer: Snapshot, older: Snapshot, key: KeyType, cumulative = false): StatisticDiff[] {
  try {
    return newer.compareTo(older, key, { cumulative });
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
}

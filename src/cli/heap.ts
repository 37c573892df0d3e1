/**
 * `tracemalloc heap FILE` and `tracemalloc heap diff A B`: census, biggest
 * objects and their retainer paths, and the difference of two V8 heap
 * snapshots (DevTools, v8.writeHeapSnapshot, --heapsnapshot-signal).
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { census, DifferentProcessesError, diffSnapshots, readHeapSnapshot, retainerPathText, type HeapSnapshot } from '../heap/index.js';
import { renderCensus, renderHeapDiff, censusJson, heapDiffJson } from '../report/heap-text.js';
import { CommandError, UsageError } from './errors.js';
import { hugePagesEnv, rerun } from './huge-pages.js';
import { integerIn } from './options.js';
import { progressFor } from './progress.js';
import { styleFor } from './style.js';

interface HeapOptions {
  limit: number;
  paths: number;
  json?: boolean;
  includeStrings?: boolean;
}

/**
 * Reads a snapshot and computes its graph, then runs `after` (the census, a
 * diff) under the same progress line: every stage that can take seconds on
 * a big file shows on the terminal.
 */
async function load<T>(path: string, afterStage: string | null, after: (heap: HeapSnapshot) => T): Promise<T> {
  if (!existsSync(path)) {
    throw new UsageError(`no such file: ${path}; pass a .heapsnapshot from DevTools, v8.writeHeapSnapshot() or --heapsnapshot-signal`);
  }
  const size = statSync(path).size;
  const progress = progressFor(basename(path), size);
  try {
    let heap: HeapSnapshot;
    try {
      heap = await readHeapSnapshot(path, { onProgress: (read) => progress.bytes(read) });
      progress.stage('computing dominators, retained sizes and distances');
      await heap.prepare();
    } catch (err) {
      const hint = path.endsWith('.snap') ? "; for tracemalloc snapshots use 'tracemalloc top'" : '';
      throw new CommandError(`cannot read heap snapshot ${path}: ${(err as Error).message}${hint}`);
    }
    if (afterStage) progress.stage(afterStage);
    return after(heap);
  } finally {
    progress.done();
  }
}

/**
 * Runs this command again with huge pages when its input is big enough to
 * gain from them (see huge-pages.ts); true when it did, and the exit code is set.
 */
async function reranWithHugePages(files: string[]): Promise<boolean> {
  const bytes = files.reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
  const env = hugePagesEnv(bytes);
  if (!env) return false;
  try {
    process.exitCode = await rerun(env);
    return true;
  } catch {
    return false; // could not start it: read here, with small pages
  }
}

/** Register `heap` and `heap diff` on the program. */
export function registerHeap(program: Command): void {
  const heap = program
    .command('heap')
    .summary('census, biggest objects and retainer paths of a V8 heap snapshot')
    .description(
      'Read a V8 .heapsnapshot (from DevTools, v8.writeHeapSnapshot() or node --heapsnapshot-signal) and show live objects\n' +
        'per constructor, the objects retaining the most memory, and the shortest path from the GC roots to each.',
    )
    .argument('<file>', 'a .heapsnapshot file')
    .addOption(new Option('--limit <n>', 'rows per table').argParser(integerIn(1, 100_000)).default(20))
    .addOption(new Option('--paths <n>', 'retainer paths to show, for the biggest objects').argParser(integerIn(0, 1000)).default(5))
    .option('--json', 'print JSON instead of text tables')
    .option('--include-strings', 'show the contents of heap strings (by default only their length and a tag: they can hold secrets)')
    .addHelpText('after', '\nExamples:\n  tracemalloc heap app.heapsnapshot\n  tracemalloc heap app.heapsnapshot --limit 50 --paths 10\n  tracemalloc heap diff before.heapsnapshot after.heapsnapshot\n')
    .action(async (file: string, options: HeapOptions) => {
      if (await reranWithHugePages([file])) return;
      const includeStrings = options.includeStrings ?? false;
      const { result, paths } = await load(file, 'census, biggest objects and retainer paths', (snapshot) => {
        const result = census(snapshot, { top: options.limit, duplicates: options.limit, includeStrings });
        const paths = result.topObjects.slice(0, options.paths).map((o) => {
          const steps = snapshot.retainerPath(o.nodeIndex, { includeStrings });
          return { steps, text: retainerPathText(snapshot, steps) };
        });
        return { result, paths };
      });
      process.stdout.write(
        options.json
          ? `${JSON.stringify(censusJson(file, result, paths, options.limit), null, 2)}\n`
          : renderCensus(file, result, paths, options.limit, styleFor(process.stdout)),
      );
    });

  heap
    .command('diff')
    .summary('what was allocated and freed between two heap snapshots of one process')
    .description('Compare two heap snapshots of the same process by object id: new, freed and surviving objects per constructor\n(and per allocation site when the snapshots were taken with allocation tracking).')
    .argument('<old>', 'the earlier .heapsnapshot')
    .argument('<new>', 'the later .heapsnapshot')
    .addOption(new Option('--limit <n>', 'rows per table').argParser(integerIn(1, 100_000)).default(20))
    .option('--json', 'print JSON instead of text tables')
    .option('--force', 'diff even when the object ids show two different processes')
    .action(async (oldFile: string, newFile: string, options: HeapOptions & { force?: boolean }) => {
      if (await reranWithHugePages([oldFile, newFile])) return;
      const before = await load(oldFile, null, (heap) => heap);
      const diff = await load(newFile, `comparing with ${basename(oldFile)}`, (after) => {
        try {
          return diffSnapshots(before, after, { allowDifferentProcesses: options.force });
        } catch (err) {
          if (err instanceof DifferentProcessesError) throw new CommandError(`${oldFile} and ${newFile}: ${err.message}`);
          throw err;
        }
      });
      process.stdout.write(
        options.json
          ? `${JSON.stringify(heapDiffJson(oldFile, newFile, diff, options.limit), null, 2)}\n`
          : renderHeapDiff(oldFile, newFile, diff, options.limit, styleFor(process.stdout)),
      );
    });
}

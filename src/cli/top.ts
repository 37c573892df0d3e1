/**
 * `tracemalloc top SNAPSHOT` and `tracemalloc compare OLD NEW`: Python's
 * statistics tables, as text or JSON.
 */
import { Command, Option } from 'commander';
import { KEY_TYPES, type KeyType, type Snapshot } from '../model/index.js';
import { renderCompare, renderTop, tableJson, type TableRequest } from '../report/text.js';
import { snapshotInfo } from '../report/sites.js';
import { UsageError } from './errors.js';
import { collect, integerIn, oneOf } from './options.js';
import { compareSnapshots, filtersFrom, loadSnapshots, threadsOfRows, THREAD_CHOICES, type Loaded } from './snapshots.js';
import { styleFor } from './style.js';

interface TableOptions {
  key: KeyType;
  cumulative?: boolean;
  limit: number;
  include?: string[];
  exclude?: string[];
  allFrames?: boolean;
  json?: boolean;
  thread?: string[];
}

function addTableOptions(command: Command): Command {
  return command
    .addOption(new Option('--key <type>', 'group by filename, lineno or traceback').argParser(oneOf(KEY_TYPES)).default('lineno'))
    .option('--cumulative', 'credit each allocation to every frame of its traceback (filename and lineno keys)')
    .addOption(new Option('--limit <n>', 'rows to show (0 = all)').argParser(integerIn(0, Number.MAX_SAFE_INTEGER)).default(10))
    .option('--include <glob>', "keep only allocations in matching files (repeatable; fnmatch: '*' matches '/' too; './x' is relative)", collect)
    .option('--exclude <glob>', 'drop allocations in matching files (repeatable)', collect)
    .option('--all-frames', 'match --include/--exclude against every frame, not only the allocating one')
    .option('--thread <id>', `merged views: only this thread: ${THREAD_CHOICES} (repeatable)`, collect)
    .option('--json', 'print JSON instead of the text table');
}

/** A merged view's sources for JSON, and each row's threads; nothing for one file. */
function mergedOf(views: readonly Loaded[], req: TableRequest, options: TableOptions) {
  const sources = views.flatMap((v) => v.sources);
  if (sources.length === 0) return undefined;
  const where = threadsOfRows(sources, req.key, req.cumulative, (s) => filtered(s, options));
  return {
    sources: views[0].sources.map(({ file, pid, threadId, threadName, script, label }) => ({ file, pid, threadId, threadName, script, label })),
    where,
  };
}

function request(options: TableOptions): TableRequest {
  if (options.cumulative && options.key === 'traceback') {
    throw new UsageError("--cumulative needs --key lineno or --key filename; a traceback key already holds every frame");
  }
  return { key: options.key, cumulative: Boolean(options.cumulative), limit: options.limit };
}

function filtered(snapshot: Snapshot, options: TableOptions): Snapshot {
  const filters = filtersFrom(options.include, options.exclude, options.allFrames);
  return filters.length > 0 ? snapshot.filterTraces(filters) : snapshot;
}

/** Register `top` and `compare` on the program. */
export function registerTop(program: Command): void {
  addTableOptions(
    program
      .command('top')
      .summary('show where the most live memory was allocated')
      .description(
        "Show the allocation sites holding the most memory in a snapshot, as Python's snapshot.statistics().\n" +
          "Several files, or a folder written by 'tracemalloc run' (the newest snapshot of each process and thread),\n" +
          'show one merged view: statistics summed, each row naming its threads.',
      )
      .argument('<snapshot...>', "a .snap file written by 'tracemalloc run' or Snapshot.dump(), several, or a folder"),
  )
    .addHelpText('after', "\nExamples:\n  tracemalloc top app.snap\n  tracemalloc top app.snap --key traceback --limit 3\n  tracemalloc top app.snap --include './src/*' --json\n  tracemalloc top prof/                  # every thread and process of a run\n  tracemalloc top prof/ --thread main\n")
    .action((paths: string[], options: TableOptions) => {
      const req = request(options);
      const view = loadSnapshots(paths, options.thread);
      const snapshot = view.snapshot;
      const stats = filtered(snapshot, options).statistics(req.key, { cumulative: req.cumulative });
      const merged = mergedOf([view], req, options);
      const out = options.json
        ? `${JSON.stringify(tableJson('top', stats, req, snapshotInfo(snapshot), undefined, merged), null, 2)}\n`
        : renderTop(stats, req, styleFor(process.stdout), snapshot.meta.processMemory, merged?.where);
      process.stdout.write(out);
    });

  addTableOptions(
    program
      .command('compare')
      .summary('show what grew or shrank between two snapshots')
      .description("Compare two snapshots of one program, as Python's snapshot.compare_to(old): biggest changes first.")
      .argument('<old>', 'the earlier snapshot (or a folder: merged, as in top)')
      .argument('<new>', 'the later snapshot (or a folder)'),
  )
    .addHelpText('after', '\nExamples:\n  tracemalloc compare before.snap after.snap\n  tracemalloc compare before.snap after.snap --key filename --json\n')
    .action((oldPath: string, newPath: string, options: TableOptions) => {
      const req = request(options);
      const oldView = loadSnapshots([oldPath], options.thread);
      const newView = loadSnapshots([newPath], options.thread);
      const older = oldView.snapshot;
      const newer = newView.snapshot;
      const diffs = compareSnapshots(filtered(newer, options), filtered(older, options), req.key, req.cumulative);
      const merged = mergedOf([newView, oldView], req, options);
      const out = options.json
        ? `${JSON.stringify(tableJson('compare', diffs, req, snapshotInfo(newer), snapshotInfo(older), merged), null, 2)}\n`
        : renderCompare(diffs, req, styleFor(process.stdout), merged?.where);
      process.stdout.write(out);
    });
}

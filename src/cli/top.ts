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
import { compareSnapshots, filtersFrom, loadSnapshot } from './snapshots.js';
import { styleFor } from './style.js';

interface TableOptions {
  key: KeyType;
  cumulative?: boolean;
  limit: number;
  include?: string[];
  exclude?: string[];
  allFrames?: boolean;
  json?: boolean;
}

function addTableOptions(command: Command): Command {
  return command
    .addOption(new Option('--key <type>', 'group by filename, lineno or traceback').argParser(oneOf(KEY_TYPES)).default('lineno'))
    .option('--cumulative', 'credit each allocation to every frame of its traceback (filename and lineno keys)')
    .addOption(new Option('--limit <n>', 'rows to show (0 = all)').argParser(integerIn(0, Number.MAX_SAFE_INTEGER)).default(10))
    .option('--include <glob>', "keep only allocations in matching files (repeatable; fnmatch: '*' matches '/' too; './x' is relative)", collect)
    .option('--exclude <glob>', 'drop allocations in matching files (repeatable)', collect)
    .option('--all-frames', 'match --include/--exclude against every frame, not only the allocating one')
    .option('--json', 'print JSON instead of the text table');
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
      .description("Show the allocation sites holding the most memory in a snapshot, as Python's snapshot.statistics().")
      .argument('<snapshot>', "a .snap file written by 'tracemalloc run' or Snapshot.dump()"),
  )
    .addHelpText('after', "\nExamples:\n  tracemalloc top app.snap\n  tracemalloc top app.snap --key traceback --limit 3\n  tracemalloc top app.snap --include './src/*' --json\n")
    .action((path: string, options: TableOptions) => {
      const req = request(options);
      const snapshot = loadSnapshot(path);
      const stats = filtered(snapshot, options).statistics(req.key, { cumulative: req.cumulative });
      const out = options.json
        ? `${JSON.stringify(tableJson('top', stats, req, snapshotInfo(snapshot)), null, 2)}\n`
        : renderTop(stats, req, styleFor(process.stdout));
      process.stdout.write(out);
    });

  addTableOptions(
    program
      .command('compare')
      .summary('show what grew or shrank between two snapshots')
      .description("Compare two snapshots of one program, as Python's snapshot.compare_to(old): biggest changes first.")
      .argument('<old>', 'the earlier snapshot')
      .argument('<new>', 'the later snapshot'),
  )
    .addHelpText('after', '\nExamples:\n  tracemalloc compare before.snap after.snap\n  tracemalloc compare before.snap after.snap --key filename --json\n')
    .action((oldPath: string, newPath: string, options: TableOptions) => {
      const req = request(options);
      const older = loadSnapshot(oldPath);
      const newer = loadSnapshot(newPath);
      const diffs = compareSnapshots(filtered(newer, options), filtered(older, options), req.key, req.cumulative);
      const out = options.json
        ? `${JSON.stringify(tableJson('compare', diffs, req, snapshotInfo(newer), snapshotInfo(older)), null, 2)}\n`
        : renderCompare(diffs, req, styleFor(process.stdout));
      process.stdout.write(out);
    });
}

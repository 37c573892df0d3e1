/**
 * `tracemalloc report SNAPSHOT`: HTML (flame graph, sortable table, diff),
 * pprof and speedscope files.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import type { Snapshot } from '../model/index.js';
import type { ReportInput } from '../report/reporter.js';
import { REPORTERS } from '../report/reporters.js';
import { snapshotInfo, statisticAsSite, tracesAsSites } from '../report/sites.js';
import { CommandError, UsageError } from './errors.js';
import { collect } from './options.js';
import { compareSnapshots, filtersFrom, loadSnapshots, splitTimelines, THREAD_CHOICES } from './snapshots.js';

interface ReportOptions {
  compare?: string;
  include?: string[];
  exclude?: string[];
  allFrames?: boolean;
  /** The output file of each chosen format, by format name (commander's camelCase of `--FORMAT`). */
  [format: string]: string | string[] | boolean | undefined;
  thread?: string[];
}

function write(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new CommandError(`cannot write ${path}: ${(err as Error).message}`);
  }
  process.stderr.write(`tracemalloc: wrote ${path}\n`);
}

/** "a, b or c" */
function either(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : items.join('');
}

/** Register `report` on the program: one `--FORMAT FILE` option per reporter. */
export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .summary('write an HTML report, a pprof profile or a speedscope file')
    .description(
      'Write reports of a snapshot: --html a self-contained page (flame graph of live memory by traceback, sortable\n' +
        'table of sites, with --compare the growth since an older snapshot, and the memory timeline that run records:\n' +
        'give run\'s folder or its .timeline files); --pprof a gzip\'d pprof profile for\n' +
        'go tool pprof, Pyroscope or Parca; --speedscope a file for speedscope. At least one output is needed.',
    )
    .argument('<snapshot...>', "a .snap file written by 'tracemalloc run' or Snapshot.dump(), several, or a folder (merged, as in top)")
    .option('--compare <old>', 'an older snapshot (or folder): adds the diff view to the HTML report');
  for (const reporter of REPORTERS) command.option(`--${reporter.format} <file>`, reporter.description);
  command
    .option('--include <glob>', 'keep only allocations in matching files (repeatable)', collect)
    .option('--exclude <glob>', 'drop allocations in matching files (repeatable)', collect)
    .option('--all-frames', 'match --include/--exclude against every frame')
    .option('--thread <id>', `merged views: only this thread: ${THREAD_CHOICES} (repeatable)`, collect)
    .addHelpText(
      'after',
      '\nExamples:\n  tracemalloc report app.snap --html report.html\n  tracemalloc report after.snap --compare before.snap --html diff.html\n  tracemalloc report app.snap --pprof heap.pb.gz && go tool pprof -top heap.pb.gz\n',
    )
    .action((paths: string[], options: ReportOptions) => {
      const path = paths.length === 1 ? paths[0] : 'merged snapshots';
      const chosen = REPORTERS.flatMap((reporter) => {
        const file = options[reporter.format];
        return typeof file === 'string' ? [{ reporter, file }] : [];
      });
      if (chosen.length === 0) {
        throw new UsageError(`no output chosen; add ${either(REPORTERS.map((r) => `--${r.format} FILE`))}`);
      }
      if (options.compare && !chosen.some((c) => c.reporter.showsDiff)) {
        const diffing = REPORTERS.filter((r) => r.showsDiff).map((r) => `--${r.format} FILE`);
        throw new UsageError(`--compare only changes the HTML report; add ${either(diffing)} (pprof diffs: go tool pprof -diff_base OLD NEW)`);
      }
      const filters = filtersFrom(options.include, options.exclude, options.allFrames);
      const filter = (s: Snapshot) => (filters.length > 0 ? s.filterTraces(filters) : s);
      const split = splitTimelines(paths, options.thread);
      // Timelines alone: their last reads stand in for snapshots.
      const snapshot = filter(loadSnapshots(split.snapshots.length > 0 ? split.snapshots : paths, options.thread).snapshot);
      const old = options.compare ? filter(loadSnapshots([options.compare], options.thread).snapshot) : null;
      const input: ReportInput = {
        title: basename(path),
        info: snapshotInfo(snapshot),
        sites: tracesAsSites(snapshot),
        lines: snapshot.statistics('lineno').map(statisticAsSite),
        diff: old
          ? {
              old: snapshotInfo(old),
              growth: compareSnapshots(snapshot, old, 'traceback').map(statisticAsSite),
              lines: compareSnapshots(snapshot, old, 'lineno').map(statisticAsSite),
            }
          : null,
        timelines: split.timelines,
      };
      for (const { reporter, file } of chosen) write(file, reporter.render(input));
    });
}

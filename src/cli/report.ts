/**
 * `tracemalloc report SNAPSHOT`: HTML (flame graph, sortable table, diff),
 * pprof and speedscope files.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import type { Snapshot } from '../model/index.js';
import { renderHtml } from '../report/html.js';
import { toPprof } from '../report/pprof.js';
import { snapshotInfo, statisticAsSite, tracesAsSites } from '../report/sites.js';
import { toSpeedscope } from '../report/speedscope.js';
import { CommandError, UsageError } from './errors.js';
import { collect } from './options.js';
import { compareSnapshots, filtersFrom, loadSnapshot } from './snapshots.js';

interface ReportOptions {
  compare?: string;
  html?: string;
  pprof?: string;
  speedscope?: string;
  include?: string[];
  exclude?: string[];
  allFrames?: boolean;
}

function write(path: string, data: string | Buffer): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new CommandError(`cannot write ${path}: ${(err as Error).message}`);
  }
  process.stderr.write(`tracemalloc: wrote ${path}\n`);
}

/** Register `report` on the program. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .summary('write an HTML report, a pprof profile or a speedscope file')
    .description(
      'Write reports of a snapshot: --html a self-contained page (flame graph of live memory by traceback, sortable\n' +
        'table of sites, and with --compare the growth since an older snapshot); --pprof a gzip\'d pprof profile for\n' +
        'go tool pprof, Pyroscope or Parca; --speedscope a file for speedscope. At least one output is needed.',
    )
    .argument('<snapshot>', "a .snap file written by 'tracemalloc run' or Snapshot.dump()")
    .option('--compare <old>', 'an older snapshot: adds the diff view to the HTML report')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--pprof <file>', "write a gzip'd pprof profile (sample types objects/count and space/bytes)")
    .option('--speedscope <file>', 'write a speedscope JSON file (weights are bytes)')
    .option('--include <glob>', 'keep only allocations in matching files (repeatable)', collect)
    .option('--exclude <glob>', 'drop allocations in matching files (repeatable)', collect)
    .option('--all-frames', 'match --include/--exclude against every frame')
    .addHelpText(
      'after',
      '\nExamples:\n  tracemalloc report app.snap --html report.html\n  tracemalloc report after.snap --compare before.snap --html diff.html\n  tracemalloc report app.snap --pprof heap.pb.gz && go tool pprof -top heap.pb.gz\n',
    )
    .action((path: string, options: ReportOptions) => {
      if (!options.html && !options.pprof && !options.speedscope) {
        throw new UsageError('no output chosen; add --html FILE, --pprof FILE or --speedscope FILE');
      }
      if (options.compare && !options.html) {
        throw new UsageError("--compare only changes the HTML report; add --html FILE (pprof diffs: go tool pprof -diff_base OLD NEW)");
      }
      const filters = filtersFrom(options.include, options.exclude, options.allFrames);
      const filter = (s: Snapshot) => (filters.length > 0 ? s.filterTraces(filters) : s);
      const snapshot = filter(loadSnapshot(path));
      const old = options.compare ? filter(loadSnapshot(options.compare)) : null;
      const info = snapshotInfo(snapshot);
      const sites = tracesAsSites(snapshot);
      if (options.html) {
        const diff = old
          ? { old: snapshotInfo(old), growth: compareSnapshots(snapshot, old, 'traceback').map(statisticAsSite), lines: compareSnapshots(snapshot, old, 'lineno').map(statisticAsSite) }
          : null;
        const html = renderHtml({
          title: basename(path),
          info,
          sites,
          lines: snapshot.statistics('lineno').map(statisticAsSite),
          diff,
        });
        write(options.html, html);
      }
      if (options.pprof) write(options.pprof, toPprof(sites, info));
      if (options.speedscope) write(options.speedscope, `${JSON.stringify(toSpeedscope(sites, info, basename(path)))}\n`);
    });
}

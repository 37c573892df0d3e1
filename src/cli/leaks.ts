/**
 * `tracemalloc leaks -- SCENARIO`: run a scenario module's function over and
 * over and report the allocation sites that grow with it. Exit 1 when a
 * leak is found, so the command can gate a CI job.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { formatLeakReport, runLeakScenario } from '../leaks/index.js';
import type { SnapshotMode } from '../model/index.js';
import { CommandError, UsageError } from './errors.js';
import { integerIn, oneOf } from './options.js';
import { progressFor } from './progress.js';

interface LeaksOptions {
  iterations?: number;
  warmup?: number;
  mode?: SnapshotMode;
  json?: boolean;
}

export function registerLeaks(program: Command): void {
  program
    .command('leaks')
    .summary('find allocation sites that grow with each run of a scenario')
    .description(
      'Load a module that exports a scenario function (export default, or export function scenario), run it for a warm-up and then N iterations, and report each site whose live objects grow steadily, with the retainer path that keeps them alive. Exits 1 when a leak is found.',
    )
    .argument('<scenario>', 'a .js/.mjs module exporting the scenario')
    .addOption(new Option('--iterations <n>', 'measured iterations (at least 4)').argParser(integerIn(4, 1000)))
    .addOption(new Option('--warmup <n>', 'iterations before measuring').argParser(integerIn(0, 1000)))
    .addOption(new Option('--mode <mode>', 'exact or sampling').argParser(oneOf(['exact', 'sampling'] as const)))
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExamples:\n  tracemalloc leaks -- dist/scenarios/login.js\n  tracemalloc leaks --iterations 12 --mode sampling -- scenario.mjs\n')
    .action(async (scenario: string, options: LeaksOptions) => {
      const path = resolve(scenario);
      if (!existsSync(path)) throw new UsageError(`no such scenario module: ${scenario}`);
      const { iterations, warmup, mode } = options;
      let report;
      // On a terminal, a line says which step runs: a scenario can take seconds per iteration.
      const progress = progressFor(basename(scenario), 0);
      const STAGES = { 'warm-up': 'warm-up', iteration: 'iteration', explain: 'reading the heap for the findings' } as const;
      try {
        report = await runLeakScenario(path, {
          ...(iterations !== undefined && { iterations }),
          ...(warmup !== undefined && { warmup }),
          ...(mode !== undefined && { mode }),
          onProgress: (stage, step, of) => progress.stage(stage === 'explain' ? STAGES.explain : `${STAGES[stage]} ${step} of ${of}`),
        });
      } catch (err) {
        throw new CommandError((err as Error).message);
      } finally {
        progress.done();
      }
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatLeakReport(report)}\n`);
      if (report.findings.length > 0) process.exitCode = 1;
    });
}

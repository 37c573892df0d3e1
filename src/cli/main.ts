#!/usr/bin/env node
/**
 * The `tracemalloc` command. Exit codes: 0 success, 2 usage error, 1 a
 * failure (`run` passes the target's own exit code through).
 */
import { Command, CommanderError } from 'commander';
import { CommandError, UsageError, oneLine } from './errors.js';
import { packageVersion } from './version.js';
import { registerTop } from './top.js';
import { registerRun } from './run.js';
import { registerHeap } from './heap.js';
import { registerReport } from './report.js';
import { registerLeaks } from './leaks.js';
import { registerAttach } from './attach.js';
import { watchParent } from './huge-pages.js';

function program(): Command {
  const root = new Command('tracemalloc')
    .description("Python's tracemalloc for Node.js: trace where memory is allocated, compare snapshots, read heap snapshots")
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    // `run` passes options after the script through to the program.
    .enablePositionalOptions()
    // Parse errors are printed once, as one line, by main() below.
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  registerRun(root);
  registerTop(root);
  registerHeap(root);
  registerReport(root);
  registerLeaks(root);
  registerAttach(root);
  root.addHelpText(
    'after',
    '\nExamples:\n  tracemalloc run --out prof -- app.js\n  tracemalloc top prof/tracemalloc-1234-exit.snap\n  tracemalloc report prof/tracemalloc-1234-exit.snap --html report.html\n',
  );
  return root;
}

/** The command named on the command line, for pointing at its --help. */
function commandNamed(argv: readonly string[], root: Command): string {
  const names = new Set(root.commands.map((c) => c.name()));
  const found = argv.slice(2).find((a) => names.has(a));
  if (!found) return 'tracemalloc';
  const sub = argv.slice(argv.indexOf(found) + 1).find((a) => !a.startsWith('-'));
  const command = root.commands.find((c) => c.name() === found)!;
  return command.commands.some((c) => c.name() === sub) ? `tracemalloc ${found} ${sub}` : `tracemalloc ${found}`;
}

function fail(message: string, code: number): void {
  process.stderr.write(`tracemalloc: ${oneLine(message)}\n`);
  process.exitCode = code;
}

async function main(argv: string[]): Promise<void> {
  const root = program();
  if (argv.length <= 2) {
    process.stderr.write(root.helpInformation());
    process.exitCode = 2;
    return;
  }
  try {
    await root.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        process.exitCode = 0;
        return;
      }
      // Commander prints "error: ..." for parse errors; ours (see options.ts) are InvalidArgument errors too.
      const text = err.message.replace(/^error: /, '').replace(/ is invalid\. /, ' is invalid: ').replace(/\.$/, '');
      fail(`${text}; see '${commandNamed(argv, root)} --help'`, 2);
      return;
    }
    if (err instanceof UsageError || err instanceof CommandError) {
      fail(err.message, err.exitCode);
      return;
    }
    fail(`unexpected error: ${(err as Error)?.message ?? String(err)}; please report it with the command line you ran`, 1);
  }
}

// `tracemalloc top x | head` closes stdout early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

watchParent();
await main(process.argv);

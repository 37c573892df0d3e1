/**
 * `tracemalloc run`: run a Node program traced from its first line and write
 * snapshots into a folder; the program's exit code is passed through.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Command, Option, InvalidArgumentError } from 'commander';
import { CommandError, UsageError } from './errors.js';
import { integerIn, oneOf, seconds } from './options.js';
import { launchFor } from './target.js';
import { styleFor } from './style.js';

interface RunOptions {
  mode: 'exact' | 'sampling';
  frames: number;
  interval?: number;
  out: string;
  every?: number;
  signal: string;
  lines?: boolean;
  lineSampleEvery?: number;
}

// Signals with another meaning to Node or to the shell, which cannot ask for a snapshot.
const RESERVED_SIGNALS = new Set(['SIGKILL', 'SIGSTOP', 'SIGINT', 'SIGTERM', 'SIGUSR1', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']);

function signalName(value: string): string {
  if (value === 'none') return '';
  const name = value.toUpperCase().startsWith('SIG') ? value.toUpperCase() : `SIG${value.toUpperCase()}`;
  if (!(name in constants.signals)) throw new InvalidArgumentError("expected a signal name such as SIGUSR2, or 'none'");
  if (RESERVED_SIGNALS.has(name)) {
    throw new InvalidArgumentError(`${name} is reserved (Node or the shell uses it); use SIGUSR2, SIGHUP or SIGWINCH`);
  }
  return name;
}

const PRELOAD = new URL('./child.js', import.meta.url).href;

/** Register `run` on the program. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .summary('run a Node program traced from its first line and write snapshots')
    .description(
      'Run a Node program (a .js, .mjs, .cjs or .ts file, or a full "node ...args" command line) with tracing from its\n' +
        'first line. Snapshots go to --out as tracemalloc-<pid>-exit.snap when the program ends (also on Ctrl-C/SIGTERM\n' +
        'when the program does not handle them), tracemalloc-<pid>-NNN-signal.snap on --signal, and -NNN-timer.snap with\n' +
        '--every. The exit code is the program\'s own. Worker threads are not traced; processes started with\n' +
        'child_process.fork() are, each into its own files.',
    )
    .argument('<program...>', "the script and its arguments, or 'node ...args', after '--'")
    .addOption(new Option('--mode <mode>', 'exact: every live object (slow); sampling: estimates with error bounds (cheap)').argParser(oneOf(['exact', 'sampling'] as const)).default('sampling'))
    .addOption(new Option('--frames <n>', 'frames kept per traceback (1-128)').argParser(integerIn(1, 128)).default(16))
    .addOption(new Option('--interval <bytes>', 'sampling mode: mean bytes between samples').argParser(integerIn(1, 2 ** 30)))
    .addOption(new Option('--lines', "line mode: the allocating line of the program's own code (instrumented as it loads; see docs/lines.md)"))
    .addOption(new Option('--line-sample-every <n>', 'line mode: mean allocations between two samples').argParser(integerIn(1, 2 ** 30)))
    .addOption(new Option('--out <dir>', 'folder for snapshots (created if missing)').default('.'))
    .addOption(new Option('--every <seconds>', 'also write a snapshot every N seconds').argParser(seconds))
    .addOption(new Option('--signal <name>', "signal that writes a snapshot, or 'none'").argParser(signalName).default('SIGUSR2'))
    .passThroughOptions()
    .addHelpText('after', '\nExamples:\n  tracemalloc run -- app.js --port 8080\n  tracemalloc run --mode exact --frames 32 --out prof -- node --max-old-space-size=512 server.mjs\n  tracemalloc run --every 60 -- dist/main.js      # then: kill -USR2 <pid> for one more\n')
    .action(async (words: string[], options: RunOptions) => {
      if (options.interval !== undefined && options.mode !== 'sampling') {
        throw new UsageError('--interval only applies to --mode sampling; drop it or use sampling mode');
      }
      if (options.lineSampleEvery !== undefined && !options.lines) {
        throw new UsageError('--line-sample-every only applies with --lines');
      }
      process.exitCode = await run(words, options);
    });
}

function snapshotFiles(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir).filter((f) => /^tracemalloc-\d+-.*\.snap$/.test(f)));
  } catch {
    return new Set();
  }
}

async function run(words: string[], options: RunOptions): Promise<number> {
  const out = resolve(options.out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot create the --out folder ${options.out}: ${(err as Error).message}`);
  }
  const launch = launchFor(words, PRELOAD);
  const before = snapshotFiles(out);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_TRACEMALLOC: String(options.frames),
    NODE_TRACEMALLOC_MODE: options.mode,
    NODE_TRACEMALLOC_DUMP: join(out, 'tracemalloc-%p-exit.snap'),
    TRACEMALLOC_RUN_DIR: out,
    TRACEMALLOC_RUN_SIGNAL: options.signal,
    TRACEMALLOC_RUN_EVERY: options.every ? String(options.every) : '',
  };
  if (options.interval !== undefined) env.NODE_TRACEMALLOC_INTERVAL = String(options.interval);
  else delete env.NODE_TRACEMALLOC_INTERVAL;
  if (options.lines) env.NODE_TRACEMALLOC_LINES = '1';
  else delete env.NODE_TRACEMALLOC_LINES;
  if (options.lineSampleEvery !== undefined) env.NODE_TRACEMALLOC_LINES_EVERY = String(options.lineSampleEvery);
  else delete env.NODE_TRACEMALLOC_LINES_EVERY;

  const child = spawn(launch.command, launch.args, { stdio: 'inherit', env });
  const style = styleFor(process.stderr);
  // The terminal sends Ctrl-C to the whole process group, the child included:
  // the parent only waits. Signals aimed at the parent's pid are forwarded.
  const forward = (name: NodeJS.Signals) => () => {
    if (child.pid !== undefined && child.exitCode === null) child.kill(name);
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', () => {}],
    ['SIGTERM', forward('SIGTERM')],
    ['SIGHUP', forward('SIGHUP')],
  ];
  if (options.signal && !handlers.some(([n]) => n === options.signal)) handlers.push([options.signal as NodeJS.Signals, forward(options.signal as NodeJS.Signals)]);
  for (const [name, handler] of handlers) process.on(name, handler);

  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(
        err.code === 'ENOENT'
          ? new UsageError(`cannot start '${launch.command}': not found; check the command after '--'`)
          : new CommandError(`cannot start '${launch.command}': ${err.message}`),
      );
    });
    child.once('spawn', () => {
      if (process.stderr.isTTY) {
        const hint = options.signal ? `; kill -${options.signal.slice(3)} ${child.pid} writes a snapshot` : '';
        process.stderr.write(style.dim(`tracemalloc: tracing pid ${child.pid} (${options.mode} mode, ${options.frames} frames)${hint}\n`));
      }
    });
    child.once('exit', (code, signal) => done({ code, signal }));
  }).finally(() => {
    for (const [name, handler] of handlers) process.off(name, handler);
  });

  const written = [...snapshotFiles(out)].filter((f) => !before.has(f)).sort();
  const shown = (f: string) => relative(process.cwd(), join(out, f)) || f;
  if (written.length === 0) {
    process.stderr.write(`tracemalloc: no snapshot was written; the program may have been killed before it could write one\n`);
  } else {
    const exit = written.find((f) => f.endsWith('-exit.snap')) ?? written[written.length - 1];
    process.stderr.write(`tracemalloc: wrote ${written.map(shown).join(', ')}\n`);
    process.stderr.write(style.dim(`tracemalloc: see them with: tracemalloc top ${shown(exit)}\n`));
  }
  if (result.signal) {
    process.stderr.write(`tracemalloc: the program was killed by ${result.signal}\n`);
    return 128 + (constants.signals[result.signal] ?? 0);
  }
  return result.code ?? 1;
}

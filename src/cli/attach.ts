/**
 * `tracemalloc attach <pid>`: sample the live allocations of a running Node
 * process over its inspector, write a snapshot and print the top sites.
 */
import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CommandError, UsageError } from './errors.js';
import { integerIn, seconds } from './options.js';
import { styleFor } from './style.js';
import { MAX_TRACEBACK_FRAMES, formatSize } from '../model/index.js';
import { renderTop } from '../report/text.js';
import { attach, attachHeapSnapshot, RemoteError, TargetGoneError } from '../tracer/attach.js';
import { DEFAULT_SAMPLING_INTERVAL } from '../tracer/tracer.js';

interface AttachCliOptions {
  duration: number;
  out: string;
  inspect?: string;
  port?: number;
  frames: number;
  interval: number;
  limit: number;
  heap?: boolean;
}

function pidArgument(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw new UsageError(`expected a process id, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** Register `attach` on the program. */
export function registerAttach(program: Command): void {
  program
    .command('attach')
    .summary('sample the live memory of a running Node process by allocation site')
    .description(
      'Open the inspector of a running Node process (SIGUSR1, as `node inspect -p PID` does), run V8\'s sampling heap profiler\n' +
        'there for --duration seconds or until Ctrl-C, write tracemalloc-<pid>-attach.snap into --out and print the top sites.\n' +
        'The process is left as it was: profiler stopped, and the inspector closed again if attach opened it.',
    )
    .argument('[pid]', 'process id of the Node process (optional with --inspect)')
    .addOption(new Option('--duration <seconds>', 'how long to sample').argParser(seconds).default(10))
    .addOption(new Option('--out <dir>', 'folder for the snapshot (created if missing)').default('.'))
    .addOption(new Option('--inspect <port|url>', 'use an inspector that is already open (a port on 127.0.0.1, or its ws:// URL); it is left open'))
    .addOption(new Option('--port <n>', 'the port SIGUSR1 opens, where /proc cannot tell (default 9229; --inspect-port of the target)').argParser(integerIn(1, 65535)))
    .addOption(new Option('--frames <n>', `frames kept per traceback (1-${MAX_TRACEBACK_FRAMES})`).argParser(integerIn(1, MAX_TRACEBACK_FRAMES)).default(16))
    .addOption(new Option('--interval <bytes>', 'mean bytes between samples').argParser(integerIn(1, 2 ** 30)).default(DEFAULT_SAMPLING_INTERVAL))
    .addOption(new Option('--limit <n>', 'rows of the printed table (0 = all)').argParser(integerIn(0, Number.MAX_SAFE_INTEGER)).default(10))
    .addOption(new Option('--heap', 'instead of sampling, stream a heap snapshot into --out as tracemalloc-<pid>.heapsnapshot (refused when the process lacks the memory for it; V8 pauses it meanwhile)'))
    .addHelpText('after', '\nExamples:\n  tracemalloc attach 4242\n  tracemalloc attach 4242 --duration 30 --out prof\n  tracemalloc attach --inspect 9230\n  tracemalloc attach 4242 --heap --out prof    # then: tracemalloc heap prof/tracemalloc-4242.heapsnapshot\n\nSee docs/cli.md for what opening the inspector exposes.\n')
    .action(async (pidText: string | undefined, options: AttachCliOptions) => {
      const pid = pidText === undefined ? undefined : pidArgument(pidText);
      if (pid === undefined && options.inspect === undefined) throw new UsageError('give the process id, or --inspect with its inspector port');
      process.exitCode = await run(pid, options);
    });
}

async function run(pid: number | undefined, options: AttachCliOptions): Promise<number> {
  const out = resolve(options.out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot create the --out folder ${options.out}: ${(err as Error).message}`);
  }
  const style = styleFor(process.stderr);
  // First Ctrl-C or SIGTERM ends the sampling and keeps what was sampled;
  // a second one leaves at once (the dropped connection stops V8's profiler).
  const ending = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!ending.signal.aborted) {
      ending.abort();
      return;
    }
    process.stderr.write(`tracemalloc: ${signal} again: leaving without a snapshot; an inspector that attach opened may stay open\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (options.heap) {
      const path = join(out, pid === undefined ? `tracemalloc-attach-${Date.now()}.heapsnapshot` : `tracemalloc-${pid}.heapsnapshot`);
      const result = await attachHeapSnapshot({ pid, inspect: options.inspect, port: options.port, path, onStatus: (line) => process.stderr.write(style.dim(`${line}\n`)) });
      if (result.openedInspector && !result.inspectorClosed) {
        process.stderr.write(`tracemalloc: warning: the inspector of pid ${result.pid} still answers after closing it\n`);
      }
      const relativePath = relative(process.cwd(), path);
      const shown = !relativePath || relativePath.startsWith('..') ? path : relativePath;
      process.stdout.write(`wrote ${shown} (${formatSize(result.bytes)}); see it with: tracemalloc heap ${shown}\n`);
      return 0;
    }
    const result = await attach({
      pid,
      inspect: options.inspect,
      port: options.port,
      durationMs: options.duration * 1000,
      frames: options.frames,
      samplingInterval: options.interval,
      signal: ending.signal,
      onStatus: (line) => process.stderr.write(style.dim(`${line}\n`)),
    });
    const path = join(out, `tracemalloc-${result.pid}-attach.snap`);
    try {
      result.snapshot.dump(path);
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
    if (result.openedInspector && !result.inspectorClosed) {
      process.stderr.write(`tracemalloc: warning: the inspector of pid ${result.pid} still answers after closing it\n`);
    }
    const stats = result.snapshot.statistics('lineno');
    process.stdout.write(renderTop(stats, { key: 'lineno', cumulative: false, limit: options.limit }, styleFor(process.stdout)));
    const shown = relative(process.cwd(), path) || path;
    process.stderr.write(style.dim(`tracemalloc: wrote ${shown.startsWith('..') ? path : shown}\n`));
    return 0;
  } catch (err) {
    if (err instanceof RemoteError) {
      const what = err instanceof TargetGoneError ? `pid ${pid ?? '?'} exited (or closed its inspector) during the attach; nothing written` : err.message;
      throw new CommandError(what);
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

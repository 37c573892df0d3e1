/**
 * `tracemalloc run`: run a Node program traced from its first line and write
 * snapshots into a folder; the program's exit code is passed through.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Command, Option, InvalidArgumentError } from 'commander';
import { CommandError, UsageError } from './errors.js';
import { integerIn, oneOf, seconds } from './options.js';
import { launchFor } from './target.js';
import { LiveView } from './live.js';
import { styleFor } from './style.js';
import { MAX_TRACEBACK_FRAMES } from '../model/index.js';
import type { TraceMode } from '../tracer/tracer.js';
import { ENDING_DEADLINE_MS, ENDING_SIGNALS, STATUS_FD_ENV } from '../agent/signals.js';
import { removeDescendants, signalDescendants } from '../agent/descendants.js';

/** Without --timeline, the largest share of the program's time that timeline reads take (each forces a full GC). */
const DEFAULT_TIMELINE_BUDGET = 0.02;

interface RunOptions {
  mode: TraceMode;
  frames: number;
  interval?: number;
  out: string;
  every?: number;
  signal: string;
  lines?: boolean;
  lineSampleEvery?: number;
  follow: boolean;
  beforeOom?: boolean;
  /** Seconds between timeline reads (undefined: 1, read less often when reads take over 2% of the time); false with --no-timeline. */
  timeline?: number | false;
  live?: boolean;
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

const PRELOAD = new URL('../agent/run-preload.js', import.meta.url).href;

/** With --live, the program's stdout and stderr go to this file in --out. */
const LIVE_LOG = 'tracemalloc-live.log';

/** Register `run` on the program. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .summary('run a Node program traced from its first line and write snapshots')
    .description(
      'Run a Node program (a .js, .mjs, .cjs or .ts file, or a full "node ...args" command line) with tracing from its\n' +
        'first line. Snapshots go to --out as tracemalloc-<pid>-exit.snap when the program ends (also on Ctrl-C/SIGTERM\n' +
        'when the program does not handle them), tracemalloc-<pid>-NNN-signal.snap on --signal, and -NNN-timer.snap with\n' +
        '--every. The exit code is the program\'s own. Worker threads are traced too (unless --no-follow), each into\n' +
        'tracemalloc-<pid>-t<threadId>-<script>-*.snap, and so are Node child processes (fork, spawn, exec: they\n' +
        'inherit NODE_OPTIONS), each into its own files. tracemalloc top <folder> shows them merged. Each also appends its\n' +
        'memory timeline to tracemalloc-<pid>.timeline (report --html <folder> draws it; --live shows it in the terminal).\n' +
        '--before-oom also writes tracemalloc-<pid>-oom.snap\n' +
        'when memory nears its limit, so an out-of-memory death leaves its cause.',
    )
    .argument('<program...>', "the script and its arguments, or 'node ...args', after '--'")
    .addOption(new Option('--mode <mode>', 'exact: every live object (slow); sampling: estimates with error bounds (cheap)').argParser(oneOf(['exact', 'sampling'] as const)).default('sampling'))
    .addOption(new Option('--frames <n>', `frames kept per traceback (1-${MAX_TRACEBACK_FRAMES})`).argParser(integerIn(1, MAX_TRACEBACK_FRAMES)).default(16))
    .addOption(new Option('--interval <bytes>', 'sampling mode: mean bytes between samples').argParser(integerIn(1, 2 ** 30)))
    .addOption(new Option('--lines', "line mode: the allocating line of the program's own code (instrumented as it loads; see docs/lines.md)"))
    .addOption(new Option('--line-sample-every <n>', 'line mode: mean allocations between two samples').argParser(integerIn(1, 2 ** 30)))
    .addOption(new Option('--out <dir>', 'folder for snapshots (created if missing)').default('.'))
    .addOption(new Option('--every <seconds>', 'also write a snapshot every N seconds').argParser(seconds))
    .addOption(
      new Option('--timeline <seconds>', 'seconds between reads of the memory timeline, whatever they cost (default: 1 s, less often when reads take over 2% of the time)').argParser(seconds),
    )
    .addOption(new Option('--no-timeline', 'record no memory timeline'))
    .addOption(new Option('--live', `show the top sites in the terminal, refreshed every second (q ends the program); its output goes to --out's ${LIVE_LOG}`))
    .addOption(new Option('--no-follow', 'trace the main thread only, not worker threads or Node child processes'))
    .addOption(new Option('--before-oom', 'sampling mode: write tracemalloc-<pid>-oom.snap once when the heap or RSS reaches 75% of its limit'))
    .addOption(new Option('--signal <name>', "signal that writes a snapshot, or 'none'").argParser(signalName).default('SIGUSR2'))
    .passThroughOptions()
    .addHelpText('after', '\nExamples:\n  tracemalloc run -- app.js --port 8080\n  tracemalloc run --mode exact --frames 32 --out prof -- node --max-old-space-size=512 server.mjs\n  tracemalloc run --every 60 -- dist/main.js      # then: kill -USR2 <pid> for one more\n')
    .action(async (words: string[], options: RunOptions) => {
      if (options.interval !== undefined && options.mode !== 'sampling') {
        throw new UsageError('--interval only applies to --mode sampling; drop it or use sampling mode');
      }
      if (options.beforeOom && (options.mode !== 'sampling' || options.lines)) {
        throw new UsageError('--before-oom needs sampling mode without --lines: the other modes read a heap snapshot, about three times the heap');
      }
      if (options.live && options.timeline === false) throw new UsageError('--live reads the timeline: drop --no-timeline');
      if (options.live && !(process.stdout.isTTY && process.stdin.isTTY)) throw new UsageError('--live needs a terminal; without one, use --every or report --html');
      if (options.lineSampleEvery !== undefined && !options.lines) {
        throw new UsageError('--line-sample-every only applies with --lines');
      }
      process.exitCode = await run(words, options);
    });
}

/** A path as the user would type it: relative to the working folder when inside it. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function openLog(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as Error).message}`);
  }
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
    TRACEMALLOC_RUN_FOLLOW: options.follow ? '1' : '0',
    TRACEMALLOC_RUN_TIMELINE: options.timeline === false ? '' : String(Math.round((options.timeline ?? 1) * 1000)),
    TRACEMALLOC_RUN_TIMELINE_BUDGET: options.timeline === undefined ? String(DEFAULT_TIMELINE_BUDGET) : '',
  };
  if (options.interval !== undefined) env.NODE_TRACEMALLOC_INTERVAL = String(options.interval);
  else delete env.NODE_TRACEMALLOC_INTERVAL;
  if (options.lines) env.NODE_TRACEMALLOC_LINES = '1';
  else delete env.NODE_TRACEMALLOC_LINES;
  if (options.lineSampleEvery !== undefined) env.NODE_TRACEMALLOC_LINES_EVERY = String(options.lineSampleEvery);
  else delete env.NODE_TRACEMALLOC_LINES_EVERY;
  if (options.beforeOom) env.NODE_TRACEMALLOC_BEFORE_OOM = join(out, 'tracemalloc-%p-oom.snap');
  else delete env.NODE_TRACEMALLOC_BEFORE_OOM;

  // Descriptor 3: the channel through which the traced process says what became
  // of a signal, and sees this process die (src/agent/signals.ts).
  env[STATUS_FD_ENV] = '3';
  // Exact mode: V8's tracker from launch has no 50 ms heap walk to stall the program (capture/tracking.ts).
  const args = options.mode === 'exact' ? ['--track-heap-objects', ...launch.args] : launch.args;
  const since = Date.now();
  const log = options.live ? openLog(join(out, LIVE_LOG)) : null;
  const child = spawn(launch.command, args, { stdio: log === null ? ['inherit', 'inherit', 'inherit', 'pipe'] : ['ignore', log, log, 'pipe'], env });
  if (log !== null) closeSync(log);
  // q in the live view ends the program as Ctrl-C would (the terminal is raw, so Ctrl-C sends no signal).
  const view = options.live ? new LiveView(out, since, shownPath(join(out, LIVE_LOG)), () => process.kill(process.pid, 'SIGINT')) : null;
  const restore = () => view?.stop();
  process.once('exit', restore);
  const style = styleFor(process.stderr);
  const guard = new EndingGuard(child, options.signal, (signal) => signalDescendants(out, signal));
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(
        err.code === 'ENOENT'
          ? new UsageError(`cannot start '${launch.command}': not found; check the command after '--'`)
          : new CommandError(`cannot start '${launch.command}': ${err.message}`),
      );
    });
    child.once('spawn', () => {
      // Always: whatever launched this command (npx, a shell script), a signal to the child reaches the program.
      const hint = options.signal ? `; kill -${options.signal.slice(3)} ${child.pid} writes a snapshot` : '';
      process.stderr.write(style.dim(`tracemalloc: tracing pid ${child.pid} (${options.mode} mode${options.lines ? ', lines' : ''}, ${options.frames} frames)${hint}\n`));
      if (view) {
        view.pid = child.pid;
        view.start();
      }
    });
    child.once('exit', (code, signal) => done({ code, signal }));
  }).finally(() => {
    restore();
    process.off('exit', restore);
    guard.close();
    removeDescendants(out);
  });

  if (guard.killed) {
    removeTemporaryFiles(out, child.pid);
    process.stderr.write(`tracemalloc: the program did not end within ${ENDING_DEADLINE_MS / 1000} s of ${guard.killed}; killed it\n`);
  }
  const written = [...snapshotFiles(out)].filter((f) => !before.has(f)).sort();
  const shown = (f: string) => relative(process.cwd(), join(out, f)) || f;
  if (written.length === 0) {
    // After an ending signal the program (or the kill line above) has said why already.
    if (!guard.signalled) process.stderr.write(`tracemalloc: no snapshot was written; the program may have been killed before it could write one\n`);
  } else {
    const exit = written.find((f) => f.endsWith('-exit.snap')) ?? written[written.length - 1];
    // Several processes or threads: the folder shows them merged.
    const writers = new Set(written.map((f) => /^tracemalloc-(\d+(?:-t\d+)?)/.exec(f)?.[1]));
    const see = writers.size > 1 ? relative(process.cwd(), out) || '.' : shown(exit);
    process.stderr.write(`tracemalloc: wrote ${written.map(shown).join(', ')}\n`);
    process.stderr.write(style.dim(`tracemalloc: see them with: tracemalloc top ${see}\n`));
  }
  if (options.live) process.stderr.write(style.dim(`tracemalloc: the program's output is in ${shownPath(join(out, LIVE_LOG))}\n`));
  const signal = guard.killed ?? result.signal;
  if (signal) {
    process.stderr.write(`tracemalloc: the program was killed by ${signal}\n`);
    return 128 + (constants.signals[signal] ?? 0);
  }
  return result.code ?? 1;
}

// How long a signal to this process waits for the program to say it got the same
// signal from the terminal (sent to the whole process group) before forwarding it.
const GROUP_SIGNAL_WAIT_MS = 150;

/**
 * Signals to `run` itself. The snapshot signal is forwarded. An ending signal
 * (SIGINT, SIGTERM, SIGHUP) is forwarded unless the program reports it got
 * it already (a terminal signals the whole group); then, unless the program
 * reports it handles that signal itself, the program is killed if it has not
 * ended within {@link ENDING_DEADLINE_MS}: its JavaScript may be too busy to
 * end at all (V8 in a long heap walk, a long synchronous loop).
 */
class EndingGuard {
  /** The ending signal after which the program had to be killed, if it had to be. */
  killed: NodeJS.Signals | null = null;
  /** An ending signal reached this process. */
  signalled = false;
  private readonly reported = new Map<string, number>();
  private readonly handled = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private deadline: NodeJS.Timeout | null = null;
  private readonly listeners: Array<[NodeJS.Signals, () => void]> = [];
  private pending = '';

  constructor(
    private readonly child: ChildProcess,
    snapshotSignal: string,
    /** Passes the snapshot signal on to the program's followed child processes. */
    private readonly toDescendants: (signal: NodeJS.Signals) => void,
  ) {
    const channel = child.stdio[3] as Readable | null;
    channel?.setEncoding('utf8').on('data', (text: string) => this.read(text));
    channel?.on('error', () => {});
    for (const name of ENDING_SIGNALS) {
      if (name !== snapshotSignal) this.listen(name, () => this.ending(name));
    }
    if (snapshotSignal) {
      this.listen(snapshotSignal as NodeJS.Signals, () => {
        this.forward(snapshotSignal as NodeJS.Signals);
        this.toDescendants(snapshotSignal as NodeJS.Signals);
      });
    }
  }

  private listen(name: NodeJS.Signals, handler: () => void): void {
    this.listeners.push([name, handler]);
    process.on(name, handler);
  }

  private alive(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private forward(name: NodeJS.Signals): void {
    if (this.alive()) this.child.kill(name);
  }

  /** Lines from the program: `handled SIGTERM` or `ending SIGTERM`. */
  private read(text: string): void {
    this.pending += text;
    let at: number;
    while ((at = this.pending.indexOf('\n')) !== -1) {
      const [what, name] = this.pending.slice(0, at).split(' ');
      this.pending = this.pending.slice(at + 1);
      this.reported.set(name, (this.reported.get(name) ?? 0) + 1);
      if (what === 'handled') this.handled.add(name);
      if (what === 'handled' && this.deadline) {
        // The program ends itself, as it would untraced.
        clearTimeout(this.deadline);
        this.deadline = null;
      }
    }
  }

  private ending(name: NodeJS.Signals): void {
    this.signalled = true;
    const seen = this.reported.get(name) ?? 0;
    this.later(GROUP_SIGNAL_WAIT_MS, () => {
      if ((this.reported.get(name) ?? 0) === seen) this.forward(name);
    });
    if (this.deadline || this.handled.has(name)) return;
    this.deadline = this.later(ENDING_DEADLINE_MS, () => {
      this.deadline = null;
      if (this.handled.has(name) || !this.alive()) return;
      this.killed = name;
      this.child.kill('SIGKILL');
    });
  }

  private later(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    for (const [name, handler] of this.listeners) process.off(name, handler);
    (this.child.stdio[3] as Readable | null)?.destroy();
  }
}

/** A dump the kill interrupted leaves its temporary file (model/dump.ts names them). */
function removeTemporaryFiles(dir: string, pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    for (const f of readdirSync(dir)) {
      if (f.startsWith(`.tracemalloc-${pid}-`) && f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
    }
  } catch {
    // nothing to clean
  }
}

/**
 * The one owner, inside a traced process, of the signals that end it
 * (SIGINT, SIGTERM, SIGHUP), and of the channel to `tracemalloc run`.
 *
 * A signal the program handles itself is left to the program. One it does
 * not handle ends the process as it would have ended untraced (it dies of
 * that signal), after the exit snapshot when that fits in the time a signal
 * allows; otherwise one line says it was skipped.
 *
 * @module
 */
import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { snapshotCostMs } from '../tracer/tracer.js';

/** The signals whose default action ends a Node process and that a terminal or a supervisor sends. */
export const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** `tracemalloc run` ends a program this long after a signal it does not handle. */
export const ENDING_DEADLINE_MS = 2000;

// What an exit snapshot may take after a signal: the deadline, less the process's own ending.
const SNAPSHOT_BUDGET_MS = 1200;

/** Environment variable naming the descriptor of the channel to `tracemalloc run`. */
export const STATUS_FD_ENV = 'TRACEMALLOC_RUN_STATUS_FD';

/** What the owner does on an ending signal. */
export interface EndingOptions {
  /** Writes the exit snapshot; null when none was asked for. */
  writeExitSnapshot: (() => void) | null;
  /** Where the exit snapshot goes, for messages. */
  exitSnapshotPath: string;
  /** `tracemalloc run`'s snapshot signal, which this owner leaves alone; '' for none. */
  snapshotSignal: string;
}

let statusFd: number | null = null;
let owned = false;
let companions: ((budgetMs: number) => () => void) | null = null;

// Of the deadline, what the other threads' exit snapshots may take, counted from the signal.
const COMPANION_BUDGET_MS = 1500;

/**
 * On an ending signal, `ask` runs before this thread's exit snapshot (so
 * that worker threads write theirs meanwhile) and the function it returns
 * after it, to wait for them within `budgetMs`. One hook: `run-hooks.ts`.
 */
export function onEnding(ask: (budgetMs: number) => () => void): void {
  companions = ask;
}

/**
 * Tell `tracemalloc run` what became of a signal: `handled SIGTERM` (the
 * program's own handler runs) or `ending SIGTERM`. Synchronous, so it is out
 * before the process dies.
 */
function tell(message: string): void {
  if (statusFd === null) return;
  try {
    writeSync(statusFd, `${message}\n`);
  } catch {
    statusFd = null; // the parent is gone; its end of the channel says so too
  }
}

/** Take ownership of the ending signals. Once per process. */
export function ownEndingSignals(options: EndingOptions): void {
  if (owned) return;
  owned = true;
  const listeners = new Map<NodeJS.Signals, () => void>();
  const end = (signal: NodeJS.Signals): void => {
    tell(`ending ${signal}`);
    const waitForOthers = askCompanions();
    writeIfItFits(options, signal);
    waitForOthers();
    // With no listener left, Node restores the default action: the process dies of the signal.
    for (const [name, listener] of listeners) process.off(name, listener);
    process.kill(process.pid, signal);
  };
  for (const signal of ENDING_SIGNALS) {
    if (options.snapshotSignal === signal) continue;
    const listener = (): void => {
      if (process.listenerCount(signal) > 1) {
        tell(`handled ${signal}`);
        return;
      }
      end(signal);
    };
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
}

function askCompanions(): () => void {
  try {
    return companions?.(COMPANION_BUDGET_MS) ?? (() => {});
  } catch {
    return () => {};
  }
}

function writeIfItFits(options: EndingOptions, signal: NodeJS.Signals): void {
  const write = options.writeExitSnapshot;
  if (!write) return;
  const cost = snapshotCostMs();
  if (cost > SNAPSHOT_BUDGET_MS) {
    const seconds = (cost / 1000).toFixed(cost < 10_000 ? 1 : 0);
    const hint = options.snapshotSignal ? `; send ${options.snapshotSignal} first for a snapshot` : '';
    process.stderr.write(
      `tracemalloc: no snapshot dumped to ${options.exitSnapshotPath}: ${signal} ends the process and writing it would take about ${seconds} s${hint}\n`,
    );
    return;
  }
  try {
    write();
  } catch (err) {
    process.stderr.write(`tracemalloc: no snapshot dumped to ${options.exitSnapshotPath}: ${(err as Error).message}\n`);
  }
}

/**
 * Under `tracemalloc run`: open the channel to the parent, whose descriptor
 * the parent names in the environment, and end the program when the parent
 * dies (its end of the channel closes), so that no traced program outlives
 * the command that started it. The variable is removed so that the
 * program's own child processes, which may hold another file at that
 * descriptor, never read it.
 */
export function connectToRun(env: NodeJS.ProcessEnv): void {
  const value = env[STATUS_FD_ENV];
  delete env[STATUS_FD_ENV];
  const fd = Number(value);
  if (!value || !Number.isInteger(fd) || fd < 3) return;
  let channel: Socket;
  try {
    channel = new Socket({ fd, readable: true, writable: false });
  } catch {
    return;
  }
  statusFd = fd;
  // Never keeps the program alive, never breaks it.
  channel.unref();
  channel.on('error', () => {});
  channel.on('end', () => {
    statusFd = null;
    process.stderr.write('tracemalloc: `tracemalloc run` is gone; ending the program\n');
    // As a signal from the parent would: the program's SIGTERM handler, or our ending.
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), ENDING_DEADLINE_MS).unref();
  });
  channel.resume();
}

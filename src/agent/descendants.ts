/**
 * Node child processes that `tracemalloc run` follows list themselves in
 * the run's folder, so that `run` can pass its snapshot signal on to them.
 * Each entry holds the process's start time: a pid that died and was
 * reused by another process is never signalled (a snapshot signal such as
 * SIGUSR2 ends a process that does not handle it). Linux only: elsewhere
 * the start time is unknown and children get no signal from `run`.
 *
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The folder, inside run's output folder, of the entries. */
export const DESCENDANTS_DIR = '.tracemalloc-processes';

/** When `pid` started, in clock ticks since boot (`/proc/<pid>/stat`), or null when unknown. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields 3 on follow the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** List this process in `runDir` until it exits. Never throws. */
export function registerDescendant(runDir: string): void {
  const started = startTime(process.pid);
  if (started === null) return;
  const entry = join(runDir, DESCENDANTS_DIR, String(process.pid));
  try {
    mkdirSync(join(runDir, DESCENDANTS_DIR), { recursive: true });
    writeFileSync(entry, started);
  } catch {
    return;
  }
  process.on('exit', () => rmSync(entry, { force: true }));
}

/** Send `signal` to every listed process still running; returns how many got it. */
export function signalDescendants(runDir: string, signal: NodeJS.Signals): number {
  let sent = 0;
  let pids: string[];
  try {
    pids = readdirSync(join(runDir, DESCENDANTS_DIR));
  } catch {
    return 0;
  }
  for (const name of pids) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let listed: string;
    try {
      listed = readFileSync(join(runDir, DESCENDANTS_DIR, name), 'utf8');
    } catch {
      continue;
    }
    if (startTime(pid) !== listed) continue;
    try {
      process.kill(pid, signal);
      sent++;
    } catch {
      // Ended meanwhile.
    }
  }
  return sent;
}

/** Remove the listing once `run` is done. */
export function removeDescendants(runDir: string): void {
  rmSync(join(runDir, DESCENDANTS_DIR), { recursive: true, force: true });
}

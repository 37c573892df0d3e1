/**
 * Re-running `tracemalloc heap` with transparent huge pages for its typed
 * arrays, on Linux machines that grant them only on request.
 *
 * Reading a big snapshot fills hundreds of MB of fresh typed arrays. With
 * 4 KiB pages every page costs a fault on first touch: measured here,
 * 2.7 ms a MB (a 20 MB array took 50 ms to fill, 5 ms with huge pages).
 * Debian's and Ubuntu's kernels default to `madvise`: huge pages only for
 * memory that asks. glibc (2.35 and later) asks for its malloc'd blocks when
 * the `glibc.malloc.hugetlb=1` tunable is set, and tunables are read at
 * process start only, so the command re-runs itself once with it set.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { url as inspectorUrl } from 'node:inspector';

/** The tunable, as GLIBC_TUNABLES spells it. */
export const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

/** Below this much input, starting a second process costs more than it saves. */
export const HUGE_PAGES_MIN_BYTES = 32 * 1024 * 1024;

/**
 * The environment for a process that reads `bytes` of input with huge pages,
 * or null when this one needs no re-run: less than
 * {@link HUGE_PAGES_MIN_BYTES}, not Linux with glibc 2.35 or later, the
 * kernel gives huge pages to everything or nothing, this is the re-run
 * process, a debugger is attached, the tunable is already set, or
 * `TRACEMALLOC_HUGE_PAGES=0`. `TRACEMALLOC_HUGE_PAGES=1` skips the size and
 * kernel checks.
 */
export function hugePagesEnv(bytes: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv | null {
  // TRACEMALLOC_RERUN marks the re-run process: it never re-runs again.
  if (process.platform !== 'linux' || env.TRACEMALLOC_HUGE_PAGES === '0' || env.TRACEMALLOC_RERUN === '1') return null;
  // Someone is debugging this process: the work stays where the debugger is.
  if (inspectorUrl()) return null;
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.includes('glibc.malloc.hugetlb')) return null;
  if (env.TRACEMALLOC_HUGE_PAGES !== '1') {
    if (bytes < HUGE_PAGES_MIN_BYTES) return null;
    let mode: string;
    try {
      mode = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
    } catch {
      return null;
    }
    if (!mode.includes('[madvise]')) return null;
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const [major, minor] = (header?.glibcVersionRuntime ?? '0.0').split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 35)) return null;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${HUGE_PAGES_TUNABLE}` : HUGE_PAGES_TUNABLE };
}

/**
 * Runs this command again in a child process with `env`, passing signals
 * on, and resolves to the exit code to end with (a child killed by a signal
 * re-raises it here). The child gets an IPC channel only to notice this
 * process going away, so that it never outlives it.
 */
export function rerun(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...env, TRACEMALLOC_RERUN: '1' },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const pass = (signal: NodeJS.Signals): void => void child.kill(signal);
  for (const s of signals) process.on(s, pass);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      for (const s of signals) process.off(s, pass);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      for (const s of signals) process.off(s, pass);
      if (signal) {
        process.kill(process.pid, signal);
        resolve(1);
      } else resolve(code ?? 1);
    });
  });
}

/**
 * In a re-run child: exits when the parent goes away (its IPC channel
 * closes), and keeps the channel from holding the event loop open.
 */
export function watchParent(): void {
  if (process.env.TRACEMALLOC_RERUN !== '1' || !process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.exit(1));
}

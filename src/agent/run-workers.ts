/**
 * `tracemalloc run` follows worker threads. Each worker traces itself (the
 * preload runs in it); this module joins the threads of one process:
 *
 * - `worker_threads.Worker` is wrapped so that a worker created with its
 *   own `execArgv` or `env` still gets the preload and run's settings, and
 *   so that `terminate()` first lets the worker write its exit snapshot
 *   (a terminated worker gets no 'exit' event of its own).
 * - Signals reach the main thread only, so the main thread asks the workers
 *   over a BroadcastChannel of ours (its own name: the program's channels
 *   and ports never see these messages) for a snapshot, and for their exit
 *   snapshots when the process ends, waiting for them a bounded time.
 *
 * Workers started with `eval: true` run no preload (Node 20 to 26) and are
 * not traced.
 *
 * @module
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { BroadcastChannel, isMainThread, SHARE_ENV, threadId, type WorkerOptions } from 'node:worker_threads';

const CHANNEL = 'tracemalloc:run-workers';
const PRELOAD = new URL('./run-preload.js', import.meta.url).href;

// A worker that has not begun a requested dump within this time is busy (a long synchronous loop): not waited for.
const START_WAIT_MS = 1000;
// Longest wait for the dumps that began, at process exit and in terminate().
const DUMP_WAIT_MS = 3000;

/** Messages on our channel. `acks` counts dumps begun ([0]) and finished ([1]). */
type Message =
  | { tracemalloc: 'ready' | 'gone'; threadId: number }
  | { tracemalloc: 'snapshot'; reason: string }
  | { tracemalloc: 'exit'; threadId: number; acks: Int32Array; budgetMs: number };

/** What a traced worker does when asked. */
export interface WorkerActions {
  /** Write a numbered snapshot. */
  snapshot(reason: string): void;
  /** Write the exit snapshot, when it fits in `budgetMs`. */
  exit(budgetMs: number): void;
}

let channel: BroadcastChannel | null = null;
// Traced worker threads of this process that said they are ready and not gone.
const ready = new Set<number>();

function isMessage(data: unknown): data is Message {
  return typeof data === 'object' && data !== null && typeof (data as { tracemalloc?: unknown }).tracemalloc === 'string';
}

function post(message: Message): void {
  try {
    channel?.postMessage(message);
  } catch {
    // the channel is closed at exit: nothing to tell
  }
}

/**
 * Join this thread to the others: wrap `Worker`, and on a worker thread
 * answer the main thread's requests with `actions`. Once per thread.
 */
export function followWorkers(actions: WorkerActions): void {
  if (channel) return;
  channel = new BroadcastChannel(CHANNEL);
  // Never keeps a thread alive.
  (channel as unknown as { unref(): void }).unref();
  channel.onmessage = (event: unknown) => {
    const data = (event as { data?: unknown }).data;
    if (!isMessage(data)) return;
    if (data.tracemalloc === 'ready') ready.add(data.threadId);
    else if (data.tracemalloc === 'gone') ready.delete(data.threadId);
    else if (!isMainThread && data.tracemalloc === 'snapshot') actions.snapshot(data.reason);
    else if (!isMainThread && data.tracemalloc === 'exit' && (data.threadId === -1 || data.threadId === threadId)) {
      Atomics.add(data.acks, 0, 1);
      Atomics.notify(data.acks, 0);
      try {
        actions.exit(data.budgetMs);
      } finally {
        Atomics.add(data.acks, 1, 1);
        Atomics.notify(data.acks, 1);
      }
    }
  };
  wrapWorker();
  if (!isMainThread) {
    post({ tracemalloc: 'ready', threadId });
    process.on('exit', () => post({ tracemalloc: 'gone', threadId }));
  }
}

/** Ask every traced worker for a numbered snapshot (the main thread's snapshot signal or timer). */
export function askWorkersForSnapshots(reason: string): void {
  post({ tracemalloc: 'snapshot', reason });
}

/**
 * Ask every traced worker for its exit snapshot now; returns a function that
 * blocks until they wrote it, or a bounded time. Called when the process
 * ends: signal handlers and 'exit' listeners cannot await.
 */
export function askWorkersToExit(budgetMs = DUMP_WAIT_MS): () => void {
  const expected = ready.size;
  if (!channel || expected === 0) return () => {};
  const acks = new Int32Array(new SharedArrayBuffer(8));
  const asked = Date.now();
  post({ tracemalloc: 'exit', threadId: -1, acks, budgetMs });
  return () => {
    waitFor(acks, 0, expected, asked + START_WAIT_MS);
    waitFor(acks, 1, Atomics.load(acks, 0), asked + budgetMs);
  };
}

function waitFor(acks: Int32Array, index: number, count: number, until: number): void {
  for (let seen = Atomics.load(acks, index); seen < count; seen = Atomics.load(acks, index)) {
    const left = until - Date.now();
    if (left <= 0) return;
    Atomics.wait(acks, index, seen, left);
  }
}

/** terminate(): the worker writes its exit snapshot first, waited for asynchronously. */
async function exitSnapshotOf(id: number): Promise<void> {
  const acks = new Int32Array(new SharedArrayBuffer(8));
  const asked = Date.now();
  post({ tracemalloc: 'exit', threadId: id, acks, budgetMs: DUMP_WAIT_MS });
  const sleep = (): Promise<void> => new Promise((done) => setTimeout(done, 5));
  while (Atomics.load(acks, 0) === 0 && Date.now() - asked < START_WAIT_MS) await sleep();
  if (Atomics.load(acks, 0) === 0) return;
  while (Atomics.load(acks, 1) === 0 && Date.now() - asked < DUMP_WAIT_MS) await sleep();
}

/** The settings `tracemalloc run` gives the program, for a worker given its own `env`. */
function runSettings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && (name.startsWith('NODE_TRACEMALLOC') || name.startsWith('TRACEMALLOC_RUN_'))) out[name] = value;
  }
  return out;
}

/** The program's options, with what tracing the worker needs added; never changes the program's object. */
function tracedOptions(options: WorkerOptions | undefined): WorkerOptions | undefined {
  if (!options || options.eval) return options;
  let out = options;
  const execArgv = options.execArgv;
  if (Array.isArray(execArgv) && !execArgv.includes(PRELOAD)) out = { ...out, execArgv: ['--import', PRELOAD, ...execArgv] };
  const env = options.env;
  if (env && env !== SHARE_ENV && typeof env === 'object') out = { ...out, env: { ...runSettings(), ...(env as Record<string, string>) } };
  return out;
}

let wrapped = false;

function wrapWorker(): void {
  if (wrapped) return;
  wrapped = true;
  const threads = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  const Original = threads.Worker;
  const ending = new WeakMap<object, Promise<number>>();
  class Worker extends Original {
    constructor(filename: string | URL, options?: WorkerOptions) {
      super(filename, tracedOptions(options));
      const id = this.threadId;
      // Once-listener on the program's worker: tells nothing to the program, keeps nothing alive.
      this.once('exit', () => ready.delete(id));
    }

    override terminate(): Promise<number> {
      const id = this.threadId;
      const pending = ending.get(this);
      if (pending) return pending;
      if (!ready.has(id)) return super.terminate();
      ready.delete(id);
      const result = exitSnapshotOf(id).then(
        () => super.terminate(),
        () => super.terminate(),
      );
      ending.set(this, result);
      return result;
    }
  }
  Object.defineProperty(Worker, 'name', { value: 'Worker' });
  threads.Worker = Worker;
  // `import { Worker } from 'node:worker_threads'` sees the wrapper too.
  syncBuiltinESMExports();
}

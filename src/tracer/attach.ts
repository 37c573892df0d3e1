/**
 * Attaching to a running Node process: open its inspector (SIGUSR1) unless
 * it is open, run V8's sampling heap profiler there for a while, and leave
 * the process as it was: profiler stopped, inspector closed if we opened it.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Snapshot } from '../model/index.js';
import type { SamplingHeapProfile } from '../capture/sampling.js';
import {
  DEFAULT_INSPECTOR_PORT,
  RemoteError,
  RemoteInspector,
  TargetGoneError,
  checkProcess,
  inspectorUrl,
  listeningPorts,
  nodeOptionsOf,
  portClosed,
  processFacts,
  webSocketClass,
} from '../capture/remote.js';
import { SourceMapResolver } from '../sourcemap/index.js';
import { tracesFromSamplingProfile } from './from-sampling.js';
import { TracebackBuilder } from './frames.js';
import { STACK_DEPTH } from './session.js';

export { RemoteError, TargetGoneError } from '../capture/remote.js';

/** How to attach. */
export interface AttachOptions {
  /** The process to attach to; optional with `inspect` (then checked when given). */
  pid?: number;
  /** An inspector that is already open: a port on 127.0.0.1 or a ws:// URL. It is left open. */
  inspect?: string;
  /** The port SIGUSR1 opens, when /proc cannot tell (default 9229). */
  port?: number;
  /** How long to sample. */
  durationMs: number;
  /** Frames kept per traceback. */
  frames: number;
  /** V8's mean sampling interval in bytes. */
  samplingInterval: number;
  /** Ends the sampling early (the profile so far is kept). */
  signal?: AbortSignal;
  /** Progress lines for stderr. */
  onStatus?: (line: string) => void;
}

/** What an attach found. */
export interface AttachResult {
  snapshot: Snapshot;
  pid: number;
  /** True when the attach opened the inspector (and closed it again). */
  openedInspector: boolean;
  /** False when the attach opened the inspector and it still answered after closing it. */
  inspectorClosed: boolean;
}

// How long a process gets to open its inspector after SIGUSR1.
const OPEN_WAIT_MS = 3000;
const INSPECT_FLAG = /^--inspect(?:-brk|-wait)?(?:=(.*))?$/;

interface Target {
  url: string;
  port: number | null;
  opened: boolean;
}

/** The port of an `--inspect[=[host:]port]` value (9229 when absent). */
function portOf(value: string | undefined): number {
  const m = value === undefined ? null : /(?:^|:)(\d+)$/.exec(value);
  return m ? Number(m[1]) : DEFAULT_INSPECTOR_PORT;
}

function isNodeExecutable(path: string | undefined): boolean {
  return path !== undefined && /node/i.test(basename(path));
}

/** Find or open the inspector of the target, without connecting yet. */
/** How to find the target: its pid, or its inspector's port or URL. */
type TargetOptions = Pick<AttachOptions, 'pid' | 'inspect' | 'port'>;

async function findTarget(options: TargetOptions): Promise<Target> {
  if (options.inspect !== undefined) {
    if (/^wss?:\/\//.test(options.inspect)) return { url: options.inspect, port: null, opened: false };
    if (!/^\d+$/.test(options.inspect)) throw new RemoteError(`--inspect takes a port or a ws:// URL, not ${JSON.stringify(options.inspect)}`);
    const port = Number(options.inspect);
    const url = await inspectorUrl(port);
    if (!url) throw new RemoteError(`no Node inspector answers on 127.0.0.1:${port}`);
    return { url, port, opened: false };
  }
  const pid = options.pid!;
  checkProcess(pid);
  const facts = processFacts(pid);
  if (facts) {
    const exe = facts.exe ?? facts.argv[0];
    // SIGUSR1's default action ends a process: only Node's is safe to send it to.
    if (!isNodeExecutable(exe) && !isNodeExecutable(facts.argv[0])) {
      throw new RemoteError(`pid ${pid} is not a Node.js process (${exe ?? 'unknown executable'}); SIGUSR1 would end it`);
    }
    const nodeOptions = nodeOptionsOf(facts);
    if (nodeOptions.includes('--disable-sigusr1')) {
      throw new RemoteError(
        `pid ${pid} was started with --disable-sigusr1, so it cannot open its inspector on request; start it with --inspect=127.0.0.1:PORT and use 'tracemalloc attach --inspect PORT'`,
      );
    }
    const flag = nodeOptions.map((o) => INSPECT_FLAG.exec(o)).find((m) => m !== null);
    if (flag) {
      const port = options.port ?? portOf(flag[1]);
      const url = await inspectorUrl(port);
      if (!url) throw new RemoteError(`pid ${pid} was started with ${flag[0]}, but no inspector answers on 127.0.0.1:${port}; pass its port with --port`);
      return { url, port, opened: false };
    }
  }
  const candidate = options.port ?? DEFAULT_INSPECTOR_PORT;
  const before = listeningPorts(pid);
  // Opened earlier (inspector.open() in code, or someone's SIGUSR1): use it, leave it open.
  if (before?.has(candidate)) {
    const url = await inspectorUrl(candidate);
    if (url) return { url, port: candidate, opened: false };
  }
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + OPEN_WAIT_MS;
  while (Date.now() < deadline) {
    await sleep(100);
    checkProcess(pid);
    const now = before ? listeningPorts(pid) : null;
    // With /proc, the port that appeared is the inspector's (whatever --inspect-port said).
    const fresh = now && options.port === undefined ? [...now].filter((p) => !before!.has(p)) : [candidate];
    for (const port of fresh) {
      const url = await inspectorUrl(port);
      if (url) return { url, port, opened: true };
    }
  }
  checkProcess(pid);
  throw new RemoteError(
    `pid ${pid} did not open its inspector after SIGUSR1 within ${OPEN_WAIT_MS / 1000} s ` +
      `(started with --disable-sigusr1, a port already taken, or a program that handles SIGUSR1 itself; its stderr says which)`,
  );
}

interface Identity {
  pid: number;
  version: string;
}

async function identify(inspector: RemoteInspector): Promise<Identity> {
  const answer = await inspector.call<{ result: { value?: unknown } }>('Runtime.evaluate', {
    expression: 'JSON.stringify([process.pid, process.version])',
    returnByValue: true,
  });
  const [pid, version] = JSON.parse(String(answer.result.value)) as [number, string];
  return { pid, version };
}

/** True when V8's sampling heap profiler already runs in the target (another tool's). */
async function samplingRunning(inspector: RemoteInspector): Promise<boolean> {
  try {
    await inspector.call('HeapProfiler.getSamplingProfile');
    return true;
  } catch (err) {
    if (err instanceof TargetGoneError || !/not started/i.test((err as Error).message)) throw err;
    return false;
  }
}

/** Wait `ms`, or until `signal` aborts or the connection drops (then TargetGoneError). */
async function waitSampling(inspector: RemoteInspector, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const ac = new AbortController();
  const abort = (): void => ac.abort();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    if (signal?.aborted) return;
    const closed = inspector.waitClosed(ms + 1000).then((isClosed) => (isClosed ? 'closed' : 'time'));
    const timer = sleep(ms, 'time', { signal: ac.signal }).catch(() => 'aborted');
    const how = await Promise.race([closed, timer]);
    if (how === 'closed') throw new TargetGoneError('the inspector connection closed');
  } finally {
    ac.abort();
    signal?.removeEventListener('abort', abort);
  }
}

/**
 * Close the target's inspector (the attach opened it). `inspector.close()`
 * closes every connection, ours included, so its evaluate never answers:
 * the connection closing is the sign it worked. It must run inside the
 * evaluate: closing it later, from a timer while our socket shuts, crashed
 * Node 20, 24 and 26 in tests.
 */
async function closeInspector(inspector: RemoteInspector, port: number | null): Promise<boolean> {
  inspector.post('Runtime.evaluate', { expression: "process.getBuiltinModule('node:inspector').close()" });
  await inspector.waitClosed(3000);
  inspector.close();
  if (port === null) return true;
  for (let i = 0; i < 20; i++) {
    if (await portClosed(port)) return true;
    await sleep(100);
  }
  return false;
}

/** Status lines say what becomes of the target's inspector. */
const inspectorNote = (opened: boolean) => (opened ? ' (opened by SIGUSR1, closed after)' : ' (already open, left open)');

interface Attached<T> {
  value: T;
  identity: Identity;
  openedInspector: boolean;
  inspectorClosed: boolean;
}

/**
 * Find or open the target's inspector, connect, check whose it is, run
 * `work`, and leave: the inspector closed again if this opened it.
 */
async function withTarget<T>(
  options: TargetOptions,
  work: (inspector: RemoteInspector, identity: Identity, where: string, opened: boolean) => Promise<T>,
): Promise<Attached<T>> {
  // Before any signal: failing after SIGUSR1 would leave the inspector open.
  webSocketClass();
  const target = await findTarget(options);
  const where = target.port === null ? target.url : `127.0.0.1:${target.port}`;
  let inspector: RemoteInspector;
  try {
    inspector = await RemoteInspector.connect(target.url);
  } catch (err) {
    if (target.opened) throw new RemoteError(`${(err as Error).message}; the inspector that SIGUSR1 opened on ${where} stays open`);
    throw err;
  }
  let inspectorClosed = true;
  try {
    const identity = await identify(inspector);
    if (options.pid !== undefined && identity.pid !== options.pid) {
      throw new RemoteError(`the inspector on ${where} belongs to pid ${identity.pid}, not ${options.pid}; pass the right one with --port`);
    }
    const value = await work(inspector, identity, where, target.opened);
    return { value, identity, openedInspector: target.opened, inspectorClosed };
  } finally {
    if (target.opened && inspector.open) inspectorClosed = await closeInspector(inspector, target.port);
    inspector.close();
  }
}

/**
 * Attach to a running Node process and sample its live allocations.
 * Throws a RemoteError (one line) when the process cannot be attached, and
 * a TargetGoneError when it exits during the attach.
 */
export async function attach(options: AttachOptions): Promise<AttachResult> {
  const attached = await withTarget(options, async (inspector, identity, where, opened) => {
    let started = false;
    try {
      await inspector.call('HeapProfiler.enable');
      if (await samplingRunning(inspector)) {
        throw new RemoteError(`V8's sampling heap profiler already runs in pid ${identity.pid} (another profiler, or tracemalloc in sampling mode); V8 has one per process`);
      }
      await inspector.call('HeapProfiler.startSampling', {
        samplingInterval: options.samplingInterval,
        stackDepth: STACK_DEPTH,
        includeObjectsCollectedByMajorGC: false,
        includeObjectsCollectedByMinorGC: false,
      });
      started = true;
      options.onStatus?.(
        `tracemalloc: sampling pid ${identity.pid} (Node ${identity.version}) for ${options.durationMs / 1000} s over its inspector on ${where}` +
          `${inspectorNote(opened)}; Ctrl-C ends early`,
      );
      await waitSampling(inspector, options.durationMs, options.signal);
      const profile = (await inspector.call<{ profile: SamplingHeapProfile }>('HeapProfiler.getSamplingProfile', {}, 120_000)).profile;
      await inspector.call('HeapProfiler.stopSampling');
      started = false;
      await inspector.call('HeapProfiler.disable');
      return profile;
    } finally {
      // A dropped connection stops the profiler by itself (V8 disables the session's agent).
      if (started && inspector.open) await inspector.call('HeapProfiler.stopSampling').catch(() => {});
    }
  });
  const { identity } = attached;
  const builder = new TracebackBuilder({ limit: options.frames, internalFrames: false, sourceMaps: new SourceMapResolver() });
  const { traces } = tracesFromSamplingProfile(attached.value, options.samplingInterval, builder);
  const snapshot = new Snapshot(traces, options.frames, {
    mode: 'sampling',
    samplingInterval: options.samplingInterval,
    timestamp: Date.now(),
    pid: identity.pid,
    nodeVersion: identity.version,
  });
  return { snapshot, pid: identity.pid, openedInspector: attached.openedInspector, inspectorClosed: attached.inspectorClosed };
}

// V8 builds the whole snapshot graph in the target before it sends a byte:
// about twice the used heap (Node's documentation of writeHeapSnapshot).
const REMOTE_NEED_PER_HEAP_BYTE = 2;
const MiB = 1024 * 1024;

/**
 * Refuse a heap snapshot the target has no room for: a profiler must not
 * kill the program it measures. `available` is the target's free memory
 * (the smaller of the machine's and its container's).
 */
export function checkRemoteSnapshotBudget(pid: number, heapUsed: number, available: number): void {
  const needed = heapUsed * REMOTE_NEED_PER_HEAP_BYTE;
  if (needed > available) {
    throw new RemoteError(
      `not taking a heap snapshot of pid ${pid}: it needs about ${Math.round(needed / MiB)} MiB there (${Math.round(heapUsed / MiB)} MiB heap) ` +
        `but only ${Math.round(available / MiB)} MiB is free; attach without --heap samples instead`,
    );
  }
}

// Run in the target: its used heap and its free memory, as the memory guard reads them here.
const BUDGET_EXPRESSION = `(() => {
  const v8 = process.getBuiltinModule('node:v8'), os = process.getBuiltinModule('node:os'), fs = process.getBuiltinModule('node:fs');
  let available = os.freemem();
  try {
    const max = fs.readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (max !== 'max') available = Math.min(available, Number(max) - Number(fs.readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim()));
  } catch {}
  return JSON.stringify([v8.getHeapStatistics().used_heap_size, available]);
})()`;

/** What {@link attachHeapSnapshot} wrote. */
export interface HeapAttachResult {
  pid: number;
  /** Bytes written to the file. */
  bytes: number;
  openedInspector: boolean;
  inspectorClosed: boolean;
}

/**
 * Attach to a running Node process and stream a `.heapsnapshot` of it into
 * `path` (written to `path.tmp` first, renamed when complete), after
 * checking that the target has the memory for it.
 */
export async function attachHeapSnapshot(
  options: Pick<AttachOptions, 'pid' | 'inspect' | 'port' | 'onStatus'> & { path: string },
): Promise<HeapAttachResult> {
  const partial = `${options.path}.tmp`;
  const attached = await withTarget(options, async (inspector, identity, where, opened) => {
    const budget = await inspector.call<{ result: { value?: unknown } }>('Runtime.evaluate', { expression: BUDGET_EXPRESSION, returnByValue: true });
    const [heapUsed, available] = JSON.parse(String(budget.result.value)) as [number, number];
    checkRemoteSnapshotBudget(identity.pid, heapUsed, available);
    options.onStatus?.(
      `tracemalloc: taking a heap snapshot of pid ${identity.pid} (Node ${identity.version}, ${Math.round(heapUsed / MiB)} MiB heap) over its inspector on ${where}` +
        inspectorNote(opened),
    );
    const fd = openSync(partial, 'w');
    let bytes = 0;
    try {
      inspector.onEvent<{ chunk: string }>('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => {
        bytes += writeSync(fd, chunk);
      });
      await inspector.call('HeapProfiler.enable');
      // V8 pauses the target while it walks the heap: seconds per GB.
      await inspector.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 30 * 60_000);
      await inspector.call('HeapProfiler.disable');
    } catch (err) {
      closeSync(fd);
      rmSync(partial, { force: true });
      throw err;
    } finally {
      inspector.onEvent('HeapProfiler.addHeapSnapshotChunk', null);
    }
    closeSync(fd);
    renameSync(partial, options.path);
    return bytes;
  });
  return { pid: attached.identity.pid, bytes: attached.value, openedInspector: attached.openedInspector, inspectorClosed: attached.inspectorClosed };
}

/**
 * The inspector of another Node process, over its WebSocket (CDP): opening
 * it with SIGUSR1, finding its port, one client connection, and closing it
 * again. Linux's /proc tells which ports a process listens on; elsewhere the
 * port given (default 9229) is tried.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';

/** Node's default inspector port, which SIGUSR1 opens unless `--inspect-port` says otherwise. */
export const DEFAULT_INSPECTOR_PORT = 9229;

/** A failure to explain in one line (no such process, no inspector, target gone). */
export class RemoteError extends Error {}

/** The target closed the connection (it exited, or something closed its inspector). */
export class TargetGoneError extends RemoteError {}

/** What /proc says about a process, when it can be read. */
export interface ProcessFacts {
  /** Path of the executable, when readable. */
  exe?: string;
  /** Command line words. */
  argv: string[];
  /** NODE_OPTIONS from its environment, when readable. */
  nodeOptions?: string;
}

/** Check that `pid` exists and may be signalled; throws a RemoteError saying why not. */
export function checkProcess(pid: number): void {
  try {
    process.kill(pid, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new RemoteError(`no process with pid ${pid}`);
    if (code === 'EPERM') throw new RemoteError(`not allowed to signal pid ${pid} (another user's process: run attach as that user)`);
    throw err;
  }
}

/** The executable, command line and NODE_OPTIONS of `pid` (Linux), or null where /proc is missing. */
export function processFacts(pid: number): ProcessFacts | null {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((w) => w !== '');
  } catch {
    return null;
  }
  const facts: ProcessFacts = { argv };
  try {
    facts.exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // Another user's process, or a kernel thread: the command line still tells.
  }
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const options = env.find((e) => e.startsWith('NODE_OPTIONS='));
    if (options) facts.nodeOptions = options.slice('NODE_OPTIONS='.length);
  } catch {
    // Unreadable environment: NODE_OPTIONS stays unknown.
  }
  return facts;
}

/** Node's options of a process: its command line up to the script, then NODE_OPTIONS. */
export function nodeOptionsOf(facts: ProcessFacts): string[] {
  const words: string[] = [];
  // Node options come before the script (the first word not starting with '-').
  for (const word of facts.argv.slice(1)) {
    if (!word.startsWith('-')) break;
    words.push(word);
  }
  if (facts.nodeOptions) words.push(...facts.nodeOptions.split(/\s+/).filter((w) => w !== ''));
  return words;
}

/**
 * TCP ports (IPv4 and IPv6) on which `pid` listens, from /proc: its socket inodes matched against its network
 * namespace's table. Null when /proc cannot say (not Linux, another user).
 */
export function listeningPorts(pid: number): Set<number> | null {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // Closed between readdir and readlink.
      }
    }
  } catch {
    return null;
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, inode is field 9.
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** The WebSocket URL of the inspector listening on 127.0.0.1:`port`, or null when none answers. */
export function inspectorUrl(port: number, timeoutMs = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/json/list', timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => {
        chunks.push(c);
        // An inspector's list is small; anything large is some other server.
        if (chunks.reduce((n, b) => n + b.length, 0) > 1 << 20) request.destroy();
      });
      response.on('error', () => resolve(null));
      response.on('end', () => {
        try {
          const list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{ webSocketDebuggerUrl?: unknown }>;
          const url = Array.isArray(list) ? list.find((t) => typeof t?.webSocketDebuggerUrl === 'string')?.webSocketDebuggerUrl : undefined;
          resolve(typeof url === 'string' ? url : null);
        } catch {
          resolve(null);
        }
      });
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}

/** True when nothing accepts connections on 127.0.0.1:`port` any more. */
export async function portClosed(port: number): Promise<boolean> {
  return (await inspectorUrl(port, 500)) === null;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The constructor of a WebSocket client: Node 22+ has one; Node 20 with --experimental-websocket. */
export function webSocketClass(): typeof WebSocket {
  const ctor = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!ctor) {
    throw new RemoteError(
      `attach needs a WebSocket client, which Node ${process.version} lacks: run it on Node 22 or later, or as NODE_OPTIONS=--experimental-websocket tracemalloc attach ...`,
    );
  }
  return ctor;
}

/**
 * One CDP connection to a remote inspector. Every call has a timeout, and
 * all pending calls fail with a TargetGoneError when the connection drops,
 * so nothing waits forever on a dead target.
 */
export class RemoteInspector {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | null = null;
  private readonly closeWaiters: Array<() => void> = [];
  private readonly listeners = new Map<string, (params: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', () => this.closed(new TargetGoneError('the inspector connection closed')));
    socket.addEventListener('error', () => this.closed(new TargetGoneError('the inspector connection failed')));
  }

  /** Connect to `url` (ws://127.0.0.1:PORT/UUID). */
  static connect(url: string, timeoutMs = 5000): Promise<RemoteInspector> {
    const Ctor = webSocketClass();
    return new Promise((resolve, reject) => {
      const socket = new Ctor(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new RemoteError(`no answer from the inspector at ${url} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new RemoteInspector(socket));
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new RemoteError(`cannot connect to the inspector at ${url} (another debugger may be attached)`));
      });
    });
  }

  /** True until the connection closes. */
  get open(): boolean {
    return this.closedError === null;
  }

  /** Call `method`; rejects with the protocol's error message, a timeout, or TargetGoneError. */
  call<T>(method: string, params: object = {}, timeoutMs = 30_000): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RemoteError(`the target did not answer ${method} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Send `method` without waiting for an answer (for calls that close the connection). */
  post(method: string, params: object = {}): void {
    if (!this.closedError) this.socket.send(JSON.stringify({ id: this.nextId++, method, params }));
  }

  /** Resolves when the connection has closed, or after `timeoutMs`; true if it closed. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closedError) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Call `handler` with the parameters of each `method` event (one handler per event; null removes it). */
  onEvent<T>(method: string, handler: ((params: T) => void) | null): void {
    if (handler) this.listeners.set(method, handler as (params: unknown) => void);
    else this.listeners.delete(method);
  }

  /** Close the connection. Never throws. */
  close(): void {
    try {
      this.socket.close();
    } catch {
      // Already closing.
    }
    this.closed(new TargetGoneError('the inspector connection was closed'));
  }

  private receive(data: unknown): void {
    let message: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message?: string } };
    try {
      message = JSON.parse(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString('utf8'));
    } catch {
      return;
    }
    // Events (no id) go to their listener, if any.
    if (typeof message.id !== 'number') {
      if (message.method) this.listeners.get(message.method)?.(message.params);
      return;
    }
    const p = this.pending.get(message.id);
    if (!p) return;
    this.pending.delete(message.id);
    clearTimeout(p.timer);
    if (message.error) p.reject(new RemoteError(message.error.message ?? 'protocol error'));
    else p.resolve(message.result);
  }

  private closed(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const w of this.closeWaiters.splice(0)) w();
  }
}

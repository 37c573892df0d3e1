import { Session } from 'node:inspector';

const LAUNCH_FLAG = '--track-heap-objects';

/**
 * True when Node was started with `--track-heap-objects` (on its command
 * line or in NODE_OPTIONS): V8's allocation tracker then runs from the first
 * line, without the inspector's 50 ms statistics timer (see TrackingCapture).
 */
export function trackerFromLaunch(): boolean {
  return process.execArgv.includes(LAUNCH_FLAG) || (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(LAUNCH_FLAG);
}

// Connected sessions kept for reuse while a tracker runs.
const parked: Session[] = [];
// Inspector trackers running (TrackingCapture); see InspectorSession.disconnect.
let trackers = 0;

/**
 * Mark an allocation tracker as running until the returned function is
 * called: meanwhile no other session of ours disconnects, since that would
 * stop the tracker for the whole isolate.
 */
export function holdTracker(): () => void {
  trackers++;
  let held = true;
  return () => {
    if (held) trackers--;
    held = false;
  };
}

/**
 * A synchronous wrapper over an in-process `node:inspector` session.
 *
 * On the main thread an in-process session answers `post` before `post`
 * returns, so the whole tracer can offer Python's synchronous API.
 */
export class InspectorSession {
  private session: Session | null;

  constructor() {
    let session = parked.pop();
    if (!session) {
      session = new Session();
      session.connect();
    }
    this.session = session;
  }

  /** Send a protocol command and return its result; throws the protocol error. */
  post<T = unknown>(method: string, params?: object): T {
    const session = this.live();
    let done = false;
    let failure: Error | null = null;
    let result: unknown;
    session.post(method, params ?? {}, (err: Error | null, res?: unknown) => {
      done = true;
      failure = err;
      result = res;
    });
    if (!done) {
      // Worker threads answer asynchronously; the tracer is main-thread only.
      throw new Error(`tracemalloc: inspector did not answer ${method} synchronously (is this the main thread?)`);
    }
    if (failure) throw new Error(`tracemalloc: ${method} failed: ${(failure as Error).message}`);
    return result as T;
  }

  /** Subscribe to a protocol event; returns the function that unsubscribes. */
  on<P>(event: string, listener: (params: P) => void): () => void {
    const session = this.live();
    const handler = (message: { params: P }) => listener(message.params);
    session.on(event, handler);
    return () => session.off(event, handler);
  }

  get connected(): boolean {
    return this.session !== null;
  }

  /**
   * Disconnecting disables the agent, which stops tracking without
   * serialising a snapshot. While one of our trackers runs (or V8's from
   * launch) the session is kept for reuse instead: disconnecting any
   * session would stop that tracker for the whole isolate.
   */
  disconnect(): void {
    const session = this.session;
    this.session = null;
    if (session) {
      session.removeAllListeners();
      if (trackers > 0 || trackerFromLaunch()) parked.push(session);
      else session.disconnect();
    }
  }

  private live(): Session {
    if (!this.session) throw new Error('tracemalloc: inspector session is closed');
    return this.session;
  }
}

import { Session } from 'node:inspector';

/**
 * A synchronous wrapper over an in-process `node:inspector` session.
 *
 * On the main thread an in-process session answers `post` before `post`
 * returns, so the whole tracer can offer Python's synchronous API.
 */
export class InspectorSession {
  private session: Session | null;

  constructor() {
    const session = new Session();
    session.connect();
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

  /** Disconnecting disables the agent, which stops tracking without serialising a snapshot. */
  disconnect(): void {
    const session = this.session;
    this.session = null;
    if (session) {
      session.removeAllListeners();
      session.disconnect();
    }
  }

  private live(): Session {
    if (!this.session) throw new Error('tracemalloc: inspector session is closed');
    return this.session;
  }
}

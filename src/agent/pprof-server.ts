/**
 * `GET /debug/pprof/heap`: live memory by allocation site as gzip'd pprof,
 * for `go tool pprof` and for continuous profilers that scrape it (Parca,
 * Grafana Alloy / Pyroscope). It runs inside the traced program, so it never
 * keeps the program alive and never throws into it.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { toPprof } from '../report/pprof.js';
import { snapshotInfo, tracesAsSites } from '../report/sites.js';
import { isTracing, takeSnapshot } from '../tracer/tracer.js';

/** Where {@link servePprof} listens. */
export interface PprofServerOptions {
  /** Address to bind; default `127.0.0.1` (the profile names your files and functions). */
  host?: string;
  /** TCP port; default 6060; 0 picks a free one (see {@link PprofServer.port}). */
  port?: number;
}

/** A running pprof endpoint. */
export interface PprofServer {
  /** The address it is bound to. */
  readonly host: string;
  /** The port it listens on (the one chosen when 0 was asked for). */
  readonly port: number;
  /** `http://HOST:PORT/debug/pprof/heap`. */
  readonly url: string;
  /** Stop listening and close open connections. Never rejects. */
  close(): Promise<void>;
}

/** Default port of the endpoint, as Go programs' net/http/pprof conventionally use. */
export const DEFAULT_PPROF_PORT = 6060;

/** The path of the heap profile. */
export const PPROF_PATH = '/debug/pprof/heap';

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`${text}\n`);
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '').split('?')[0];
  if (path !== PPROF_PATH) return reply(response, 404, `not found; the heap profile is at ${PPROF_PATH}`);
  if (request.method !== 'GET' && request.method !== 'HEAD') return reply(response, 405, 'method not allowed');
  let body: Buffer;
  try {
    if (!isTracing()) throw new Error('tracemalloc is not tracing; call start() first');
    const snapshot = takeSnapshot();
    body = toPprof(tracesAsSites(snapshot), snapshotInfo(snapshot), 'inuse');
  } catch (err) {
    const message = ((err as Error)?.message ?? String(err)).replace(/^tracemalloc: /, '').replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`tracemalloc: pprof endpoint: ${message}\n`);
    return reply(response, 500, message);
  }
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-disposition': 'attachment; filename="heap.pb.gz"',
    'content-length': body.length,
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/**
 * Serve live memory by allocation site as pprof on
 * `http://HOST:PORT/debug/pprof/heap` (sample types `inuse_objects` and
 * `inuse_space`, the data of `tracemalloc report --pprof`), for
 * `go tool pprof` and scrapers such as Parca and Grafana Alloy. Each request
 * takes a snapshot, so use sampling mode (the default) when it is scraped
 * often: exact mode takes a full heap snapshot per request.
 *
 * The server does not keep the process alive, and a failing request gets a
 * 500 and one line on stderr, never an exception in your program. Call
 * `start()` first; requests before it get a 500.
 *
 * @example
 * ```ts
 * import { start, servePprof } from 'tracemalloc';
 * start();
 * const pprof = await servePprof({ port: 6060 });
 * // go tool pprof -top http://127.0.0.1:6060/debug/pprof/heap
 * ```
 * @throws Error when it cannot listen (port taken, bad address)
 */
export function servePprof(options: PprofServerOptions = {}): Promise<PprofServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PPROF_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.reject(new RangeError(`tracemalloc: pprof port must be 0 to 65535, got ${String(port)}`));
  const sockets = new Set<Socket>();
  // Loaded on first use, through require: an ES import of node:http reads its lazy
  // WebSocket export, which loads undici and its 128 KiB llhttp memory into every traced program.
  const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
  const server = createServer((request, response) => {
    try {
      handle(request, response);
    } catch (err) {
      // A write on a socket the scraper closed: nothing to answer any more.
      process.stderr.write(`tracemalloc: pprof endpoint: ${(err as Error)?.message ?? String(err)}\n`);
    }
  });
  server.on('connection', (socket: Socket) => {
    // A scraper's keep-alive connection must not keep the program alive either.
    socket.unref();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (err) => process.stderr.write(`tracemalloc: pprof endpoint: ${err.message}\n`));
      server.unref();
      const bound = (server.address() as AddressInfo).port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        host,
        port: bound,
        url: `http://${shownHost}:${bound}${PPROF_PATH}`,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

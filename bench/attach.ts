/**
 * `tracemalloc attach` on a loaded Express app (`bench/attach-app.ts`, run as
 * plain `node`): requests per second under autocannon before the attach,
 * during a 5 s attach, and after it detached, each round in a fresh app.
 * Prints medians and the ratios against "before" of the same rounds.
 *
 *   npm run bench:attach [-- --rounds 3 --seconds 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { median } from './children.js';

const APP = fileURLToPath(new URL('./attach-app.js', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startApp(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [`--inspect-port=${await freePort()}`, APP], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve((JSON.parse(c.toString().split('\n')[0]) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the app exited with ${code}`)));
  });
  return { child, port };
}

async function rate(port: number, seconds: number): Promise<number> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/catalog`, connections: 8, duration: seconds });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return result.requests.total / seconds;
}

function attach(pid: number, seconds: number, out: string): Promise<number | null> {
  // Node 20 has a WebSocket client only behind a flag (docs/cli.md).
  const flags = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function' ? [] : ['--experimental-websocket', '--no-warnings'];
  const child = spawn(process.execPath, [...flags, CLI, 'attach', String(pid), '--duration', String(seconds), '--out', out], { stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

async function main(): Promise<void> {
  const rounds = arg('rounds', 3);
  const seconds = arg('seconds', 5);
  const out = mkdtempSync(join(tmpdir(), 'tracemalloc-bench-attach-'));
  const figures = { before: [] as number[], during: [] as number[], after: [] as number[] };
  try {
    for (let round = 0; round < rounds; round++) {
      const app = await startApp();
      try {
        await rate(app.port, 2); // warm: the app's code optimised, as in production
        figures.before.push(await rate(app.port, seconds));
        const [during, code] = await Promise.all([rate(app.port, seconds), attach(app.child.pid!, seconds, out)]);
        if (code !== 0) throw new Error(`tracemalloc attach exited with ${code}`);
        figures.during.push(during);
        figures.after.push(await rate(app.port, seconds));
      } finally {
        app.child.kill('SIGKILL');
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const before = median(figures.before);
  console.log(`node ${process.version}, ${rounds} rounds of ${seconds} s each, autocannon 8 connections on GET /catalog; medians`);
  for (const [phase, list] of Object.entries(figures)) {
    const m = median(list);
    console.log(`  ${phase.padEnd(7)} ${m.toFixed(0).padStart(6)} req/s  ${(m / before).toFixed(2)}x   (rounds: ${list.map((x) => x.toFixed(0)).join(', ')})`);
  }
}

await main();

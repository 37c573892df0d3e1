import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Absolute path of a compiled fixture under dist/test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/**
 * Run a Node program and return its output. The limit only catches hangs
 * (a failure, not a timing assertion): a healthy run takes a few seconds.
 */
export function runNode(args: string[], options: { env?: NodeJS.ProcessEnv; binary?: string; hangLimitMs?: number; cwd?: string } = {}) {
  const run = spawnSync(options.binary ?? process.execPath, args, {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    timeout: options.hangLimitMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr, error: run.error };
}

/** Run a program that prints one JSON document; fail with its stderr otherwise. */
export function runJson<T>(args: string[], options?: Parameters<typeof runNode>[1]): T {
  const run = runNode(args, options);
  if (run.status !== 0) throw new Error(`child ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a child to listen on). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

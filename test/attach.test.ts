// `tracemalloc attach`: a real Express app started as plain `node`, under
// autocannon's load, attached over SIGUSR1 and left as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from './helpers.js';
import { checkRemoteSnapshotBudget } from '../src/tracer/attach.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SERVER = fileURLToPath(new URL('../../test/fixtures/attach-server.mjs', import.meta.url));
// Node 20 has a WebSocket client only behind a flag (see docs/cli.md).
const HAS_WEBSOCKET = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function';
const CLI_FLAGS = HAS_WEBSOCKET ? [] : ['--experimental-websocket', '--no-warnings'];
const MAJOR = Number(process.versions.node.split('.')[0]);

interface Done {
  status: number | null;
  stdout: string;
  stderr: string;
}

function finished(child: ChildProcess, limitMs: number): Promise<Done> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Run the CLI without blocking this process (the load loop runs meanwhile). */
function cli(args: string[], flags = CLI_FLAGS): Promise<Done> {
  const child = spawn(process.execPath, [...flags, CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return finished(child, 60_000);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

interface App {
  child: ChildProcess;
  pid: number;
  port: number;
  stderr: () => string;
}

async function startApp(nodeFlags: string[]): Promise<App> {
  const child = spawn(process.execPath, [...nodeFlags, SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      const line = text.split('\n')[0];
      if (text.includes('\n')) resolve((JSON.parse(line!) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, pid: child.pid!, port, stderr: () => stderr };
}

function stopApp(app: App): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    app.child.on('exit', () => resolve());
    app.child.kill('SIGKILL');
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tracemalloc-attach-'));
}

test('attach samples an Express app under autocannon, names its leaking handler and leaves the app as it was', { timeout: 120_000 }, async () => {
  const inspectPort = await freePort();
  const app = await startApp([`--inspect-port=${inspectPort}`]);
  const out = tempDir();
  try {
    // autocannon, 8 connections, until stopped after the attach.
    const traffic = autocannon({ url: `http://127.0.0.1:${app.port}/orders`, method: 'POST', connections: 8, duration: 60 });
    await sleep(1000);
    const first = await cli(['attach', String(app.pid), '--duration', '5', '--out', out]);
    traffic.stop();
    const served = await traffic;
    assert.equal(first.status, 0, first.stderr);
    assert.ok(served.requests.total > 100 && served.errors === 0 && served.non2xx === 0, `the app served every request: ${JSON.stringify(served.requests)}, ${served.errors} errors`);
    const top = first.stdout.split('\n').find((l) => l.startsWith('#1:'));
    assert.match(top ?? '', /attach-server\.mjs:\d+ \(in recordOrder\)/, first.stdout);
    assert.match(first.stderr, new RegExp(`sampling pid ${app.pid} .* on 127\\.0\\.0\\.1:${inspectPort} \\(opened by SIGUSR1, closed after\\)`));

    const snap = join(out, `tracemalloc-${app.pid}-attach.snap`);
    const loaded = await cli(['top', snap, '--limit', '1'], []);
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.match(loaded.stdout, /#1: .*attach-server\.mjs:\d+ \(in recordOrder\)/);

    // The app still serves, its inspector is closed, and V8's profiler is not running (a second attach starts it again).
    assert.equal(await (await fetch(`http://127.0.0.1:${app.port}/health`)).text(), 'ok');
    assert.ok(await refused(inspectPort), 'the inspector port is closed after the attach');
    const second = await cli(['attach', String(app.pid), '--duration', '0.5', '--out', out, '--limit', '1']);
    assert.equal(second.status, 0, second.stderr);
    assert.ok(await refused(inspectPort), 'the inspector port is closed after the second attach');
    assert.equal(await (await fetch(`http://127.0.0.1:${app.port}/health`)).text(), 'ok');
    assert.equal(app.child.exitCode, null, 'the app is still running');
  } finally {
    await stopApp(app);
    rmSync(out, { recursive: true, force: true });
  }
});

test('attach --heap streams a heap snapshot of the running app that tracemalloc heap reads, and leaves the app as it was', { timeout: 120_000 }, async () => {
  const inspectPort = await freePort();
  const app = await startApp([`--inspect-port=${inspectPort}`]);
  const out = tempDir();
  try {
    // 30 orders of 100 lines each: 3,000 line objects held by leakedOrders.
    for (let i = 0; i < 30; i++) await (await fetch(`http://127.0.0.1:${app.port}/orders`, { method: 'POST' })).arrayBuffer();
    const result = await cli(['attach', String(app.pid), '--heap', '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const name = `tracemalloc-${app.pid}.heapsnapshot`;
    assert.match(result.stdout, new RegExp(`^wrote .*${name} \\([\\d.]+ [KM]iB\\); see it with: tracemalloc heap `));
    assert.match(result.stderr, /taking a heap snapshot of pid \d+ .* \(opened by SIGUSR1, closed after\)/);
    assert.deepEqual(readdirSync(out), [name], 'the file, and no partial one');
    const heap = await cli(['heap', join(out, name), '--limit', '50'], []);
    assert.equal(heap.status, 0, heap.stderr);
    const objects = Number(/^\s*(\d+)\s.*\sObject$/m.exec(heap.stdout)?.[1]);
    assert.ok(objects >= 3030, `the 3,000 order lines and 30 orders are in the census: ${objects} Objects`);
    assert.equal(await (await fetch(`http://127.0.0.1:${app.port}/health`)).text(), 'ok');
    assert.ok(await refused(inspectPort), 'the inspector port is closed after the attach');
  } finally {
    await stopApp(app);
    rmSync(out, { recursive: true, force: true });
  }
});

test('attach --heap refuses in one line when the target lacks the memory for the snapshot', () => {
  assert.throws(() => checkRemoteSnapshotBudget(42, 600 * 1024 * 1024, 1000 * 1024 * 1024), {
    message: 'not taking a heap snapshot of pid 42: it needs about 1200 MiB there (600 MiB heap) but only 1000 MiB is free; attach without --heap samples instead',
  });
  assert.doesNotThrow(() => checkRemoteSnapshotBudget(42, 400 * 1024 * 1024, 1000 * 1024 * 1024));
});

test('attach uses an inspector that is already open and leaves it open', { timeout: 60_000 }, async () => {
  const inspectPort = await freePort();
  const app = await startApp([`--inspect=127.0.0.1:${inspectPort}`]);
  const out = tempDir();
  try {
    const result = await cli(['attach', String(app.pid), '--duration', '0.5', '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /\(already open, left open\)/);
    assert.equal(await refused(inspectPort), false, 'the inspector the app was started with stays open');
    const byPort = await cli(['attach', '--inspect', String(inspectPort), '--duration', '0.5', '--out', out]);
    assert.equal(byPort.status, 0, byPort.stderr);
    assert.equal(await refused(inspectPort), false);
  } finally {
    await stopApp(app);
    rmSync(out, { recursive: true, force: true });
  }
});

test('attach says in one line when the target dies during the attach, and writes nothing', { timeout: 60_000 }, async () => {
  const app = await startApp([`--inspect-port=${await freePort()}`]);
  const out = tempDir();
  try {
    const running = cli(['attach', String(app.pid), '--duration', '10', '--out', out]);
    // Kill the app once sampling has begun.
    const started = Date.now();
    while (!app.stderr().includes('Debugger attached') && Date.now() - started < 10_000) await sleep(50);
    await sleep(300);
    await stopApp(app);
    const result = await running;
    assert.equal(result.status, 1);
    assert.match(result.stderr.trim().split('\n').at(-1)!, new RegExp(`^tracemalloc: pid ${app.pid} exited \\(or closed its inspector\\) during the attach; nothing written$`));
    assert.deepEqual(readdirSync(out), []);
  } finally {
    await stopApp(app);
    rmSync(out, { recursive: true, force: true });
  }
});

test('attach explains in one line what it cannot attach to', { timeout: 60_000 }, async () => {
  const out = tempDir();
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = spawn(process.execPath, ['-e', '0']);
  await finished(exited, 10_000);
  try {
    const notNode = await cli(['attach', String(sleeper.pid), '--duration', '0.5', '--out', out]);
    assert.equal(notNode.status, 1);
    assert.match(notNode.stderr, /^tracemalloc: pid \d+ is not a Node\.js process \(.*sleep\); SIGUSR1 would end it\n$/);
    assert.equal(sleeper.exitCode, null, 'the other process was not signalled');
    const gone = await cli(['attach', String(exited.pid), '--out', out]);
    assert.equal(gone.status, 1);
    assert.equal(gone.stderr, `tracemalloc: no process with pid ${exited.pid}\n`);
    const usage = await cli(['attach', '--out', out]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^tracemalloc: give the process id, or --inspect with its inspector port\n$/);
    if (!HAS_WEBSOCKET) {
      const noClient = await cli(['attach', String(process.pid), '--out', out], []);
      assert.equal(noClient.status, 1);
      assert.match(noClient.stderr, /^tracemalloc: attach needs a WebSocket client, .*--experimental-websocket/);
    }
    assert.deepEqual(readdirSync(out), []);
  } finally {
    sleeper.kill('SIGKILL');
    rmSync(out, { recursive: true, force: true });
  }
});

test('attach refuses a process started with --disable-sigusr1', { timeout: 60_000, skip: MAJOR < 22 ? 'Node 20 has no --disable-sigusr1' : false }, async () => {
  const app = await startApp(['--disable-sigusr1']);
  const out = tempDir();
  try {
    const result = await cli(['attach', String(app.pid), '--out', out]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^tracemalloc: pid \d+ was started with --disable-sigusr1, so it cannot open its inspector on request; .*\n$/);
    assert.equal(app.child.exitCode, null, 'the app still runs');
  } finally {
    await stopApp(app);
    rmSync(out, { recursive: true, force: true });
  }
});

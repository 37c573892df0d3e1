// `tracemalloc run` follows Node child processes (issue 18): spawn, exec and
// tools built on them inherit NODE_OPTIONS, and each child traces itself
// into the run's folder under its own pid; `top` over the folder merges them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertTimelinesMatchSnapshots, fixture, tracedRun, UNTRACED_BY_V8 } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface TopJson {
  rows: Array<{ frames: Array<{ function: string; file: string }>; count: number; threads?: string[] }>;
  sources: Array<{ label: string; script?: string }>;
}

function traced(runArgs: string[], program: string[]) {
  const t = tracedRun(runArgs, program);
  return { ...t, snaps: t.files.filter((f) => f.endsWith('.snap')), top: (...args: string[]) => t.top<TopJson>('--limit', '0', ...args) };
}

const pidOf = (file: string) => /^tracemalloc-(\d+)-exit\.snap$/.exec(file)?.[1];

test('children started with spawn() and exec() trace themselves, exactly, each under its own pid', () => {
  const t = traced(['--mode', 'exact'], [process.execPath, fixture('spawner.js')]);
  try {
    assert.equal(t.run.status, 0, t.run.stderr);
    for (const line of ['spawn child kept 20000', 'exec child kept 20000', 'spawner done']) assert.ok(t.run.stdout.includes(`${line}\n`), t.run.stdout);
    const pids = new Set(t.snaps.map(pidOf));
    assert.equal(t.snaps.length, 3, `an exit snapshot from the program and from each child: ${t.snaps}`);
    assert.equal(pids.size, 3, `three processes: ${t.snaps}`);
    const view = t.top();
    assert.equal(view.sources.length, 3, JSON.stringify(view.sources));
    const held = view.rows.find((r) => r.frames.at(-1)!.function === 'holdInChild');
    assert.ok(held, 'holdInChild is in the merged view');
    assert.match(held.frames.at(-1)!.file, /spawned-child\.(ts|js)$/);
    // 20,000 objects in each child, plus the array's backing stores.
    assert.ok(held.count >= 40_000 - 2 * UNTRACED_BY_V8 && held.count < 40_100, `holdInChild count: ${held.count}`);
    assert.equal(held.threads?.length, 2, `two processes kept them: ${held.threads}`);
    // Labels say what each process ran; --thread picks processes by it.
    assert.ok(held.threads!.every((label) => /^pid \d+ spawned-child\.js main$/.test(label)), `${held.threads}`);
    assert.ok(view.sources.some((s) => /^pid \d+ spawner\.js main$/.test(s.label)), JSON.stringify(view.sources));
    const children = t.top('--thread', 'spawned-child.js');
    assert.equal(children.sources.length, 2, JSON.stringify(children.sources));
    assert.ok(children.sources.every((s) => s.script === 'spawned-child.js'), JSON.stringify(children.sources));
    // Each process's timeline is named as its snapshot is, its header names the process.
    const timelines = assertTimelinesMatchSnapshots(t, 'exact');
    assert.deepEqual([...timelines.values()].map((tl) => tl.header.script).sort(), ['spawned-child.js', 'spawned-child.js', 'spawner.js']);
    assert.equal(new Set([...timelines.values()].map((tl) => tl.header.pid)).size, 3, 'three processes');
    assert.ok([...timelines.values()].every((tl) => !tl.sampled), 'exact mode lists no samples');
    // V8's tracker from launch has no running total between snapshots: the ticks say unknown, not 0.
    assert.ok([...timelines.values()].every((tl) => tl.ticks.length > 0 && tl.ticks.every((t) => t.traced === null && t.heapUsed > 0)), 'exact ticks: traced unknown, heap used known');
  } finally {
    t.done();
  }
});

test('a worker thread that leaks and a spawned node child that leaks: run writes files for all three, top shows both sites with their process and thread', () => {
  // Every 4 KiB: the child keeps only about 320 KB, five samples at the default interval.
  const t = traced(['--interval', '4096'], [fixture('worker-and-child.js')]);
  try {
    assert.equal(t.run.status, 0, t.run.stderr);
    assert.match(t.run.stdout, /worker: leaked 100000\n/);
    assert.match(t.run.stdout, /spawn child kept 20000\n/);
    assert.equal(t.snaps.length, 3, `main, worker and child: ${t.snaps}`);
    assert.equal(t.snaps.filter((f) => /^tracemalloc-\d+-t\d+-worker-leaky\.js-exit\.snap$/.test(f)).length, 1, `${t.snaps}`);
    const view = t.top();
    const worker = view.rows.find((r) => r.frames.at(-1)!.function === 'leakInWorker');
    const child = view.rows.find((r) => r.frames.at(-1)!.function === 'holdInChild');
    assert.ok(worker && child, JSON.stringify(view.rows.slice(0, 5).map((r) => r.frames.at(-1))));
    // Sampling estimates: 100,000 records of three objects each (object, array, its elements) and 20,000 objects kept (JIT on).
    assert.ok(worker.count > 200_000 && worker.count < 400_000, `leakInWorker: ${worker.count}`);
    assert.ok(child.count > 10_000 && child.count < 40_000, `holdInChild: ${child.count}`);
    assert.equal(worker.threads?.length, 1);
    assert.match(worker.threads![0], /^pid \d+ t\d+ worker-leaky\.js$/);
    assert.equal(child.threads?.length, 1);
    assert.match(child.threads![0], /^pid \d+ spawned-child\.js main$/);
    assert.equal(assertTimelinesMatchSnapshots(t, 'sampling').size, 3);
  } finally {
    t.done();
  }
});

test('cluster workers (fork) and an execFile() child are followed, each into its own files', () => {
  const t = traced(['--interval', '4096'], [fixture('cluster-app.js')]);
  try {
    assert.equal(t.run.status, 0, t.run.stderr);
    assert.equal(t.run.stdout.match(/^cluster worker kept 20000$/gm)?.length, 2, t.run.stdout);
    assert.match(t.run.stdout, /^execFile child kept 20000$/m);
    assert.match(t.run.stdout, /^primary done$/m);
    assert.equal(t.snaps.length, 4, `the primary, two cluster workers and the execFile child: ${t.snaps}`);
    assert.equal(new Set(t.snaps.map(pidOf)).size, 4, `${t.snaps}`);
    const view = t.top();
    const workers = view.rows.find((r) => r.frames.at(-1)!.function === 'holdInClusterWorker');
    const child = view.rows.find((r) => r.frames.at(-1)!.function === 'holdInChild');
    assert.ok(workers && child, JSON.stringify(view.rows.slice(0, 5).map((r) => r.frames.at(-1))));
    // Cluster workers run the primary's script: two processes of cluster-app.js hold the objects.
    assert.equal(workers.threads?.length, 2, `${workers.threads}`);
    assert.ok(workers.threads!.every((label) => /^pid \d+ cluster-app\.js main$/.test(label)), `${workers.threads}`);
    assert.ok(workers.count > 2 * 10_000 && workers.count < 2 * 40_000, `holdInClusterWorker: ${workers.count}`);
    assert.deepEqual(child.threads, [child.threads![0]]);
    assert.match(child.threads![0], /^pid \d+ spawned-child\.js main$/);
  } finally {
    t.done();
  }
});

test('--no-follow leaves child processes untraced', () => {
  const t = traced(['--no-follow'], [process.execPath, fixture('spawner.js')]);
  try {
    assert.equal(t.run.status, 0, t.run.stderr);
    assert.ok(t.run.stdout.includes('spawner done\n'));
    assert.equal(t.snaps.length, 1, `${t.snaps}`);
  } finally {
    t.done();
  }
});

test("a real multi-process tool: node's test runner runs a test file in its own child process, which is traced", () => {
  const t = traced(['--mode', 'exact'], [process.execPath, '--test', '--test-reporter=tap', fixture('child-suite.js')]);
  try {
    assert.equal(t.run.status, 0, t.run.stderr + t.run.stdout);
    assert.match(t.run.stdout, /^# pass 1$/m);
    // Node runs no --import in the runner's own process; the test file's process is traced.
    const runner = /tracing pid (\d+)/.exec(t.run.stderr)?.[1];
    assert.ok(t.snaps.some((f) => pidOf(f) !== runner), `a snapshot from the test file's process: ${t.snaps}, runner ${runner}`);
    const held = t.top().rows.find((r) => r.frames.at(-1)!.function === 'holdInSuite');
    assert.ok(held, 'holdInSuite, run in the test file process, is in the merged view');
    assert.ok(held.count >= 30_000 - UNTRACED_BY_V8 && held.count < 30_100, `holdInSuite count: ${held.count}`);
  } finally {
    t.done();
  }
});

test("the snapshot signal sent to run reaches the program's followed children too, never the shell between them", { skip: process.platform !== 'linux' && 'children are listed by start time from /proc' }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'tm-children-'));
  try {
    const run = spawn(process.execPath, [CLI, 'run', '--out', out, '--', process.execPath, fixture('spawner-waiting.js')], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    run.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await new Promise<void>((ready, fail) => {
      run.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (stdout.includes('ready\n')) ready();
      });
      run.on('exit', () => fail(new Error(`run ended before the children waited: ${stderr}`)));
    });
    run.kill('SIGUSR2');
    const code = await new Promise<number | null>((done) => run.on('exit', (c) => done(c)));
    assert.equal(code, 0, stderr);
    assert.ok(stdout.includes('both children ended\n'), `the shell and both children ended normally: ${stdout}`);
    const snaps = readdirSync(out).filter((f) => f.endsWith('.snap'));
    const signalled = snaps.filter((f) => /^tracemalloc-\d+-001-signal\.snap$/.test(f));
    assert.equal(signalled.length, 3, `a signal snapshot from the program and from each child: ${snaps}`);
    assert.equal(snaps.filter((f) => f.endsWith('-exit.snap')).length, 3, `${snaps}`);
    assert.ok(!existsSync(join(out, '.tracemalloc-processes')), 'run removes its list of children');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

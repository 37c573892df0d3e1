// `tracemalloc run` follows worker threads (issue 18): each traces itself into
// its own files, named by pid and thread; `top` over the folder merges them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTimelinesMatchSnapshots, fixture, tracedRun } from './helpers.js';

interface TopJson {
  rows: Array<{ frames: Array<{ function: string; file: string }>; size: number; threads?: string[] }>;
  sources: Array<{ threadId: number; threadName?: string; label: string }>;
}

// Five rows are enough for these views.
function traced(runArgs: string[], program: string[]) {
  const t = tracedRun(runArgs, program);
  return { ...t, top: (...args: string[]) => t.top<TopJson>('--limit', '5', ...args) };
}

const workerFiles = (files: string[], script: string) => files.filter((f) => new RegExp(`^tracemalloc-\\d+-t\\d+-${script.replace('.', '\\.')}-exit\\.snap$`).test(f));

test('plain workers: own execArgv and env, terminate(), process.exit in the worker; messages and exit code unchanged', () => {
  const t = traced([], [fixture('workers-main.js')]);
  try {
    assert.equal(t.run.status, 3, t.run.stderr);
    for (const line of ['plain: leaked 100000', 'plain exit 0', 'own-options: leaked 100000', 'own-options exit 0', 'terminated: leaked 100000', 'terminated exit 1', 'eval: hi', 'eval exit 0']) {
      assert.ok(t.run.stdout.includes(`${line}\n`), `program output has '${line}': ${t.run.stdout}`);
    }
    assert.equal(t.files.filter((f) => /^tracemalloc-\d+-exit\.snap$/.test(f)).length, 1, `main exit snapshot keeps its name: ${t.files}`);
    assert.equal(workerFiles(t.files, 'worker-leaky.js').length, 3, `one exit snapshot per traced worker (eval workers are not): ${t.files}`);
    const view = t.top();
    assert.equal(view.rows[0].frames[0].function, 'leakInWorker', JSON.stringify(view.rows[0]));
    assert.match(view.rows[0].frames[0].file, /worker-leaky\.(ts|js)$/);
    assert.equal(view.rows[0].threads?.length, 3, `the leak is in three workers: ${view.rows[0].threads}`);
    assert.ok(view.rows[0].threads!.every((label) => /^t\d+ worker-leaky\.js$/.test(label)));
    assert.equal(view.sources.length, 4);
    const main = t.top('--thread', 'main');
    assert.ok(!main.rows.some((r) => r.frames[0].function === 'leakInWorker'), 'the main thread did not leak');
    // Each traced thread's timeline is named as its snapshots are, its header names the thread.
    const timelines = assertTimelinesMatchSnapshots(t, 'sampling');
    assert.equal(timelines.size, 4, `the main thread and three workers: ${t.files}`);
    const mainTimelines = [...timelines].filter(([prefix]) => /^tracemalloc-\d+$/.test(prefix));
    assert.equal(mainTimelines.length, 1);
    assert.equal(mainTimelines[0][1].header.script, 'workers-main.js');
    assert.equal(new Set([...timelines.values()].map((tl) => tl.header.threadId)).size, 4, 'four threads');
    assert.equal(new Set([...timelines.values()].map((tl) => tl.header.pid)).size, 1, 'one process');
  } finally {
    t.done();
  }
});

test('--no-follow: the main thread only, as before', () => {
  const t = traced(['--no-follow'], [fixture('workers-main.js')]);
  try {
    assert.equal(t.run.status, 3, t.run.stderr);
    assert.deepEqual(t.files.filter((f) => f.endsWith('.snap')).length, 1, `${t.files}`);
  } finally {
    t.done();
  }
});

for (const ending of ['destroy', 'end'] as const) {
  test(`a piscina pool whose tasks leak (${ending === 'destroy' ? 'pool.destroy() terminates the workers' : 'the program ends with the pool alive'})`, () => {
    const t = traced([], [fixture('pool-main.js'), ending]);
    try {
      assert.equal(t.run.status, 0, t.run.stderr);
      assert.match(t.run.stdout, /^tasks 400, /);
      assert.equal(workerFiles(t.files, 'worker.js').length, 2, `both pool workers wrote: ${t.files}`);
      const view = t.top();
      assert.equal(view.rows[0].frames[0].function, 'leakInTask', JSON.stringify(view.rows[0]));
      assert.match(view.rows[0].frames[0].file, /pool-task\.(ts|js)$/);
      assert.deepEqual(view.rows[0].threads?.map((l) => l.replace(/^t\d+/, 't')), ['t worker.js', 't worker.js']);
      assert.ok(view.rows[0].size > 5 * 2 ** 20, `400 tasks of 500 objects: ${view.rows[0].size}`);
    } finally {
      t.done();
    }
  });
}

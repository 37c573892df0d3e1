import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runJson } from './helpers.js';

// Each case runs in a child on this Node; `npm test` runs the suite on every
// supported Node (test/run-all.ts), which covers the asynchronous inspector
// answers of Node 22 and later.
const modes = ['sampling', 'exact'] as const;
// V8 reports a few objects more than the program's own at an exact site (array growth).
const exactly = (count: unknown) => typeof count === 'number' && count >= 20_000 && count < 20_100;
// Sampling counts are estimates; the site holds 20,000 objects.
const estimated = (count: unknown) => typeof count === 'number' && count > 2_000 && count < 200_000;
const siteFound = (mode: string, count: unknown) => (mode === 'exact' ? exactly(count) : estimated(count));
const LOST = /stopped by another inspector session .*V8 has one .*per isolate.*call stop\(\) and start\(\)/;
const run = <T>(args: string[]) => runJson<T>(args, { hangLimitMs: 60_000 });

describe(`coexistence on Node ${process.version}`, () => {
  for (const mode of modes) {
    it(`${mode}: a debugger attached over WebSocket keeps working, and so does tracing`, () => {
      const out = run<Record<string, unknown>>(['--inspect=0', '--experimental-websocket', fixture('coexist-debugger.js'), mode, 'plain']);
      assert.ok(siteFound(mode, out.siteCount), JSON.stringify(out));
      assert.equal(out.evaluated, 42);
      assert.ok((out.debuggerSamples as number) > 0, 'the debugger samples the heap after stop()');
    });

    it(`${mode}: a debugger that runs its own sampling profiler`, () => {
      const out = run<Record<string, unknown>>(['--inspect=0', '--experimental-websocket', fixture('coexist-debugger.js'), mode, 'sampling']);
      if (mode === 'sampling') {
        // One sampling profiler per isolate: sharing it would mix in the debugger's interval and older samples.
        assert.match(String(out.startError), /sampling heap profiler is already running in another inspector session/);
        assert.equal(out.tracing, false);
      } else {
        assert.ok(exactly(out.siteCount), JSON.stringify(out));
      }
      assert.equal(out.evaluated, 42);
      assert.ok((out.debuggerSamples as number) > 0, 'the debugger’s own profile survives tracemalloc');
    });

    it(`${mode}: a debugger that detaches while tracing`, () => {
      const out = run<Record<string, unknown>>(['--inspect=0', '--experimental-websocket', fixture('coexist-debugger.js'), mode, 'detach']);
      // Detaching disables the debugger's HeapProfiler agent, which stops V8's one allocation tracker.
      if (mode === 'exact') assert.match(String(out.snapshotError), LOST);
      else assert.ok(estimated(out.siteCount), JSON.stringify(out));
    });

    it(`${mode}: user code with its own inspector Session (CPU profile, GC, heap snapshot) while tracing`, () => {
      const out = run<Record<string, unknown>>([fixture('coexist-session.js'), mode, 'together']);
      assert.ok(siteFound(mode, out.siteCount), JSON.stringify(out));
      assert.equal(out.userProfileHasSite, true);
      assert.ok((out.userHeapNodes as number) > 20_000);
      assert.equal(out.tracing, false);
    });

    it(`${mode}: user code that stops V8's heap profiler under the tracer gets a clear error, not wrong data`, () => {
      const out = run<Record<string, unknown>>([fixture('coexist-session.js'), mode, 'stop-profiler']);
      assert.match(String(out.snapshotError), LOST);
      assert.equal(out.tracing, false, 'stop() still works');
    });

    it(`${mode}: user code that closes its own inspector Session while tracing`, () => {
      const out = run<Record<string, unknown>>([fixture('coexist-session.js'), mode, 'disconnect']);
      if (mode === 'exact') assert.match(String(out.snapshotError), LOST);
      else assert.ok(estimated(out.siteCount), JSON.stringify(out));
    });

    it(`${mode}: the main thread traces while workers allocate; workers are other isolates`, () => {
      const out = run<{ mainCount: number; workerCount: number; codes: number[] }>([fixture('coexist-worker.js'), mode, 'main']);
      assert.ok(siteFound(mode, out.mainCount), JSON.stringify(out));
      assert.equal(out.workerCount, 0);
      assert.deepEqual(out.codes, [0, 0]);
    });

    it(`${mode}: a worker traces its own isolate and ends or exits while tracing`, () => {
      const out = run<{ ended: { message: number; code: number }; exited: { message: number; code: number }; mainTracing: boolean }>([
        fixture('coexist-worker.js'),
        mode,
        'worker',
      ]);
      assert.ok(siteFound(mode, out.ended.message), JSON.stringify(out));
      assert.ok(siteFound(mode, out.exited.message), JSON.stringify(out));
      assert.equal(out.ended.code, 0);
      assert.equal(out.exited.code, 7);
      assert.equal(out.mainTracing, false);
    });

    it(`${mode}: two libraries start and stop tracing independently (reference counted)`, () => {
      const out = run<{
        afterA: { tracing: boolean; count: number; limit: number };
        afterB: { tracing: boolean };
        restarted: { tracing: boolean; count: number };
        ended: boolean;
        warnings: string[];
      }>([fixture('coexist-libraries.js'), mode]);
      assert.equal(out.afterA.tracing, true, 'one library’s stop() leaves the other tracing');
      assert.ok(siteFound(mode, out.afterA.count), 'with the traces from before');
      assert.equal(out.afterA.limit, 6);
      assert.equal(out.afterB.tracing, false, 'tracing ends when every starter has stopped');
      assert.equal(out.restarted.tracing, true);
      assert.equal(out.restarted.count, 0, 'a new start() after the last stop() forgets older traces');
      assert.equal(out.ended, false, 'the last stop() ends tracing; the extra one before did not unbalance the count');
      assert.deepEqual(out.warnings, []);
    });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSnapshotBudget, snapshotBudget } from '../src/capture/memory-guard.js';
import { runNode } from './helpers.js';

const MiB = 1024 * 1024;

test('a snapshot that would exhaust memory is refused with one line that says what to do', () => {
  assert.throws(
    () => checkSnapshotBudget({ heapUsed: 900 * MiB, needed: 2700 * MiB, available: 1000 * MiB }),
    (err: Error) =>
      /needs about 2700 MiB \(900 MiB heap\) but only 1000 MiB is free; use sampling mode/.test(err.message) && !err.message.includes('\n'),
  );
  assert.doesNotThrow(() => checkSnapshotBudget({ heapUsed: 10 * MiB, needed: 30 * MiB, available: 1000 * MiB }));
});

test('the budget reads real figures from this process and machine', () => {
  const budget = snapshotBudget();
  assert.ok(budget.heapUsed > 1 * MiB);
  assert.equal(budget.needed, budget.heapUsed * 3);
  assert.ok(budget.available > 0);
});

test('a heap snapshot of a heap near its limit completes: the snapshot lives outside the JS heap', () => {
  // 280 MB of arrays under a 400 MB heap limit; this machine has the memory,
  // so the guard must let it through and the host must survive it.
  const program = `
    import('tracemalloc').then((t) => {
      const big = []; for (let i = 0; i < 350; i++) big.push(new Array(100000).fill(i));
      const objects = t.getObjects({ retained: false });
      console.log('snapshot taken', objects.totalSize > 250e6, big.length);
    });`;
  const run = runNode(['--max-old-space-size=400', '-e', program]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'snapshot taken true 350');
});

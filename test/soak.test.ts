import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runNode } from './helpers.js';

// The tool's own memory must not grow while a steady program is traced and
// snapshotted again and again (issue 7). Sampling takes many snapshots;
// exact mode fewer, each being a full heap snapshot.
interface Row {
  tool: number;
  heapUsed: number;
  rss: number;
}

function soak(mode: string, snapshots: number, every: number): Row[] {
  const run = runNode(['--expose-gc', fixture('soak.js'), mode, String(snapshots), String(every)], { hangLimitMs: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Row);
  assert.equal(rows.length, snapshots);
  return rows;
}

/** Least-squares slope of ys over 0..n-1. */
function slope(ys: number[]): number {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

const KiB = 1024;

for (const [mode, snapshots, every] of [['sampling', 45, 20], ['exact', 12, 2]] as const) {
  test(`${mode}: the tool's own memory stays flat over ${snapshots} snapshots of a steady program`, () => {
    const rows = soak(mode, snapshots, every);
    const third = Math.floor(snapshots / 3);
    const firstMax = Math.max(...rows.slice(0, third).map((r) => r.tool));
    const lastMax = Math.max(...rows.slice(-third).map((r) => r.tool));
    assert.ok(firstMax > 0, 'getTracemallocMemory() counts something while tracing');
    assert.ok(lastMax <= firstMax * 1.25 + 64 * KiB, `tool memory grew: first third max ${firstMax}, last third max ${lastMax}`);
    // After warm-up, the heap after a GC is flat: a snapshot kept by mistake would add MBs each time.
    const perSnapshot = slope(rows.slice(third).map((r) => r.heapUsed));
    assert.ok(perSnapshot < 64 * KiB, `heap used after GC grows ${Math.round(perSnapshot)} B per snapshot`);
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(
      `${mode}: tool ${firstMax} → ${lastMax} B; heap after GC ${mb(rows[0].heapUsed)} → ${mb(rows.at(-1)!.heapUsed)} MB ` +
        `(${Math.round(perSnapshot)} B/snapshot); rss ${mb(rows[0].rss)} → ${mb(rows.at(-1)!.rss)} MB`,
    );
  });
}

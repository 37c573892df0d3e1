// bench/inlining's children must keep working, and its probe must tell
// inlined from not inlined: with the flags set at run time, and after the
// flags plus the precise-coverage switch in a warmed-up process, V8 charges
// the probe's allocations to the callee. No timings are asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../bench/inlining.js', import.meta.url));

function child(config: string, nodeArgs: string[] = []): Record<string, number> {
  const run = spawnSync(process.execPath, [...nodeArgs, BENCH, '--child', config, 'json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

test('the inlining benchmark runs each kind of child and its probe sees inlining turned off', () => {
  const base = child('default');
  assert.ok(base.ms > 0 && base.cpuMs > 0 && base.roundMs > 0, JSON.stringify(base));
  // With default flags the optimiser inlines the probe's callee into the loop.
  assert.ok(base.calleeShare < 0.5, `default flags: callee share ${base.calleeShare}`);
  const runtime = child('no-inline-runtime');
  assert.ok(runtime.calleeShare > 0.9, `setFlagsFromString: callee share ${runtime.calleeShare}`);
  const deopt = child('deopt-noinline', ['--expose-gc']);
  for (const field of ['startMs', 'stopMs', 'totalMs', 'heapMB', 'steadyBeforeMs', 'steadyAfterMs', 'excessMs']) {
    assert.ok(Number.isFinite(deopt[field]), `${field}: ${JSON.stringify(deopt)}`);
  }
  // Code optimised with the callee inlined before the switch was thrown away and rebuilt without inlining.
  assert.ok(deopt.calleeShare > 0.9, `after the switch: callee share ${deopt.calleeShare}`);
});

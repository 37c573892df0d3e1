// Capture before the kill (src/agent/before-oom.ts): a program that leaks into
// --max-old-space-size=64 and dies leaves a snapshot that names the leak.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture, runNode } from './helpers.js';
import { Snapshot } from '../src/index.js';
import { oldGenerationLimit } from '../src/capture/memory-guard.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

test('run --before-oom: a program leaking into a 64 MiB heap dies of it and leaves a snapshot naming the leaking function', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-oom-'));
  try {
    const run = runNode([CLI, 'run', '--before-oom', '--out', dir, '--', process.execPath, '--max-old-space-size=64', fixture('oom-leak.js')], { hangLimitMs: 120_000 });
    assert.equal(run.signal, null, `run itself was killed: ${run.stderr}`);
    assert.notEqual(run.status, 0, 'the program dies of the heap limit');
    assert.match(run.stderr, /heap out of memory|Reached heap limit/i, 'V8 ran out of heap');
    const [oom] = readdirSync(dir).filter((f) => /^tracemalloc-\d+-oom\.snap$/.test(f));
    assert.ok(oom, `an oom snapshot in ${readdirSync(dir).join(', ')}: ${run.stderr}`);
    assert.match(run.stderr, /^tracemalloc: heap at [\d.]+ MiB of its 64\.0 MiB limit: wrote .*-oom\.snap; top site .*oom-leak\.ts:\d+ \(in remember\), [\d.]+ MiB$/m);
    const top = Snapshot.load(join(dir, oom)).statistics('lineno')[0];
    assert.equal(top.traceback.at(-1)!.functionName, 'remember');
    assert.ok(top.size > 30 * 1024 * 1024, `most of the heap at the leak: ${top}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the old generation limit is --max-old-space-size when given, and heap_size_limit less the young generation otherwise', () => {
  const limit = (flags: string[]) => Number(runNode([...flags, '--input-type=module', '-e', `import { oldGenerationLimit } from ${JSON.stringify(new URL('../src/capture/memory-guard.js', import.meta.url).href)}; process.stdout.write(String(oldGenerationLimit()))`]).stdout);
  assert.equal(limit(['--max-old-space-size=64']), 64 * 1024 * 1024);
  // V8's default old generation is 4096 MiB on this machine on every supported Node.
  assert.equal(limit([]), 4096 * 1024 * 1024);
  assert.equal(oldGenerationLimit() > 0, true);
});

test('--before-oom needs sampling mode; NODE_TRACEMALLOC_BEFORE_OOM with exact mode is one line and no tracing', () => {
  const usage = runNode([CLI, 'run', '--before-oom', '--mode', 'exact', '--', fixture('plain-program.js')]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^tracemalloc: --before-oom needs sampling mode without --lines/);
  const env = runNode(['--import', 'tracemalloc/start', fixture('plain-program.js')], { env: { NODE_TRACEMALLOC_BEFORE_OOM: '/tmp/x-%p.snap', NODE_TRACEMALLOC_MODE: 'exact' } });
  assert.equal(env.status, 0, env.stderr);
  assert.equal(env.stderr, 'tracemalloc: not tracing: NODE_TRACEMALLOC_BEFORE_OOM needs sampling mode without line mode: the other modes read a heap snapshot, about three times the heap\n');
});

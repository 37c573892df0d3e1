// `tracemalloc heap` re-runs itself with glibc's huge-pages tunable
// (src/cli/huge-pages.ts): the re-run gives the same answer, passes the
// exit code and signals through, and never outlives the command.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hugePagesEnv } from '../src/cli/huge-pages.js';
import { alive, fixture, runNode } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const supported = hugePagesEnv(0, { TRACEMALLOC_HUGE_PAGES: '1' }) !== null;

async function until(check: () => boolean, what: string): Promise<void> {
  // A hang limit, not a timing assertion.
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(check(), what);
}

describe('huge pages re-run', { skip: supported ? false : 'needs Linux with glibc 2.35 or later' }, () => {
  it('tracemalloc heap and heap diff give the same output in the re-run process, exit codes included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-hugepages-'));
    try {
      const a = join(dir, 'a.heapsnapshot');
      const b = join(dir, 'b.heapsnapshot');
      assert.equal(runNode([fixture('cli-heap.js'), a, b]).status, 0);
      const log = join(dir, 'probe.log');
      const probe = `--import=${pathToFileURL(fixture('rerun-probe.js')).href}`;
      const cli = (force: '0' | '1', ...args: string[]) => {
        rmSync(log, { force: true });
        const r = runNode([CLI, ...args], { env: { NO_COLOR: '1', TRACEMALLOC_HUGE_PAGES: force, NODE_OPTIONS: probe, RERUN_PROBE_LOG: log } });
        const processes = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; ppid: number; tunables: string | null });
        // String tags are salted per process: compare without them.
        return { status: r.status, stdout: r.stdout.replace(/#[0-9a-f]{8}/g, '#tag'), stderr: r.stderr, processes };
      };
      for (const args of [['heap', b], ['heap', b, '--json'], ['heap', 'diff', a, b], ['heap', 'nope.heapsnapshot']]) {
        const here = cli('0', ...args);
        const rerun = cli('1', ...args);
        assert.equal(here.processes.length, 1, 'TRACEMALLOC_HUGE_PAGES=0 reads in the first process');
        assert.equal(rerun.processes.length, 2, `${args.join(' ')}: one re-run`);
        assert.equal(rerun.processes[1].ppid, rerun.processes[0].pid);
        assert.match(rerun.processes[1].tunables ?? '', /glibc\.malloc\.hugetlb=1/);
        assert.deepEqual([rerun.status, rerun.stdout, rerun.stderr], [here.status, here.stdout, here.stderr], args.join(' '));
      }
      assert.equal(cli('1', 'heap', 'nope.heapsnapshot').status, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`the re-run process ends when the command gets ${signal}`, async () => {
      const parent = spawn(process.execPath, [fixture('rerun-child.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
      let pid = 0;
      try {
        await until(() => /^child \d+ /.test(out), 'the child started');
        const [, child, tunables] = /^child (\d+) (\S+)/.exec(out)!;
        pid = Number(child);
        assert.match(tunables, /glibc\.malloc\.hugetlb=1/);
        const ended = new Promise<[number | null, string | null]>((r) => parent.once('exit', (code, sig) => r([code, sig])));
        parent.kill(signal);
        // SIGTERM is passed on and re-raised; after SIGKILL the child sees its parent's channel close.
        assert.deepEqual(await ended, [null, signal]);
        await until(() => !alive(pid), `the child ${pid} is gone`);
      } finally {
        // On a failure, leave nothing behind that holds the test's pipe open.
        if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
        parent.kill('SIGKILL');
        parent.stdout.destroy();
      }
    });
  }
});

// docs/quickstart.md, run as written: its shell commands in order (npx
// tracemalloc is this build's CLI, the pid and port are the live ones, snaps
// go to a temporary folder), and its outputs checked against what the
// commands print. The server runs with V8's default flags under Express.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const DOC = readFileSync(join(ROOT, 'docs/quickstart.md'), 'utf8');

/** The fenced blocks of the walkthrough, in order, with their language. */
function blocks(): { lang: string; lines: string[] }[] {
  return [...DOC.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], lines: m[2].trimEnd().split('\n') }));
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('docs/quickstart.md: its commands find the leaking line it names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-quickstart-'));
  const snaps = join(dir, 'snaps');
  const all = blocks();
  const commands = all.filter((b) => b.lang === 'sh').flatMap((b) => b.lines);
  const outputs = all.filter((b) => b.lang === '');
  let server: ReturnType<typeof spawn> | null = null;
  let stderr = '';
  let stdout = '';
  let pid = '';
  let port = '';
  const cli = (words: string[]) => spawnSync(process.execPath, [CLI, ...words], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  const signalled: string[] = [];
  try {
    for (const command of commands) {
      const words = command.replace(/\s+#.*$/, '').trim().split(/\s+/);
      if (words[0] === 'npm') continue; // the install: done by the test runner's build
      const live = words.map((w) => w.replaceAll('27212', pid).replace(/^snaps\//, `${snaps}/`).replace(/^snaps$/, snaps).replace(/^report\.html$/, join(dir, 'report.html')));
      if (live[0] === 'npx' && live[1] === 'tracemalloc' && live[2] === 'run') {
        // Port 0: any free one; the test reads it from the server's line, as a user would.
        server = spawn(process.execPath, [CLI, ...live.slice(2)], { cwd: ROOT, env: { ...process.env, PORT: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        server.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
        server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        [pid, port] = await waitFor('the server and its pid', () => {
          const p = /tracing pid (\d+)/.exec(stderr)?.[1];
          const q = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
          return p && q ? [p, q] : undefined;
        });
        // What step 1 says it prints, with the live pid and port.
        const shown = outputs[0].lines.map((l) => l.replaceAll('27212', pid).replace(':3000', `:${port}`));
        assert.equal(stdout.trim().split('\n')[0], shown[0]);
        assert.ok(stderr.includes(shown[1]), stderr);
      } else if (live[0] === 'node') {
        const load = spawnSync(process.execPath, [live[1], port, ...live.slice(3)], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
        assert.equal(load.status, 0, load.stderr);
        assert.match(load.stdout, new RegExp(`sent ${live[3]} orders`));
      } else if (live[0] === 'kill') {
        assert.equal(live[1], '-USR2');
        process.kill(Number(live[2]), 'SIGUSR2');
        signalled.push(`tracemalloc-${pid}-00${signalled.length + 1}-signal.snap`);
        const name = signalled.at(-1)!;
        // Written once the dump's temporary file is renamed into place.
        await waitFor(name, () => (existsSync(join(snaps, name)) ? true : undefined));
      } else if (live[0] === 'npx' && live[1] === 'tracemalloc' && live[2] === 'compare') {
        const r = cli(live.slice(2));
        assert.equal(r.status, 0, r.stderr);
        const shown = outputs.find((o) => o.lines[0].startsWith('[ Top 3 differences'))!.lines;
        const row = r.stdout.split('\n').find((l) => l.startsWith('#1: '))!;
        // The doc's first row, up to its figures (which are estimates): the file, line and function.
        const site = /examples\/quickstart\/server\.mjs:\d+ \(in \w+\)/.exec(shown[1])![0];
        assert.ok(row.includes(site), `the doc says ${site} comes first; compare printed:\n${r.stdout}`);
        assert.match(row, /size=\d+(\.\d+)? [KM]iB \(\+/, row);
        assert.equal(r.stdout.split('\n')[0], shown[0]);
      } else if (live[0] === 'npx' && live[1] === 'tracemalloc' && live[2] === 'report') {
        const r = cli(live.slice(2));
        assert.equal(r.status, 0, r.stderr);
        const html = readFileSync(join(dir, 'report.html'), 'utf8');
        assert.ok(statSync(join(dir, 'report.html')).size > 10_000);
        assert.ok(html.includes('server.mjs'), 'the report names the leaking file');
      } else {
        assert.fail(`a command the test does not know: ${command}`);
      }
    }
    // Every step ran: the run, two loads, two snapshots, compare and report; and run keeps its timeline beside them.
    assert.deepEqual(readdirSync(snaps).sort(), [...signalled, `tracemalloc-${pid}.timeline`]);
    assert.ok(existsSync(join(dir, 'report.html')));
    // "Stop the server with Ctrl-C": run ends it and exits 130, as the untraced server would.
    const ended = new Promise<number | null>((done) => server!.once('exit', (code) => done(code)));
    server!.kill('SIGINT');
    assert.equal(await ended, 130, stderr);
    server = null;
  } finally {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

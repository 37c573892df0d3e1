// End-to-end tests of the `tracemalloc` command: the real CLI on small programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture, runNode, writeStandInTsx } from './helpers.js';
import { nodeStripsTypes } from '../src/agent/ts-imports.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const APP_TS = fileURLToPath(new URL('../../test/fixtures/cli-app.ts', import.meta.url));
const WAITER_TS = fileURLToPath(new URL('../../test/fixtures/cli-waiter.ts', import.meta.url));
const NO_COLOR = { NO_COLOR: '1' };

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runNode([CLI, ...args], { env: { ...NO_COLOR, ...env } });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tracemalloc-cli-'));
}

/** The 1-based line where `name` starts in a source file. */
function lineOf(file: string, name: string): number {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(`function ${name}`));
  assert.ok(index >= 0, `${name} is in ${file}`);
  return index + 1;
}

function snapshotsIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.snap')).sort();
}

test('--version prints the package version and --help works for every command', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const version = cli(['--version']);
  assert.equal(version.status, 0);
  assert.equal(version.stdout.trim(), pkg.version);
  for (const command of [[], ['run'], ['top'], ['compare'], ['heap'], ['heap', 'diff'], ['report']]) {
    const help = cli([...command, '--help']);
    assert.equal(help.status, 0, `${command.join(' ')} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^Usage: tracemalloc${command.map((c) => ` ${c}`).join('')}`));
  }
});

test('usage errors print one line that points at --help and exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /^Usage: tracemalloc/],
    [['bogus'], /^tracemalloc: unknown command 'bogus'; see 'tracemalloc --help'$/],
    [['top'], /^tracemalloc: missing required argument 'snapshot'; see 'tracemalloc top --help'$/],
    [['top', 'x.snap', '--key', 'column'], /^tracemalloc: option '--key <type>' argument 'column' is invalid: expected one of filename, lineno, traceback; see 'tracemalloc top --help'$/],
    [['top', 'missing.snap'], /^tracemalloc: no such file: missing\.snap; pass a snapshot written by 'tracemalloc run' or Snapshot\.dump\(\)$/],
    [['run', '--frames', '0', '--', 'app.js'], /^tracemalloc: option '--frames <n>' argument '0' is invalid: expected a whole number from 1 to 128; see 'tracemalloc run --help'$/],
    [['run', '--signal', 'SIGINT', '--', 'app.js'], /SIGINT is reserved/],
    [['run', '--', 'no-such-script.js'], /^tracemalloc: no such file: no-such-script\.js; run a \.js/],
    [['run', '--', 'node', '--no-warnings', 'no-such-script.js'], /^tracemalloc: no such file: no-such-script\.js$/],
    [['report', 'x.snap'], /^tracemalloc: no output chosen; add --html FILE, --pprof FILE or --speedscope FILE$/],
    [['heap', 'diff', 'a.heapsnapshot'], /^tracemalloc: missing required argument 'new'; see 'tracemalloc heap diff --help'$/],
  ];
  for (const [args, message] of cases) {
    const run = cli(args);
    assert.equal(run.status, 2, `tracemalloc ${args.join(' ')}: ${run.stderr}`);
    if (args.length > 0) assert.equal(run.stderr.trimEnd().split('\n').length, 1, `one line for ${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr.trimEnd(), message);
  }
});

test('a file that is not a snapshot is a one-line error with exit code 1', () => {
  const dir = tempDir();
  try {
    const bad = join(dir, 'bad.snap');
    runNode(['-e', `require('fs').writeFileSync(${JSON.stringify(bad)}, 'hello')`]);
    const run = cli(['top', bad]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^tracemalloc: cannot load snapshot from .*bad\.snap: .+\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run traces a compiled TypeScript program from its first line; top shows .ts lines with function names', () => {
  const dir = tempDir();
  try {
    const run = cli(['run', '--mode', 'exact', '--frames', '4', '--out', dir, '--', 'node', fixture('cli-app.js'), '0']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'kept 3040\n', 'the program’s own output passes through');
    const files = snapshotsIn(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^tracemalloc-\d+-exit\.snap$/);
    assert.match(run.stderr, /tracemalloc: wrote .*tracemalloc-\d+-exit\.snap/);

    const top = cli(['top', join(dir, files[0]), '--limit', '3']);
    assert.equal(top.status, 0, top.stderr);
    const lines = top.stdout.split('\n');
    // The snapshot's process memory comes first (docs/off-heap.md), then the table.
    assert.match(lines[0], /^Process memory: RSS .* = V8 heap /);
    assert.equal(lines[4], '[ Top 3 lines ]');
    const catalogLine = `${APP_TS}:${lineOf(APP_TS, 'buildCatalog')} (in buildCatalog): `;
    const blobsLine = `${APP_TS}:${lineOf(APP_TS, 'makeBlobs')} (in makeBlobs): `;
    const catalog = lines.find((l) => l.includes(catalogLine));
    const blobs = lines.find((l) => l.includes(blobsLine));
    assert.ok(catalog, `buildCatalog at its .ts line in:\n${top.stdout}`);
    assert.ok(blobs, `makeBlobs at its .ts line in:\n${top.stdout}`);
    // Every catalog entry and its label string are live, 40 arrays of 2000 numbers.
    assert.match(catalog!, /^#[12]: .*: size=\d+(\.\d)? KiB, count=6,?0\d\d, average=\d+ B$/);
    // 40 arrays and their element stores.
    const blobCount = Number(/count=(\d+),/.exec(blobs!)![1]);
    assert.ok(blobCount >= 40 && blobCount <= 100, blobs);
    assert.match(top.stdout, /^Total allocated size: /m);
    assert.match(top.stdout, /^Note: line numbers are where each function starts/m);
    assert.doesNotMatch(top.stdout, /\x1b\[/, 'no colours with NO_COLOR and no TTY');

    const json = JSON.parse(cli(['top', join(dir, files[0]), '--json', '--limit', '0']).stdout);
    assert.equal(json.kind, 'top');
    assert.equal(json.snapshot.mode, 'exact');
    const row = json.rows.find((r: { frames: Array<{ function: string }> }) => r.frames.at(-1)!.function === 'buildCatalog');
    assert.ok(row);
    assert.equal(row.frames.at(-1).file, APP_TS);
    assert.ok(row.count >= 6000 && row.count < 6100, `catalog objects: ${row.count}`);
    assert.equal(typeof row.text, 'string');

    const filtered = JSON.parse(cli(['top', join(dir, files[0]), '--json', '--limit', '0', '--exclude', '*cli-app.ts']).stdout);
    assert.ok(filtered.rows.every((r: { frames: Array<{ file: string }> }) => r.frames.at(-1)!.file !== APP_TS));
    const included = JSON.parse(cli(['top', join(dir, files[0]), '--json', '--limit', '0', '--include', '*/cli-app.ts']).stdout);
    assert.ok(included.rows.length >= 2 && included.rows.every((r: { frames: Array<{ file: string }> }) => r.frames.at(-1)!.file === APP_TS));

    const traceback = cli(['top', join(dir, files[0]), '--key', 'traceback', '--limit', '1']);
    assert.match(traceback.stdout, /^ {4}File ".*cli-app\.ts", line \d+, in (buildCatalog|makeBlobs)$/m);
    // The row is labelled with the frame that allocated, not the traceback's oldest caller.
    assert.match(traceback.stdout, /^#1: .*cli-app\.ts:\d+ \(in (buildCatalog|makeBlobs)\): size=/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("run passes the program's failing exit code through", () => {
  const dir = tempDir();
  try {
    const run = cli(['run', '--out', dir, '--', 'node', fixture('cli-app.js'), '7']);
    assert.equal(run.status, 7, run.stderr);
    assert.equal(snapshotsIn(dir).length, 1, 'the exit snapshot is written even when the program fails');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run writes a snapshot on SIGUSR2 sent to the tracemalloc process; compare diffs it with the exit one', async () => {
  const dir = tempDir();
  try {
    const child = spawn(process.execPath, [CLI, 'run', '--mode', 'exact', '--out', dir, '--', 'node', fixture('cli-waiter.js')], {
      env: { ...process.env, ...NO_COLOR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((done) => child.on('exit', (c, signal) => done(c ?? (signal ? -1 : null))));
    await new Promise<void>((ready, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (stdout.includes('ready\n')) ready();
      });
      // Ending before 'ready' is a failure to report with its output, not a hang.
      void exited.then((code) => fail(new Error(`run ended (${code}) before the program was ready: ${stdout} ${stderr}`)));
    });
    child.kill('SIGUSR2');
    const code = await exited;
    assert.equal(code, 0, stderr);
    const files = snapshotsIn(dir);
    assert.equal(files.length, 2, `signal and exit snapshots: ${files.join(', ')}`);
    assert.match(files[0], /^tracemalloc-\d+-001-signal\.snap$/);
    assert.match(files[1], /^tracemalloc-\d+-exit\.snap$/);

    const signalTop = JSON.parse(cli(['top', join(dir, files[0]), '--json']).stdout);
    const held = signalTop.rows.find((r: { frames: Array<{ function: string }> }) => r.frames.at(-1)!.function === 'holdObjects');
    assert.ok(held, 'holdObjects is in the signal snapshot');
    // 5000 objects plus the live backing store of the array they were pushed into.
    assert.ok(held.count >= 5000 && held.count < 5020, `holdObjects count: ${held.count}`);
    assert.equal(held.frames.at(-1).file, WAITER_TS);

    const compare = cli(['compare', join(dir, files[0]), join(dir, files[1]), '--limit', '0']);
    assert.equal(compare.status, 0, compare.stderr);
    assert.match(compare.stdout, /^\[ Top \d+ differences by lines \]$/m);
    assert.match(compare.stdout, /cli-waiter\.ts:\d+ \(in holdObjects\): size=.* \([+-][\d.]+ (B|KiB)\), count=50\d\d \([+-]\d\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run refuses --interval in exact mode and --compare needs --html', () => {
  const interval = cli(['run', '--mode', 'exact', '--interval', '4096', '--', fixture('cli-app.js')]);
  assert.equal(interval.status, 2);
  assert.match(interval.stderr, /^tracemalloc: --interval only applies to --mode sampling/);
});

test('heap shows the census, biggest objects and retainer paths; heap diff shows the growth', () => {
  const dir = tempDir();
  try {
    const a = join(dir, 'a.heapsnapshot');
    const b = join(dir, 'b.heapsnapshot');
    const write = runNode([fixture('cli-heap.js'), a, b]);
    assert.equal(write.status, 0, write.stderr);

    const heap = cli(['heap', b, '--limit', '10', '--paths', '3']);
    assert.equal(heap.status, 0, heap.stderr);
    assert.match(heap.stdout, /^Heap snapshot .*b\.heapsnapshot: [\d,]+ live objects, /);
    assert.match(heap.stdout, /^\[ Top 10 constructors by retained size \]$/m);
    assert.match(heap.stdout, /^ *Count +Self size +Retained +Constructor$/m);
    const objects = /^\s*(\d+) .*\bObject$/m.exec(heap.stdout);
    assert.ok(objects && Number(objects[1]) >= 5000, `the 5000 session objects are counted:\n${heap.stdout}`);
    assert.match(heap.stdout, /^#1: SessionStore @\d+ .*retained=/m, 'the store retains the most');
    assert.doesNotMatch(heap.stdout, /^#\d+: +@/m, 'an unnamed object reads as its type, not an empty name');
    // The same path text as the leak finder's (heap/path-text.ts): from the global property on.
    assert.match(heap.stdout, /^ {4}retained by: \(global\) → sessionStore \(SessionStore\)$/m);

    const json = JSON.parse(cli(['heap', b, '--json']).stdout);
    assert.equal(json.topObjects[0].name, 'SessionStore');
    assert.ok(json.topObjects[0].retainerPath.some((s: { edge: string }) => s.edge === 'sessionStore'));

    const diff = cli(['heap', 'diff', a, b]);
    assert.equal(diff.status, 0, diff.stderr);
    assert.match(diff.stdout, /^\[ Top \d+ constructors by size change \]$/m);
    assert.match(diff.stdout, /^\s*\+[\d.]+ [KM]iB\s+\+3000\s+3000\s+0\s+Object$/m, `3000 new session objects:\n${diff.stdout}`);
    assert.match(diff.stdout, /^\+\d+ objects \(\+[\d.]+ [KM]iB\): \d+ new/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('heap and heap diff show every stage on a terminal (script(1) gives them one)', () => {
  const dir = tempDir();
  try {
    const a = join(dir, 'a.heapsnapshot');
    const b = join(dir, 'b.heapsnapshot');
    assert.equal(runNode([fixture('cli-heap.js'), a, b]).status, 0);
    // The progress line is redrawn in place and cleared: the raw terminal output keeps each draw.
    const onTerminal = (args: string[]): string => {
      const r = spawnSync('script', ['-qec', [process.execPath, CLI, ...args].join(' '), '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...NO_COLOR } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const heap = onTerminal(['heap', b, '--limit', '3', '--paths', '1']);
    for (const stage of [/reading b\.heapsnapshot: \d+%/, /b\.heapsnapshot: computing dominators, retained sizes and distances…/, /b\.heapsnapshot: census, biggest objects and retainer paths…/]) {
      assert.match(heap, stage);
    }
    assert.match(heap, /^#1: SessionStore @\d+ /m);
    const diff = onTerminal(['heap', 'diff', a, b]);
    assert.match(diff, /b\.heapsnapshot: comparing with a\.heapsnapshot…/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const stripsTypes = nodeStripsTypes(process.versions.node);

test('run executes a .ts file with frames at .ts lines where Node strips types, and says what to install where it does not', () => {
  const dir = tempDir();
  try {
    // Exact mode: in sampling mode Node's own type stripper (amaro, megabytes) can crowd the program out of a top 5.
    const run = cli(['run', '--mode', 'exact', '--out', dir, '--', process.execPath, APP_TS, '0']);
    if (!stripsTypes) {
      // Node 20 with no TypeScript loader in the project: one line saying what to do, nothing run.
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /^tracemalloc: Node v[\d.]+ cannot run TypeScript directly; install tsx \(npm i -D tsx\), use Node 22\.18 or later, or compile '.*cli-app\.ts' and run the \.js\n$/);
      assert.equal(snapshotsIn(dir).length, 0);
      return;
    }
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'kept 3040\n');
    const [file] = snapshotsIn(dir);
    const top = cli(['top', join(dir, file), '--limit', '5']);
    assert.ok(top.stdout.includes(`${APP_TS}:${lineOf(APP_TS, 'buildCatalog')} (in buildCatalog): `), top.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Where Node cannot strip types, run puts the project's tsx first on the command line
// (a stand-in, see writeStandInTsx).
test('run loads the project\'s TypeScript loader (tsx) first, with frames at .ts lines', (t) => {
  if (stripsTypes) {
    t.skip(`Node ${process.version} strips types itself; run adds no loader`);
    return;
  }
  const project = tempDir();
  const out = tempDir();
  try {
    writeStandInTsx(project);
    const run = runNode([CLI, 'run', '--mode', 'exact', '--out', out, '--', process.execPath, APP_TS, '0'], { env: NO_COLOR, cwd: project });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'kept 3040\n');
    const [file] = snapshotsIn(out);
    const top = cli(['top', join(out, file), '--limit', '5']);
    assert.ok(top.stdout.includes(`${APP_TS}:${lineOf(APP_TS, 'buildCatalog')} (in buildCatalog): `), top.stdout);
  } finally {
    rmSync(project, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

test('leaks reports a growing site with its holder and exits 1; a quiet scenario exits 0', () => {
  const leaky = cli(['leaks', '--iterations', '4', '--warmup', '1', '--', fixture('leak-global.js')]);
  assert.equal(leaky.status, 1, leaky.stderr);
  assert.match(leaky.stdout, /1 leaking site/);
  // The per-iteration counts include what V8's JIT allocates at the site when it optimises audit()
  // mid-search (Node 26: four dependent-code lists, +1 on the slope); see docs/leaks.md.
  assert.match(leaky.stdout, /leak-global\.ts:\d+ in audit\(\): \+20[01] objects/);
  assert.match(leaky.stdout, /\(global\) → auditLog \(Array\)/);

  // The defaults (3 warm-up runs, 8 measured): with one warm-up, what the JIT keeps at the site while
  // it still optimises parse() (30 to 54 objects over 4 iterations, once on Node 20) read as growth.
  const quiet = cli(['leaks', '--', fixture('leak-garbage.js')]);
  assert.equal(quiet.status, 0, quiet.stdout + quiet.stderr);
  assert.match(quiet.stdout, /no allocation site grew steadily/);

  const missing = cli(['leaks', '--', 'no-such-scenario.js']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^tracemalloc: no such scenario module: no-such-scenario\.js/);
});

/**
 * Line mode must not change what a program does: run a real npm package's
 * own test suite untraced, in line mode, and in line mode sampling every
 * allocation, each in a fresh process, and compare the results (TAP counts,
 * failing assertions, exit code). Also checks that the package's files were
 * really instrumented, and prints wall-time ratios against the untraced run
 * of the same invocation. Exits non-zero when a result differs.
 *
 *   npm run bench:suite [-- --reps 3]
 *   TRACEMALLOC_NODE_BINARIES=/path/node22:/path/node24 npm run bench:suite
 *
 * The package and the test dependencies it needs are installed once from
 * the npm registry into ~/.cache/tracemalloc-suite/<name>@<version>
 * (`TRACEMALLOC_SUITE_CACHE` overrides the parent folder).
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Snapshot } from '../src/index.js';
import type { ProbeReport } from './suite-probe.js';

/** A package whose npm tarball ships a test suite that runs in one Node process. */
export interface SuitePackage {
  name: string;
  /** Exact version: the results are only comparable run to run on the same code. */
  version: string;
  /** npm package of the test runner (must be one of the package's devDependencies). */
  runner: string;
  /** The runner's script, relative to node_modules. */
  runnerBin: string;
  /** Arguments of the runner, run from the package's folder. */
  args: string[];
  /** Folders of the package (relative) whose files line mode instruments. */
  instrument: string[];
}

/**
 * qs: CommonJS, tape, parsing and stringifying query strings. 6.16.0, not
 * the newest: later ones ask for a tape the registry here does not have.
 */
export const QS: SuitePackage = {
  name: 'qs',
  version: '6.16.0',
  runner: 'tape',
  runnerBin: 'tape/bin/tape',
  args: ['test/**/*.js'],
  instrument: ['lib', 'test'],
};

/** The three ways each suite runs. */
export const CONFIGS = ['untraced', 'lines', 'lines-every-1'] as const;
/** One of {@link CONFIGS}. */
export type SuiteConfig = (typeof CONFIGS)[number];

/** An installed package: where its sources and its dependencies are. */
export interface Installed {
  pkg: SuitePackage;
  /** The cache folder; its node_modules holds the dependencies. */
  root: string;
  /** The extracted tarball (root/package), outside any node_modules folder. */
  dir: string;
}

/** Installing failed; `offline` when npm could not reach the registry. */
export class SuiteInstallError extends Error {
  override name = 'SuiteInstallError';
  constructor(message: string, readonly offline: boolean) {
    super(message);
  }
}

const START = fileURLToPath(new URL('../src/agent/start.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./suite-probe.js', import.meta.url));
const OFFLINE = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/;
// Catches a hang only; a healthy run takes seconds.
const HANG_LIMIT_MS = 10 * 60_000;

/** The folder that holds installed suites. */
export function cacheRoot(): string {
  return process.env.TRACEMALLOC_SUITE_CACHE || join(homedir(), '.cache', 'tracemalloc-suite');
}

function npm(args: string[], cwd: string): string {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: HANG_LIMIT_MS, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) {
    const output = `${run.stderr ?? ''}\n${run.error?.message ?? ''}`;
    // npm's error block: `code X`, maybe `syscall`/`errno`, then the reason.
    const errors = output.split('\n').filter((l) => /^npm (error|ERR!)/.test(l)).map((l) => l.replace(/^npm (error|ERR!)\s*/, ''));
    const code = errors.find((l) => l.startsWith('code '));
    const reason = errors.find((l) => l !== '' && !/^(code|syscall|errno) /.test(l));
    const why = [code, reason].filter(Boolean).join(': ') || (output.trim().split('\n').pop() ?? '');
    throw new SuiteInstallError(`npm ${args[0]} failed (${run.status ?? run.signal}): ${why}`, OFFLINE.test(output));
  }
  return run.stdout;
}

/** Bare package names that the files under `dir` require or import. */
function importedPackages(dir: string): Set<string> {
  const names = new Set<string>();
  const spec = /(?:require\s*\(|import\s*\(|\bfrom)\s*['"]([^'"./][^'"]*)['"]/g;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.[cm]?js$/.test(entry.name)) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const m of text.matchAll(spec)) {
      const parts = m[1].split('/');
      names.add(m[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  return names;
}

/**
 * The package and what its tests need, from the cache or installed there:
 * `npm pack` and tar for the sources, `npm install` for its dependencies
 * and the devDependencies its instrumented folders import (not its linters and
 * bundlers). Installs into a temporary folder renamed into place, so a
 * cache folder that exists is complete.
 *
 * @throws {@link SuiteInstallError} when npm fails.
 */
export function ensureInstalled(pkg: SuitePackage): Installed {
  const root = join(cacheRoot(), `${pkg.name}@${pkg.version}`);
  const installed = { pkg, root, dir: join(root, 'package') };
  if (existsSync(join(root, 'node_modules'))) return installed;
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot(), `.${pkg.name}-`));
  try {
    // An unreachable registry should fail in minutes; npm's defaults (2 retries, 5-minute timeouts) take far longer.
    const network = ['--fetch-retries=1', '--fetch-timeout=60000'];
    const packed = JSON.parse(npm(['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', tmp, '--json', ...network], tmp)) as Array<{ filename: string }>;
    const tarball = packed[0].filename;
    const tar = spawnSync('tar', ['xzf', join(tmp, tarball), '-C', tmp], { encoding: 'utf8' });
    if (tar.status !== 0) throw new SuiteInstallError(`tar failed on ${tarball}: ${tar.stderr.trim().split('\n')[0]}`, false);
    const manifest = JSON.parse(readFileSync(join(tmp, 'package', 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const dev = manifest.devDependencies ?? {};
    // Only what the instrumented folders import: not the linters and bundlers of its config files.
    const imported = pkg.instrument.flatMap((d) => [...importedPackages(join(tmp, 'package', d))]);
    const wanted = new Set([pkg.runner, ...imported.filter((n) => n in dev)]);
    const specs = [
      ...Object.entries(manifest.dependencies ?? {}).map(([n, r]) => `${n}@${r}`),
      ...[...wanted].map((n) => `${n}@${dev[n] ?? 'latest'}`),
    ];
    writeFileSync(join(tmp, 'package.json'), JSON.stringify({ name: 'tracemalloc-suite', private: true }) + '\n');
    npm(['install', '--prefix', tmp, '--no-audit', '--no-fund', '--ignore-scripts', '--save-exact', ...network, ...specs], tmp);
    rmSync(join(tmp, tarball));
    try {
      renameSync(tmp, root);
    } catch (err) {
      // Another process installed it meanwhile: use theirs.
      if (!existsSync(join(root, 'node_modules'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return installed;
}

/** Outcome of one run of the suite. */
export interface SuiteRun {
  config: SuiteConfig;
  status: number | null;
  signal: string | null;
  /** TAP summary: `# tests`, `# pass`, `# fail`. */
  tests: number;
  pass: number;
  fail: number;
  /** Failing assertions (`not ok` lines without their numbers), in order. */
  failures: string[];
  stdout: string;
  /** tracemalloc's own stderr lines (`tracemalloc: ...`). */
  toolLines: string[];
  /** Wall time measured by the parent, exit dump included. */
  wallMs: number;
  /** Process start to exit, measured in the child (before any exit dump). */
  exitMs: number;
  /** The package's files that line mode instrumented (relative). */
  instrumented: string[];
  /** Distinct package lines among the dump's line-mode (`atLine`) frames. */
  atLineSites: number;
}

function tapCount(stdout: string, key: string): number {
  const m = new RegExp(`^# ${key}\\s+(\\d+)\\s*$`, 'm').exec(stdout);
  return m ? Number(m[1]) : 0;
}

function runEnv(config: SuiteConfig, installed: Installed, probe: string, dump: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // The parent's own tracemalloc settings must not leak into the children.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NODE_TRACEMALLOC') && k !== 'NODE_OPTIONS') env[k] = v;
  env.TRACEMALLOC_SUITE_PROBE = probe;
  if (config === 'untraced') return env;
  env.NODE_TRACEMALLOC_LINES = '1';
  env.NODE_TRACEMALLOC_LINES_INCLUDE = installed.pkg.instrument.map((d) => join(installed.dir, d, '**')).join(',');
  env.NODE_TRACEMALLOC_DUMP = dump;
  if (config === 'lines-every-1') env.NODE_TRACEMALLOC_LINES_EVERY = '1';
  return env;
}

/** Run the package's test command once in a fresh `binary` process. */
export function runSuite(installed: Installed, config: SuiteConfig, binary = process.execPath): SuiteRun {
  const work = mkdtempSync(join(tmpdir(), 'tm-suite-'));
  try {
    const probe = join(work, 'probe.json');
    const dump = join(work, 'exit.tracemalloc');
    const traced = config !== 'untraced';
    const args = [...(traced ? ['--import', START] : []), '--import', PROBE, join(installed.root, 'node_modules', installed.pkg.runnerBin), ...installed.pkg.args];
    const t0 = performance.now();
    const run = spawnSync(binary, args, {
      cwd: installed.dir,
      env: runEnv(config, installed, probe, dump),
      encoding: 'utf8',
      timeout: HANG_LIMIT_MS,
      maxBuffer: 256 * 1024 * 1024,
    });
    const wallMs = performance.now() - t0;
    if (run.error) throw new Error(`${installed.pkg.name} suite (${config}) did not run: ${run.error.message}`);
    const report: ProbeReport = existsSync(probe) ? JSON.parse(readFileSync(probe, 'utf8')) : { instrumented: [], exitMs: NaN };
    const inPackage = (file: string): string | null => {
      const path = file.startsWith('file:') ? fileURLToPath(file) : file;
      const rel = relative(installed.dir, path);
      return rel.startsWith('..') || rel.startsWith('/') ? null : rel;
    };
    const sites = new Set<string>();
    if (traced && existsSync(dump)) {
      for (const trace of Snapshot.load(dump).traces) {
        for (const f of trace.traceback.frames) {
          const rel = f.atLine ? inPackage(f.filename) : null;
          if (rel) sites.add(`${rel}:${f.lineno}`);
        }
      }
    }
    return {
      config,
      status: run.status,
      signal: run.signal,
      tests: tapCount(run.stdout, 'tests'),
      pass: tapCount(run.stdout, 'pass'),
      fail: tapCount(run.stdout, 'fail'),
      failures: run.stdout.split('\n').filter((l) => l.startsWith('not ok ')).map((l) => l.replace(/^not ok \d+\s*/, '')),
      stdout: run.stdout,
      toolLines: run.stderr.split('\n').filter((l) => l.startsWith('tracemalloc:')),
      wallMs,
      exitMs: report.exitMs,
      instrumented: report.instrumented.map(inPackage).filter((r): r is string => r !== null).sort(),
      atLineSites: sites.size,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The package's JavaScript files that line mode should instrument (relative). */
export function expectedFiles(installed: Installed): string[] {
  const files: string[] = [];
  for (const d of installed.pkg.instrument) {
    for (const entry of readdirSync(join(installed.dir, d), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && /\.[cm]?js$/.test(entry.name)) files.push(relative(installed.dir, join(entry.parentPath, entry.name)));
    }
  }
  return files.sort();
}

/** The runs on one Node binary and what differs between them. */
export interface SuiteComparison {
  binary: string;
  version: string;
  /** Every run, in the order they ran; the first untraced one is the reference. */
  runs: SuiteRun[];
  /** One line per difference or missing instrumentation; empty when line mode changed nothing. */
  problems: string[];
}

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((l, k) => l !== y[k]);
  const at = i === -1 ? x.length : i;
  return `line ${at + 1}: ${JSON.stringify(x[at] ?? '<end>')} vs ${JSON.stringify(y[at] ?? '<end>')}`;
}

/**
 * Run the suite untraced and in both line modes on `binary`, `reps` times
 * each (interleaved, a different order each round), and compare every run
 * with the first untraced one.
 */
export function compareSuite(installed: Installed, binary = process.execPath, reps = 1): SuiteComparison {
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const runs: SuiteRun[] = [];
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < CONFIGS.length; i++) runs.push(runSuite(installed, CONFIGS[(i + r) % CONFIGS.length], binary));
  }
  const base = runs.find((r) => r.config === 'untraced')!;
  const problems: string[] = [];
  if (base.tests === 0) problems.push(`untraced run found no tests (exit ${base.status ?? base.signal}): ${base.stdout.slice(-200)}`);
  const expected = expectedFiles(installed);
  for (const run of runs) {
    if (run === base) continue;
    const what = `${run.config} on node ${version}`;
    if (run.status !== base.status || run.signal !== base.signal) problems.push(`${what}: exit ${run.status ?? run.signal}, untraced ${base.status ?? base.signal}`);
    for (const key of ['tests', 'pass', 'fail'] as const) {
      if (run[key] !== base[key]) problems.push(`${what}: ${key} ${run[key]}, untraced ${base[key]}`);
    }
    if (run.failures.join('\n') !== base.failures.join('\n')) {
      problems.push(`${what}: failing assertions differ: ${JSON.stringify(run.failures.slice(0, 3))} vs untraced ${JSON.stringify(base.failures.slice(0, 3))}`);
    }
    if (run.config === 'untraced') continue;
    const missing = expected.filter((f) => !run.instrumented.includes(f));
    if (missing.length > 0) problems.push(`${what}: not instrumented: ${missing.join(', ')}${run.toolLines.length ? ` (${run.toolLines[0]})` : ''}`);
    if (run.config === 'lines-every-1' && run.atLineSites === 0) problems.push(`${what}: the exit snapshot has no line-mode frame in the package's files`);
  }
  return { binary, version, runs, problems };
}

/** Binaries to run on: this Node, then `TRACEMALLOC_NODE_BINARIES` (colon-separated). */
export function suiteBinaries(): string[] {
  const extra = (process.env.TRACEMALLOC_NODE_BINARIES ?? '').split(':').filter((b) => b !== '');
  return [process.execPath, ...extra.filter((b) => b !== process.execPath)];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function print(cmp: SuiteComparison): void {
  const base = cmp.runs.find((r) => r.config === 'untraced')!;
  const of = (config: SuiteConfig) => cmp.runs.filter((r) => r.config === config);
  const baseExit = median(of('untraced').map((r) => r.exitMs));
  const baseWall = median(of('untraced').map((r) => r.wallMs));
  console.log(`\nnode ${cmp.version} (${cmp.binary})`);
  console.log(`  ${'config'.padEnd(14)} ${'exit'.padStart(4)} ${'tests'.padStart(6)} ${'pass'.padStart(6)} ${'fail'.padStart(5)} ${'files'.padStart(5)} ${'sites'.padStart(6)} ${'to exit'.padStart(9)} ${'ratio'.padStart(6)} ${'wall'.padStart(9)} ${'ratio'.padStart(6)}  TAP output vs untraced`);
  for (const config of CONFIGS) {
    const runs = of(config);
    const r = runs[0];
    const exitMs = median(runs.map((x) => x.exitMs));
    const wallMs = median(runs.map((x) => x.wallMs));
    const differing = runs.filter((x) => x !== base && x.stdout !== base.stdout);
    const same = runs.every((x) => x === base) ? '' : differing.length === 0 ? 'identical' : `differs at ${firstDifference(base.stdout, differing[0].stdout)}`;
    console.log(
      `  ${config.padEnd(14)} ${String(r.status ?? r.signal).padStart(4)} ${String(r.tests).padStart(6)} ${String(r.pass).padStart(6)} ${String(r.fail).padStart(5)} ` +
        `${String(r.instrumented.length).padStart(5)} ${String(r.atLineSites).padStart(6)} ` +
        `${exitMs.toFixed(0).padStart(7)}ms ${(exitMs / baseExit).toFixed(2).padStart(5)}x ${wallMs.toFixed(0).padStart(7)}ms ${(wallMs / baseWall).toFixed(2).padStart(5)}x  ${same}`,
    );
    for (const l of [...new Set(runs.flatMap((x) => x.toolLines))].slice(0, 5)) console.log(`    ${l}`);
  }
  for (const p of cmp.problems) console.log(`  DIFFERENCE: ${p}`);
}

function main(): void {
  const args = process.argv.slice(2);
  const reps = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 3;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a whole number from 1, got ${args[args.indexOf('--reps') + 1]}`);
  const installed = ensureInstalled(QS);
  console.log(`${QS.name}@${QS.version}: node_modules/${QS.runnerBin} ${QS.args.join(' ')} in ${installed.dir}`);
  console.log(`instrumented: ${QS.instrument.map((d) => d + '/').join(', ')}; files = package files instrumented, sites = package lines in the exit snapshot's line-mode frames;`);
  console.log(`to exit = process start to exit, in the child; wall = whole run, exit snapshot included; medians of ${reps} runs each, interleaved; ratio = against untraced, same invocation`);
  let failed = 0;
  for (const binary of suiteBinaries()) {
    const cmp = compareSuite(installed, binary, reps);
    print(cmp);
    failed += cmp.problems.length;
  }
  if (failed > 0) {
    console.log(`\n${failed} difference(s) between untraced and line-mode runs`);
    process.exitCode = 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(`bench:suite: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

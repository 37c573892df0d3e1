// Leak finder benchmark: detection time per corpus program, and its ratio to
// running the same scenario untraced for the same number of iterations.
//
//   node dist/bench/leaks.js [--mode exact|sampling] [--only leak-lru,leak-global]
//
// Each measurement runs in a fresh child process (tracing is process-wide).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const self = fileURLToPath(import.meta.url);
const corpusDir = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const WARMUP = 3;
const ITERATIONS = 8;

type Scenario = { scenario: (i: number) => unknown; teardown?: () => unknown };

async function child(role: string, file: string, mode: string): Promise<void> {
  if (role === 'plain') {
    const mod = (await import(pathToFileURL(file).href)) as Scenario;
    const began = performance.now();
    for (let i = 0; i < WARMUP + ITERATIONS; i++) await mod.scenario(i);
    const ms = performance.now() - began;
    await mod.teardown?.();
    process.stdout.write(JSON.stringify({ ms }));
  } else {
    const { runLeakScenario } = await import('../src/leaks/index.js');
    const report = await runLeakScenario(file, { warmup: WARMUP, iterations: ITERATIONS, mode: mode as 'exact' | 'sampling' });
    process.stdout.write(JSON.stringify({ ms: report.durationMs, findings: report.findings.length }));
  }
}

function measure(role: string, file: string, mode: string): { ms: number; findings?: number } {
  return JSON.parse(execFileSync(process.execPath, [self, '--child', role, file, mode], { encoding: 'utf8', maxBuffer: 1 << 24 })) as { ms: number; findings?: number };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4], process.argv[5]);
  const { values } = parseArgs({ options: { mode: { type: 'string', default: 'exact' }, only: { type: 'string' } } });
  const mode = values.mode!;
  if (mode !== 'exact' && mode !== 'sampling') throw new Error(`bench/leaks: --mode must be exact or sampling, got ${mode}`);
  const only = values.only?.split(',');
  const programs = readdirSync(corpusDir)
    .filter((f) => /^leak-.*\.js$/.test(f) && !/child/.test(f))
    .map((f) => f.slice(0, -3))
    .filter((name) => !only || only.includes(name));
  console.log(`leak finder, ${mode} mode, ${WARMUP} warm-up + ${ITERATIONS} iterations, Node ${process.versions.node}`);
  console.log('| program | findings | detection | untraced run | ratio |');
  console.log('|---|---|---|---|---|');
  for (const name of programs) {
    const file = `${corpusDir}${name}.js`;
    const plain = measure('plain', file, mode);
    const found = measure('detect', file, mode);
    const ratio = found.ms / Math.max(plain.ms, 0.001);
    console.log(`| ${name} | ${found.findings} | ${(found.ms / 1000).toFixed(2)} s | ${plain.ms.toFixed(1)} ms | ${ratio.toFixed(0)}× |`);
  }
}

await main();

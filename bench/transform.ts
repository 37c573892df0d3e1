/**
 * Lines-mode transform speed: `instrument()` on real sources from
 * node_modules, against acorn's parse alone on the same input in the same
 * run. Prints MB/s, ms/MB and the ratio, plus output growth.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/transform.js [--reps 5] [FILE...]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parse } from 'acorn';
import { instrument } from '../src/lines/transform/index.js';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const DEFAULT_INPUTS = [
  'typescript/lib/typescript.js',
  'fast-check/lib/fast-check.js',
  'acorn/dist/acorn.js',
  'commander/lib/command.js',
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/**
 * Median wall times in ms of `reps` runs of each function after one warm-up
 * run each; runs alternate so that a noisy neighbour hits both alike.
 */
function timeInterleaved(reps: number, fns: Array<() => void>): number[] {
  for (const fn of fns) fn();
  const runs = fns.map((): number[] => []);
  for (let i = 0; i < reps; i++) {
    fns.forEach((fn, k) => {
      const t0 = performance.now();
      fn();
      runs[k].push(performance.now() - t0);
    });
  }
  return runs.map(median);
}

const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const reps = repsAt >= 0 ? Number(args.splice(repsAt, 2)[1]) : 7;
const inputs = args.length > 0 ? args : DEFAULT_INPUTS;

console.log(`node ${process.version}, median of ${reps} runs after a warm-up\n`);
console.log(
  ['file', 'MB', 'sites', 'parse MB/s', 'transform MB/s', 'transform ms/MB', 'x parse', 'code growth', 'map MB'].join(' | '),
);
let totalMb = 0;
let totalParse = 0;
let totalTransform = 0;
for (const input of inputs) {
  // Package files by path inside node_modules, whatever their "exports" allow.
  const path = input.startsWith('/') ? input : join(NODE_MODULES, input);
  const pkgDir = input.startsWith('/') ? null : join(NODE_MODULES, ...input.split('/').slice(0, input.startsWith('@') ? 2 : 1));
  const pkgType = pkgDir ? (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { type?: string }).type : undefined;
  const sourceType = path.endsWith('.mjs') || (pkgType === 'module' && !path.endsWith('.cjs')) ? 'module' : 'script';
  const source = readFileSync(path, 'utf8');
  const mb = Buffer.byteLength(source) / (1024 * 1024);
  const options = { url: 'file://' + path, sourceType, inputMap: null } as const;
  let result = instrument(source, options);
  const [parseMs, transformMs] = timeInterleaved(reps, [
    () => parse(source, { ecmaVersion: 'latest', sourceType, allowHashBang: true, allowReturnOutsideFunction: sourceType === 'script' }),
    () => {
      result = instrument(source, options);
    },
  ]);
  totalMb += mb;
  totalParse += parseMs;
  totalTransform += transformMs;
  console.log([
    input,
    mb.toFixed(2),
    result.sites.length,
    (mb / (parseMs / 1000)).toFixed(1),
    (mb / (transformMs / 1000)).toFixed(1),
    (transformMs / mb).toFixed(0),
    (transformMs / parseMs).toFixed(2),
    (result.code.length / source.length).toFixed(2),
    (result.map.mappings.length / (1024 * 1024)).toFixed(2),
  ].join(' | '));
}
console.log(
  `\nall: ${totalMb.toFixed(2)} MB, parse ${(totalMb / (totalParse / 1000)).toFixed(1)} MB/s, ` +
    `transform ${(totalMb / (totalTransform / 1000)).toFixed(1)} MB/s = ${(totalTransform / totalMb).toFixed(0)} ms/MB, ` +
    `${(totalTransform / totalParse).toFixed(2)}x parse`,
);

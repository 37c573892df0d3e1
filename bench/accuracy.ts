/**
 * Accuracy against ground truth: each corpus program (bench/accuracy/corpus)
 * runs in a fresh process in every mode with V8's default flags (the JIT on),
 * and its report is scored against what the program really keeps per site,
 * measured from a heap snapshot (bench/accuracy/truth.ts).
 *
 *   npm run bench:accuracy [-- --node BIN]... [--no-inlining | --flags "V8 FLAGS"]
 *                          [--modes sampling,exact,lines] [--programs a,b] [--runs N] [--detail]
 *
 * Node binaries: --node (repeatable), else this one plus TRACEMALLOC_NODE_BINARIES
 * (colon-separated). `--runs N` runs each program N times and pools the
 * figures: a 95% bound misses its truth by chance one time in twenty, so one
 * run's 28 bounds say little about the rate. Exits 0 whatever the figures:
 * it is a benchmark.
 */
import { MODES, NO_INLINING, PROGRAMS, runProgram, type Mode, type ProgramResult } from './accuracy/check.js';

const TARGET = { exactRight: 1, samplingRight: 0.95, samplingCovered: 0.9, linesRight: 0.95, sum: 0.05 };

function parseArgs(argv: string[]) {
  const nodes: string[] = [];
  let flags: string[] = [];
  let modes = [...MODES];
  let programs = PROGRAMS.map((p) => p.name);
  let detail = false;
  let runs = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--node') nodes.push(argv[++i]);
    else if (a === '--flags') flags = argv[++i].split(/\s+/).filter(Boolean);
    else if (a === '--no-inlining') flags = [...NO_INLINING];
    else if (a === '--modes') modes = argv[++i].split(',') as Mode[];
    else if (a === '--programs') programs = argv[++i].split(',');
    else if (a === '--detail') detail = true;
    else if (a === '--runs') runs = Math.max(1, Number(argv[++i]) || 1);
    else throw new Error(`unknown argument ${a}`);
  }
  if (nodes.length === 0) nodes.push(process.execPath, ...(process.env.TRACEMALLOC_NODE_BINARIES ?? '').split(':').filter(Boolean));
  return { nodes, flags, modes, programs, detail, runs };
}

const mb = (b: number) => (Math.abs(b) >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(0)} KB`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const met = (ok: boolean) => (ok ? 'met' : 'NOT MET');
const withinSum = (r: ProgramResult) => r.growth > 0 && Math.abs(r.reportedTotal / r.growth - 1) <= TARGET.sum;
// A sampled total whose 95% bound misses the growth: more than sampling noise.
const sumMisses = (r: ProgramResult) => r.totalVariance !== null && Math.abs(r.reportedTotal - r.growth) > 1.96 * Math.sqrt(r.totalVariance);

function row(r: ProgramResult): string {
  const ratio = (r.growth > 0 ? (r.reportedTotal / r.growth).toFixed(2) : '-') + (sumMisses(r) ? '!' : ' ');
  return [
    r.program.padEnd(16),
    mb(r.truth).padStart(9),
    pct(r.rightFunction).padStart(9),
    (r.rightLine === null ? '-' : pct(r.rightLine)).padStart(9),
    (r.bounded ? `${r.covered}/${r.bounded}` : '-').padStart(7),
    `${mb(r.reportedTotal)} / ${mb(r.growth)} = ${ratio}`.padStart(28),
    `  ${r.misplaced ? `${r.misplaced.where}: +${mb(r.misplaced.bytes)}` : ''}`,
  ].join(' ');
}

function details(r: ProgramResult): string[] {
  return [...r.functions, ...r.lineSites].map((f) => {
    const bounds = f.low === null ? '' : ` [${mb(f.low)}, ${mb(f.high!)}] ${f.covered ? 'covers' : 'misses'}`;
    return `      ${f.name} (line ${f.lines.join(',')}): truth ${mb(f.truth)} (${f.truthObjects} objects), reported ${mb(f.reported)}${bounds}`;
  });
}

function summary(mode: Mode, results: ProgramResult[], failed: number): string {
  const truth = results.reduce((a, r) => a + r.truth, 0);
  const rightFn = results.reduce((a, r) => a + r.rightFunction * r.truth, 0) / Math.max(1, truth);
  // The target is on the mode's total: one program's sampled total has bounds wider than 5%.
  const reported = results.reduce((a, r) => a + r.reportedTotal, 0);
  const growth = results.reduce((a, r) => a + r.growth, 0);
  const ratio = reported / Math.max(1, growth);
  const sums = results.filter(withinSum).length;
  const sumText = `sum over sites ${mb(reported)} / heap growth ${mb(growth)} = ${ratio.toFixed(3)} (target within 5%: ${met(Math.abs(ratio - 1) <= TARGET.sum && failed === 0)}; ${sums}/${results.length} programs within 5%)`;
  const failText = failed ? `; ${failed} program(s) FAILED to run` : '';
  if (mode === 'exact') return `summary exact: right function ${pct(rightFn)} (target 100%: ${met(rightFn >= TARGET.exactRight - 1e-9)}); ${sumText}${failText}`;
  const covered = results.reduce((a, r) => a + r.covered, 0);
  const bounded = results.reduce((a, r) => a + r.bounded, 0);
  const coverText = `bounds cover the truth at ${covered}/${bounded} ${mode === 'lines' ? 'sites' : 'functions'} (${pct(covered / Math.max(1, bounded))})`;
  if (mode === 'sampling') {
    return `summary sampling: right function ${pct(rightFn)} (target ≥ 95%: ${met(rightFn >= TARGET.samplingRight)}); ${coverText} (target ≥ 90%: ${met(covered >= TARGET.samplingCovered * bounded)}); ${sumText}${failText}`;
  }
  const lineTruth = results.reduce((a, r) => a + r.lineSites.reduce((b, s) => b + s.truth, 0), 0);
  const rightLine = results.reduce((a, r) => a + r.lineSites.reduce((b, s) => b + s.right, 0), 0) / Math.max(1, lineTruth);
  return `summary lines: right line ${pct(rightLine)} (target ≥ 95%: ${met(rightLine >= TARGET.linesRight)}); right function ${pct(rightFn)}; ${coverText}; ${sumText}${failText}`;
}

function main(): void {
  const { nodes, flags, modes, programs, detail, runs } = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const summaries: string[] = [];
  console.log(
    [
      'truth: bytes each program keeps, per site, from a heap snapshot (bench/accuracy/truth.ts).',
      'right fn / right ln: share of the truth reported at the right function / line; a function (line-mode site)',
      '  whose 95% bound covers its truth counts in full. bounds: functions (line mode: sites) whose bound covers the truth.',
      "Σ reported: every statistic of after.compareTo(before); '!' = the heap's growth is outside that sum's 95% bound.",
    ].join('\n'),
  );
  for (const node of nodes) {
    for (const mode of modes) {
      const results: ProgramResult[] = [];
      let failed = 0;
      let version = '';
      console.log(`\n== ${mode} mode, ${flags.length ? `V8 flags ${flags.join(' ')}` : 'default V8 flags'}, ${node} ==`);
      console.log(`${'program'.padEnd(16)} ${'truth'.padStart(9)} ${'right fn'.padStart(9)} ${'right ln'.padStart(9)} ${'bounds'.padStart(7)} ${'Σ reported / heap growth'.padStart(28)}   biggest excess over truth`);
      for (let run = 0; run < runs; run++) {
        for (const program of programs) {
          try {
            const r = runProgram(program, mode, { node, flags });
            version = r.node;
            results.push(r);
            console.log(row(r));
            if (detail) for (const line of details(r)) console.log(line);
          } catch (err) {
            failed++;
            console.log(`${program.padEnd(16)} FAILED: ${(err as Error).message}`);
          }
        }
      }
      const pooled = runs > 1 ? ` (${runs} runs pooled)` : '';
      const s = `[node ${version || node}${flags.length ? ` ${flags.join(' ')}` : ''}${pooled}] ${summary(mode, results, failed)}`;
      console.log(s);
      summaries.push(s);
    }
  }
  console.log(`\n${summaries.join('\n')}\n(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

main();

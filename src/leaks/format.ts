import { formatCount, formatSize } from '../model/index.js';
import type { LeakFinding, LeakReport } from './find.js';

function perIteration(f: LeakFinding): string {
  const objects = f.objectsPerIteration.toFixed(f.objectsPerIteration >= 10 ? 0 : 1);
  return `+${objects} objects, ${formatSize(Math.round(f.bytesPerIteration), true)} per iteration`;
}

/** A finding as text: the site, the growth per iteration, its constructors and retainer paths. */
export function formatFinding(f: LeakFinding, index = 1): string {
  const top = f.traceback.frames.at(-1)!;
  const where = `${top.filename}:${top.lineno}${top.functionName ? ` in ${top.functionName}()` : ''}`;
  const g = f.countGrowth.steady ? f.countGrowth : f.sizeGrowth;
  const lines = [
    `leak ${index}: ${where}: ${perIteration(f)} (grew in ${g.growingIntervals} of ${g.intervals} iterations, R² ${g.r2.toFixed(2)})`,
    `  live objects at the site: ${f.counts.join(', ')}`,
    '  allocated at (most recent call last):',
    ...f.traceback.format().map((l) => `  ${l}`),
  ];
  if (f.constructors.length > 0) {
    const names = f.constructors.slice(0, 5).map((c) => `${c.name} ×${c.count}`);
    lines.push(`  new since the warm-up and still alive: ${f.leakedObjects} objects, ${formatSize(f.leakedBytes)}: ${names.join(', ')}${f.constructors.length > 5 ? ', …' : ''}`);
  }
  for (const c of f.retainers.slice(0, 3)) {
    lines.push(`  retained by (${c.sampled} of the sampled objects, holder ${c.holder}):`, `    ${c.path}`);
  }
  if (f.retainers.length > 3) lines.push(`  … and ${f.retainers.length - 3} more retainer clusters`);
  return lines.join('\n');
}

/** The whole report as text; says so when nothing leaked. */
export function formatLeakReport(report: LeakReport): string {
  const head = `tracemalloc leaks (${report.mode} mode, ${report.warmup} warm-up + ${report.iterations} measured iterations, ${formatCount(report.sitesExamined, 'site')}, ${(report.durationMs / 1000).toFixed(1)} s)`;
  if (report.findings.length === 0) return `${head}: no allocation site grew steadily`;
  return [`${head}: ${report.findings.length} leaking site${report.findings.length > 1 ? 's' : ''}`, ...report.findings.map((f, i) => formatFinding(f, i + 1))].join('\n');
}

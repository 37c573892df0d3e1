import { spawnSync } from 'node:child_process';

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Run `script --child CONFIG WORKLOAD` in a fresh process for every
 * configuration and workload, `reps` rounds, each round in a different
 * order so that no configuration always runs first. Each child prints one
 * JSON object of figures as its last line. Returns a getter of the median
 * of one figure per `workload/config`.
 */
export function runChildren(
  script: string,
  configs: readonly string[],
  workloads: readonly string[],
  reps: number,
  nodeArgs: readonly string[] = [],
): (key: string, field?: string) => number {
  const results = new Map<string, Array<Record<string, number>>>();
  for (const workload of workloads) {
    for (let r = 0; r < reps; r++) {
      const order = configs.map((c, i) => ({ c, key: (i * 7919 + r * 104729) % 1013 })).sort((a, b) => a.key - b.key);
      for (const { c: config } of order) {
        const run = spawnSync(process.execPath, [...nodeArgs, script, '--child', config, workload], { encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`child ${config}/${workload} failed: ${run.stderr}`);
        const key = `${workload}/${config}`;
        const line = run.stdout.trim().split('\n').pop()!;
        (results.get(key) ?? results.set(key, []).get(key)!).push(JSON.parse(line));
      }
    }
  }
  return (key, field = 'ms') => median(results.get(key)!.map((r) => r[field]));
}

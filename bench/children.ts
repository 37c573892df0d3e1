import { spawnSync } from 'node:child_process';

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** How {@link runChildren} starts each child; every field is optional. */
export interface ChildOptions {
  /** The node binary (default: the one running the parent). */
  execPath?: string;
  /** Extra node arguments of one configuration, after the shared ones. */
  argsFor?: (config: string) => readonly string[];
  /** Kill a child that runs longer than this (default: no limit). */
  timeoutMs?: number;
  /** Which workloads a configuration runs on (default: all). */
  runs?: (config: string, workload: string) => boolean;
}

/** Median of one figure of `workload/config`, and every run's figures in run order. */
export interface ChildResults {
  (key: string, field?: string): number;
  all(key: string): Array<Record<string, number>>;
}

/**
 * Run `script --child CONFIG WORKLOAD` in a fresh process for every
 * configuration and workload, `reps` rounds, each round in a different
 * order so that no configuration always runs first. Each child prints one
 * JSON object of figures as its last line. Returns a getter of the median
 * of one figure per `workload/config`; its `all` gives every run, so that
 * the figures of round r of two configurations, which ran side by side,
 * can be paired.
 */
export function runChildren(
  script: string,
  configs: readonly string[],
  workloads: readonly string[],
  reps: number,
  nodeArgs: readonly string[] = [],
  options: ChildOptions = {},
): ChildResults {
  const results = new Map<string, Array<Record<string, number>>>();
  const node = options.execPath ?? process.execPath;
  for (const workload of workloads) {
    const mine = configs.filter((c) => options.runs?.(c, workload) ?? true);
    for (let r = 0; r < reps; r++) {
      const order = mine.map((c, i) => ({ c, key: (i * 7919 + r * 104729) % 1013 })).sort((a, b) => a.key - b.key);
      for (const { c: config } of order) {
        const args = [...nodeArgs, ...(options.argsFor?.(config) ?? []), script, '--child', config, workload];
        const run = spawnSync(node, args, { encoding: 'utf8', timeout: options.timeoutMs, killSignal: 'SIGKILL' });
        if (run.status !== 0) throw new Error(`child ${config}/${workload} failed (${run.status ?? run.signal}): ${run.stderr}`);
        const key = `${workload}/${config}`;
        const line = run.stdout.trim().split('\n').pop()!;
        (results.get(key) ?? results.set(key, []).get(key)!).push(JSON.parse(line));
      }
    }
  }
  const get = (key: string, field = 'ms') => median(results.get(key)!.map((r) => r[field]));
  return Object.assign(get, { all: (key: string) => results.get(key) ?? [] });
}

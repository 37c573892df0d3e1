/** Reading the TAP that `node --test --test-reporter=tap` prints (the same on Node 20 to 26). */

export const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const;
export type Counts = Record<(typeof COUNTS)[number], number>;

/** A top-level test reported `not ok`, and the compiled test file it is in (null when TAP does not say). */
export interface Failure {
  name: string;
  file: string | null;
}

/** The closing `# tests N` … lines of node's TAP reporter; null when the run never got there. */
export function summaryOf(tail: string): Counts | null {
  const counts = {} as Counts;
  for (const name of COUNTS) {
    const m = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tail);
    if (!m) return null;
    counts[name] = Number(m[1]);
  }
  return counts;
}

/**
 * The top-level `not ok` tests of a TAP stream and the file each is in
 * (its `location:`, or the name itself when a whole file failed to load).
 */
export function failuresOf(tap: string): Failure[] {
  const failures: Failure[] = [];
  const lines = tap.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    // The reporter escapes '#' and '\\' in names.
    const name = m[1].replace(/ # (SKIP|TODO).*$/, '').replace(/\\([#\\])/g, '$1');
    let file: string | null = /\.test\.js$/.test(name) ? name : null;
    for (let j = i + 1; j < lines.length && /^ {2}/.test(lines[j]); j++) {
      const at = /^ {2}location: '(.*?\.js):\d+:\d+'$/.exec(lines[j]);
      if (at) {
        file = at[1];
        break;
      }
    }
    failures.push({ name, file });
  }
  return failures;
}


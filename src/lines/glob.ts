import { isAbsolute, resolve } from 'node:path';

/**
 * A path glob as a RegExp: `**` spans directories, `*` and `?` stay within
 * one. Relative patterns are taken from `root`. Small on purpose: Node's own
 * `path.matchesGlob` prints an ExperimentalWarning into the traced program.
 */
export function globToRegExp(pattern: string, root: string): RegExp {
  const absolute = pattern.startsWith('**') || isAbsolute(pattern) ? pattern : resolve(root, pattern);
  let out = '';
  for (let i = 0; i < absolute.length; i++) {
    const c = absolute[i];
    if (c === '*' && absolute[i + 1] === '*') {
      // `**/` matches zero or more whole directories.
      if (absolute[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Include/exclude globs compiled once. */
export class PathFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(include: readonly string[], exclude: readonly string[], root: string) {
    this.include = include.map((p) => globToRegExp(p, root));
    this.exclude = exclude.map((p) => globToRegExp(p, root));
  }

  /** True when `path` matches an include pattern and no exclude pattern. */
  matches(path: string): boolean {
    return this.include.some((r) => r.test(path)) && !this.exclude.some((r) => r.test(path));
  }
}

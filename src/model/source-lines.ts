/**
 * A tiny `linecache`: source lines for `Traceback.format`, read once per file
 * and kept. Reading is synchronous because formatting is; any error (missing
 * file, `node:` builtin, directory, permission) just means "no source line".
 *
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Files bigger than this are not worth holding in memory to print one line. */
const MAX_SOURCE_BYTES = 32 * 1024 * 1024;

const cache = new Map<string, readonly string[] | null>();

/** Path to read for a frame's filename, or null when it names no local file. */
function pathOf(filename: string): string | null {
  if (filename.startsWith('file:')) {
    try {
      return fileURLToPath(filename);
    } catch {
      return null;
    }
  }
  // Builtins (`node:fs`), `<unknown>`, `evalmachine.<anonymous>`, http URLs ...
  if (filename === '' || filename.startsWith('<') || /^[a-z][a-z0-9+.-]+:\/\//i.test(filename) || filename.startsWith('node:')) {
    return null;
  }
  return filename;
}

function load(filename: string): readonly string[] | null {
  const path = pathOf(filename);
  if (path === null) return null;
  try {
    const stat = statSync(path);
    if (!stat.isFile() || stat.size > MAX_SOURCE_BYTES) return null;
    let text = readFileSync(path, 'utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    // Universal newlines, as Python's readlines() in linecache.
    return text.split(/\r\n|\r|\n/);
  } catch {
    return null;
  }
}

/**
 * Line `lineno` (1-based) of `filename` without its line terminator, or `''`
 * when the file or line is unavailable, as Python's `linecache.getline`.
 * `filename` may be a path or a `file://` URL.
 */
export function getSourceLine(filename: string, lineno: number): string {
  let lines = cache.get(filename);
  if (lines === undefined) {
    lines = load(filename);
    cache.set(filename, lines);
  }
  if (lines === null || !Number.isInteger(lineno) || lineno < 1 || lineno > lines.length) return '';
  return lines[lineno - 1];
}

/**
 * Forget cached source files (all of them, or one), as Python's
 * `linecache.clearcache()` / `checkcache()`: call it after editing sources.
 */
export function clearSourceCache(filename?: string): void {
  if (filename === undefined) cache.clear();
  else cache.delete(filename);
}

/**
 * Turns what follows `--` in `tracemalloc run` into a Node command line with
 * the tracing preload inserted before the program's first line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError } from './errors.js';
import { nodeStripsTypes } from '../agent/ts-imports.js';

/** The process to spawn. */
export interface Launch {
  command: string;
  args: string[];
  /** The script being run, for messages; null when node runs `-e` or similar. */
  script: string | null;
}

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
// Node options that take a separate value, so the value is not mistaken for the script.
const VALUE_OPTIONS = new Set([
  '--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C',
  '--input-type', '--env-file', '--stack-size', '--max-old-space-size', '--title', '--eval', '-e', '--print', '-p',
]);

/**
 * The version of the Node that `command` starts: `node` on the PATH need not
 * be the Node running tracemalloc. Null when it does not answer.
 */
function versionOf(command: string): string | null {
  if (command === process.execPath) return process.versions.node;
  const run = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return /^v(\d+\.\d+\.\d+)/.exec(run.stdout ?? '')?.[1] ?? null;
}

function isNodeCommand(word: string): boolean {
  return /^node(\.exe)?$/.test(basename(word)) || word === process.execPath;
}

/** The first non-option argument of a node command line: the script, if any. */
function scriptOf(nodeArgs: readonly string[]): string | null {
  for (let i = 0; i < nodeArgs.length; i++) {
    const a = nodeArgs[i];
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') return null;
    if (a === '--') return nodeArgs[i + 1] ?? null;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return null;
}

/** A way to load TypeScript on a Node without type stripping: tsx, from the project or next to tracemalloc. */
function findTsx(cwd: string): string | null {
  for (const from of [join(cwd, 'package.json'), fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(from).resolve('tsx');
    } catch {
      // not installed there
    }
  }
  return null;
}

/**
 * The command to spawn for `words` (a script and its arguments, or a
 * `node ...` command line), with `--import preload` added first.
 */
export function launchFor(words: readonly string[], preload: string, cwd = process.cwd()): Launch {
  if (words.length === 0) {
    throw new UsageError("nothing to run; put the program after '--', e.g. 'tracemalloc run -- app.js'");
  }
  const [first, ...rest] = words;
  let command: string;
  let nodeArgs: string[];
  if (isNodeCommand(first)) {
    command = first;
    nodeArgs = rest;
  } else {
    const ext = extname(first);
    const path = resolve(cwd, first);
    if (!existsSync(path)) {
      throw new UsageError(`no such file: ${first}; run a .js, .mjs, .cjs or .ts file, or 'node ...args'`);
    }
    if (!statSync(path).isFile()) {
      throw new UsageError(`'${first}' is not a file; run a .js, .mjs, .cjs or .ts file, or 'node ...args'`);
    }
    if (!JS_EXTENSIONS.has(ext) && !TS_EXTENSIONS.has(ext) && ext !== '') {
      throw new UsageError(`cannot run '${first}': expected a .js, .mjs, .cjs or .ts file, or 'node ...args'`);
    }
    command = process.execPath;
    nodeArgs = [...words];
  }
  const script = scriptOf(nodeArgs);
  // Node would print a whole stack trace for it, after the preload started tracing.
  if (script && !existsSync(resolve(cwd, script))) throw new UsageError(`no such file: ${script}`);
  const loaders: string[] = [];
  const version = script && TS_EXTENSIONS.has(extname(script)) ? (versionOf(command) ?? process.versions.node) : null;
  if (version && !nodeStripsTypes(version)) {
    const tsx = findTsx(cwd);
    if (!tsx) {
      throw new UsageError(
        `Node v${version} cannot run TypeScript directly; install tsx (npm i -D tsx), use Node 22.18 or later, or compile '${script}' and run the .js`,
      );
    }
    loaders.push('--import', pathToFileURL(tsx).href);
  }
  // The TypeScript loader comes first: line mode's hooks, installed by the
  // preload, must see the JavaScript it produces. Tracing still starts before the program.
  return { command, args: [...loaders, '--import', preload, ...nodeArgs], script };
}

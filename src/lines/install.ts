/**
 * Turn line mode's instrumentation on for modules loaded from now on.
 *
 * @module
 */
import * as nodeModule from 'node:module';
import { createRequire } from 'node:module';
import { configure, instrumentModule, loadSync, type LineHookConfig } from './hooks.js';
import { installRecorder } from './recorder.js';

/** Which of the user's files line mode instruments. */
export interface LineFilesOptions {
  /** Globs of files to instrument; relative ones are taken from the working directory. Default: everything under it. */
  include?: string[];
  /** Globs of files to leave alone. Default: `**\/node_modules/**`. */
  exclude?: string[];
}

/** Default globs of {@link LineFilesOptions}. */
export const DEFAULT_LINE_EXCLUDE = ['**/node_modules/**'];

let installed: LineHookConfig | null = null;

interface HookApi {
  registerHooks?: (hooks: { load: typeof loadSync }) => unknown;
  register?: (specifier: string | URL, options: { data: unknown }) => void;
}

function patchCommonJs(): void {
  const Module = createRequire(import.meta.url)('node:module') as { prototype: { _compile: (...args: unknown[]) => unknown } };
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (this: unknown, content: unknown, filename: unknown, ...rest: unknown[]) {
    if (typeof content === 'string' && typeof filename === 'string') {
      const sourceType = rest[0] === 'module' ? 'module' : 'script';
      content = instrumentModule(filename, filename, content, sourceType, false) ?? content;
    }
    return compile.call(this, content, filename, ...rest);
  };
}

/**
 * Install the module hooks and the recorder. Modules loaded before this call
 * stay uninstrumented: use `tracemalloc run --lines` or
 * `NODE_TRACEMALLOC_LINES=1 node --import tracemalloc/start` to instrument
 * from the first line. A second call keeps the first configuration.
 */
export function installLineHooks(options: LineFilesOptions = {}): void {
  if (installed) return;
  const config: LineHookConfig = {
    include: options.include ?? ['**'],
    exclude: options.exclude ?? DEFAULT_LINE_EXCLUDE,
    root: process.cwd(),
  };
  for (const glob of [...config.include, ...config.exclude]) {
    if (typeof glob !== 'string' || glob === '') throw new TypeError(`tracemalloc: lines include/exclude globs must be non-empty strings, got ${JSON.stringify(glob)}`);
  }
  if (options.include === undefined) config.include = [`${config.root}/**`];
  installRecorder();
  configure(config);
  const api = nodeModule as unknown as HookApi;
  if (typeof api.registerHooks === 'function') {
    api.registerHooks({ load: loadSync });
  } else {
    api.register?.(new URL('./hooks.js', import.meta.url), { data: config });
    patchCommonJs();
  }
  installed = config;
}

/** True once {@link installLineHooks} ran. */
export function lineHooksInstalled(): boolean {
  return installed !== null;
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findLeaks, type LeakReport, type LeakScenario } from './find.js';
import type { FindLeaksOptions } from './options.js';

/**
 * What a scenario module may export: the iteration as `default` or
 * `scenario`, optional `options` (overridden by the caller's), and an
 * optional `teardown` run once at the end (to clear intervals, close servers).
 */
interface ScenarioModule {
  default?: unknown;
  scenario?: unknown;
  options?: unknown;
  teardown?: unknown;
}

/**
 * Loads a module that exports a scenario function and runs {@link findLeaks}
 * on it: the engine of `tracemalloc leaks -- <script>`. The module's
 * `teardown()`, if any, runs after the search, found or not.
 *
 * @param modulePath - a file path (relative to the working directory) or URL;
 *   TypeScript needs a Node that strips types or a loader such as tsx
 * @param options - override the module's exported `options`
 */
export async function runLeakScenario(modulePath: string, options: FindLeaksOptions = {}): Promise<LeakReport> {
  if (typeof modulePath !== 'string' || modulePath === '') throw new TypeError('tracemalloc leaks: a scenario module path is required');
  const isUrl = /^[a-z]+:\/\//i.test(modulePath);
  const file = isUrl ? modulePath : resolve(modulePath);
  if (!isUrl && !existsSync(file)) throw new Error(`tracemalloc leaks: cannot find the scenario module ${file}`);
  const mod = (await import(isUrl ? file : pathToFileURL(file).href)) as ScenarioModule;
  const fn = typeof mod.scenario === 'function' ? mod.scenario : mod.default;
  if (typeof fn !== 'function') {
    throw new TypeError(`tracemalloc leaks: ${modulePath} must export a scenario function (export default, or export function scenario)`);
  }
  if (mod.options !== undefined && (mod.options === null || typeof mod.options !== 'object')) {
    throw new TypeError(`tracemalloc leaks: the options exported by ${modulePath} must be an object`);
  }
  try {
    return await findLeaks(fn as LeakScenario, { ...(mod.options as FindLeaksOptions | undefined), ...options });
  } finally {
    if (typeof mod.teardown === 'function') await (mod.teardown as () => unknown)();
  }
}

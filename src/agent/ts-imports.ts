/**
 * `.js` imports of `.ts` files for `tracemalloc run` on Nodes that strip
 * types. TypeScript's NodeNext convention writes `import './lib.js'` for
 * `lib.ts`; tsx (which `run` uses on older Node) resolves that, Node's type
 * stripping does not, so the same program would run on Node 20 and fail on
 * 22.18+. Only imports Node cannot resolve are retried, and only from a
 * TypeScript module, so no program that runs without this changes.
 */
import * as nodeModule from 'node:module';

/** True when this Node strips TypeScript types by default (22.18+, 23.6+). */
export function nodeStripsTypes(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
}

type Resolved = { url: string; format?: string | null };
type NextResolve = (specifier: string, context?: unknown) => Resolved;
interface ResolveContext {
  parentURL?: string;
}
interface HookApi {
  registerHooks?: (hooks: { resolve: (specifier: string, context: ResolveContext, next: NextResolve) => Resolved }) => unknown;
}

const TS_PARENT = /\.[cm]?ts$/;
const JS_SPECIFIER = /^\.{1,2}\/.*\.([cm]?)js$/;
const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

function resolve(specifier: string, context: ResolveContext, next: NextResolve): Resolved {
  try {
    return next(specifier, context);
  } catch (err) {
    const js = JS_SPECIFIER.exec(specifier);
    const parent = context.parentURL ?? '';
    if (!js || !TS_PARENT.test(parent.split(/[?#]/)[0]) || !NOT_FOUND.has((err as { code?: string }).code ?? '')) throw err;
    try {
      return next(`${specifier.slice(0, -2)}ts`, context);
    } catch {
      throw err; // the program's own error, about the file it named
    }
  }
}

/** Install the fallback where Node has synchronous module hooks (22.15+, every Node that strips types). */
export function resolveTsImports(): void {
  const api = nodeModule as unknown as HookApi;
  api.registerHooks?.({ resolve });
}

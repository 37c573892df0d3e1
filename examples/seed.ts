/**
 * The seed's Python example, in TypeScript: where did 10,000 new globals go?
 *
 *   npm run demo             (exact mode: every object counted)
 *   npm run demo -- sampling (sampling mode: estimates, cheap enough for production)
 */
import * as tracemalloc from 'tracemalloc';

const mode = process.argv[2] === 'sampling' ? 'sampling' : 'exact';
tracemalloc.start({ frames: 10, mode });

const time1 = tracemalloc.takeSnapshot();

function defineGlobals(): void {
  const scope = globalThis as Record<string, unknown>;
  for (let i = 0; i < 10000; i++) {
    scope['v' + String(i)] = i;
  }
}
defineGlobals();

const time2 = tracemalloc.takeSnapshot();

console.log(`[ top 3 of compareTo(time1, 'lineno'), ${mode} mode ]`);
const stats = time2.compareTo(time1, 'lineno');
for (const stat of stats.slice(0, 3)) {
  console.log(String(stat), ` <- in ${stat.traceback.at(-1)?.functionName || '(anonymous)'}()`);
}

console.log(`\n[ traceback of the biggest one ]`);
const top = time2.compareTo(time1, 'traceback')[0];
console.log(top.traceback.format().join('\n'));

tracemalloc.stop();

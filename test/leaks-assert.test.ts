import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runJson } from './helpers.js';

interface Outcome {
  ok: boolean;
  name?: string;
  message?: string;
}
interface Result {
  leakyAssert: Outcome;
  quietAssert: Outcome;
  matcherLeaky: { pass: boolean; message: string };
  matcherQuiet: { pass: boolean; message: string };
  matcherBad: Outcome;
  limitOver: Outcome;
  limitUnder: Outcome;
  limitBad: Outcome;
}

// --no-compact: V8's tracker loses traces when a full GC compacts (docs/leaks.md); without
// it a 5-iteration search can miss a leak. To drop once TrackingCapture sets the flag itself.
const result = runJson<Result>(['--no-compact', fixture('leak-assert-child.js')], { hangLimitMs: 300_000 });

test('assertNoLeak throws an AssertionError that prints the site, the growth and the retainer path', () => {
  const r = result.leakyAssert;
  assert.equal(r.ok, false);
  assert.equal(r.name, 'AssertionError');
  assert.match(r.message!, /leak-map-cache\.ts:\d+ in cacheSession\(\)/, 'the site');
  assert.match(r.message!, /\+\d+ objects, \+[\d.]+ \w+ per iteration/, 'growth per iteration');
  assert.match(r.message!, /sessionCache \(Map\) → \[entries\] \(Session\)/, 'the retainer path names the holder');
  assert.deepEqual(result.quietAssert, { ok: true }, 'a bounded LRU passes');
});

test('toLeak matcher: pass when it leaks, with the findings in the message; rejects non-functions', () => {
  assert.equal(result.matcherLeaky.pass, true);
  assert.match(result.matcherLeaky.message, /expected the function not to leak, but .*cacheSession/s);
  assert.equal(result.matcherQuiet.pass, false);
  assert.match(result.matcherQuiet.message, /no allocation site grew steadily/);
  assert.equal(result.matcherBad.ok, false);
  assert.match(result.matcherBad.message!, /^toLeak\(\) expects a function .*got number$/);
});

test('limitMemory fails over the limit with the top sites, passes under it, rejects a bad limit', () => {
  const over = result.limitOver;
  assert.equal(over.ok, false);
  assert.equal(over.name, 'AssertionError');
  assert.match(over.message!, /peak traced memory was .* over the limit of 97\.7 KiB/);
  assert.match(over.message!, /leak-assert-child\.ts/, 'names the allocating file');
  assert.deepEqual(result.limitUnder, { ok: true });
  assert.equal(result.limitBad.ok, false);
  assert.match(result.limitBad.message!, /^tracemalloc: the memory limit must be .*got lots$/);
});

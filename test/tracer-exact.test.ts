import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture, runJson } from './helpers.js';

/** 1-based line of the first line of `source` containing `text`. */
function lineOf(source: string, text: string): number {
  return readFileSync(source, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}

interface Result {
  stats: Array<{ file: string; line: number; fn: string; count: number; size: number }>;
  objectTraceback: Array<{ fn: string; line: number }> | null;
  preStart: unknown;
  memory: { current: number; peak: number };
  total: number;
}

test('exact mode counts every live object at its site, and nothing freed or older', () => {
  const result = runJson<Result>([fixture('exact-sites.js')]);
  const at = (fn: string) => result.stats.filter((s) => s.fn === fn);

  const a = at('siteA');
  assert.equal(a.length, 1, 'siteA is one statistic');
  assert.equal(a[0].count, 1234, 'objects allocated before start() are not traced');
  assert.ok(a[0].file.endsWith('exact-sites.ts'), 'reported in the TypeScript source through its map');
  assert.equal(a[0].line, lineOf(a[0].file, 'function siteA()'), 'V8 reports the function start line');
  assert.equal(a[0].size % a[0].count, 0, 'one object size per site');

  const b = at('siteB');
  assert.equal(b.length, 1);
  assert.equal(b[0].count, 567);
  assert.ok(b[0].size / b[0].count > a[0].size / a[0].count, 'two fields take more than one');

  assert.deepEqual(at('siteFreed'), [], 'objects freed before the snapshot do not appear');
  assert.ok(!result.stats.some((s) => /[\\/]dist[\\/]src[\\/]/.test(s.file)), 'the tool does not trace itself');

  assert.ok(result.objectTraceback, 'an object allocated while tracing has a traceback');
  assert.equal(result.objectTraceback!.at(-1)!.fn, 'siteB', 'most recent frame last');
  assert.equal(result.preStart, null, 'an object allocated before start() has none');
  assert.ok(result.total >= a[0].size + b[0].size);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getObjects } from '../src/index.js';

class CensusProbe {
  constructor(readonly label: string, readonly index: number) {}
}

test('getObjects() counts live objects by constructor, with sizes and short previews', () => {
  const kept = Array.from({ length: 4321 }, (_, i) => new CensusProbe('probe-' + 'x'.repeat(100), i));
  const result = getObjects({ top: 1000, retained: true });
  const group = result.groups.find((g) => g.name === 'CensusProbe');
  assert.ok(group, 'the class is in the census');
  assert.equal(group!.count, 4321);
  assert.ok(group!.selfSize >= 4321 * 16);
  assert.ok(group!.retainedSize >= group!.selfSize, 'each probe retains at least itself');
  assert.equal(group!.previews.length, 3);
  assert.match(group!.previews[0], /label/);
  assert.ok(group!.previews.every((p) => !p.includes('x'.repeat(60))), 'long strings are cut');
  assert.ok(result.totalCount > 4321 && result.totalSize > group!.selfSize);
  assert.equal(kept.length, 4321);
});

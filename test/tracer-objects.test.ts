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

test('getObjects() previews hide string contents unless includeStrings', () => {
  const secret = `probe-secret-${process.pid}`;
  const kept = Array.from({ length: 3 }, (_, i) => new CensusProbe(`${secret}-${i}`.split('').join(''), i)); // flat: V8 names concatenated strings "(concatenated string)"
  const hidden = getObjects({ top: 1000, retained: false }).groups.find((g) => g.name === 'CensusProbe')!;
  assert.ok(hidden.previews.length > 0);
  assert.ok(hidden.previews.every((p) => !p.includes('probe-secret') && /label: string \(\d+ chars, #[0-9a-f]{8}\)/.test(p)), hidden.previews.join('\n'));
  const shown = getObjects({ top: 1000, retained: false, includeStrings: true }).groups.find((g) => g.name === 'CensusProbe')!;
  assert.ok(shown.previews.some((p) => p.includes(`label: "${secret}-`)), shown.previews.join('\n'));
  assert.equal(kept.length, 3);
});

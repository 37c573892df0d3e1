import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateCovers, fixture, runJson } from './helpers.js';

interface Result {
  estimate: { size: number; count: number; samples: number; sizeLow: number; sizeHigh: number; countLow: number; countHigh: number; confidence: number };
  truth: { size: number; count: number };
}

// The estimates must cover the truth within their stated error (see estimateCovers).
const within = estimateCovers;

for (const interval of [0, 16 * 1024]) {
  test(`sampling estimates cover the truth on a site holding tens of MB (interval ${interval || 'default'})`, () => {
    const { estimate, truth } = runJson<Result>([fixture('sampling-site.js'), String(interval)]);
    assert.equal(truth.count, 300_000);
    assert.ok(truth.size > 10e6, `site holds ${truth.size} bytes`);
    assert.equal(estimate.confidence, 0.95);
    assert.ok(estimate.samples > 50, `${estimate.samples} samples`);
    assert.ok(estimate.sizeLow < estimate.size && estimate.size < estimate.sizeHigh);
    assert.ok(within(estimate.size, estimate.sizeLow, estimate.sizeHigh, truth.size), `size ${estimate.size} vs ${truth.size} [${estimate.sizeLow}, ${estimate.sizeHigh}]`);
    assert.ok(within(estimate.count, estimate.countLow, estimate.countHigh, truth.count), `count ${estimate.count} vs ${truth.count} [${estimate.countLow}, ${estimate.countHigh}]`);
    // Bounds that are too wide would make this test vacuous.
    assert.ok((estimate.sizeHigh - estimate.sizeLow) / truth.size < 0.6, 'bounds are informative');
  });
}

test('sampling sees each object of an unrolled hot loop at its own size, not folded', () => {
  const { estimate, truth } = runJson<{ estimate: Result['estimate']; truth: { count: number; size: number; sizes: number[] } }>([fixture('sampling-loop.js')]);
  assert.equal(truth.count, 200_000);
  assert.ok(estimate.samples > 50, `${estimate.samples} samples`);
  // Folded (Node 24+: four iterations' objects in one allocation), samples
  // report 128-byte objects: the bytes stay right, the count drops to a quarter.
  const average = estimate.size / estimate.count;
  assert.ok(Math.round(average) <= Math.max(...truth.sizes), `average ${average} B, objects of ${truth.sizes.join(' or ')} B`);
  assert.ok(within(estimate.size, estimate.sizeLow, estimate.sizeHigh, truth.size), `size ${estimate.size} vs ${truth.size} [${estimate.sizeLow}, ${estimate.sizeHigh}]`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runJson } from './helpers.js';

test("tracemalloc leaves the program's object layouts alone: no field of the program's objects becomes a boxed number", () => {
  const { objects, boxed } = runJson<{ objects: number; boxed: number[] }>([fixture('host-shapes.js')]);
  assert.equal(objects, 1200);
  // Per shape: { n }, { c, s }, { size, blocks }, { current, peak }, { count, size }, { samples, size, count, sizeVar, countVar }.
  assert.deepEqual(boxed, [0, 0, 0, 0, 0, 0]);
});

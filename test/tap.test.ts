import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failuresOf, summaryOf } from './tap.js';

// As Node 24's reporter printed it in a CI run, shortened.
const TAP = `TAP version 13
# Subtest: run passes the program's failing exit code through
ok 18 - run passes the program's failing exit code through
  ---
  duration_ms: 527.29888
  type: 'test'
  ...
# Subtest: run writes a snapshot on SIGUSR2 sent to the tracemalloc process; compare diffs it with the exit one
not ok 19 - run writes a snapshot on SIGUSR2 sent to the tracemalloc process; compare diffs it with the exit one
  ---
  duration_ms: 2092.714797
  location: '/check/work/main/dist/test/cli.test.js:138:1'
  failureType: 'testCodeFailure'
  ...
# Subtest: a suite
    # Subtest: an inner test
    not ok 1 - an inner test
      ---
      location: '/x/dist/test/leaks.test.js:12:3'
      ...
not ok 20 - a suite
  ---
  location: '/x/dist/test/leaks.test.js:10:1'
  ...
not ok 21 - counts \\# of things
  ---
  location: '/x/dist/test/a.test.js:1:1'
  ...
not ok 22 - /x/dist/test/broken.test.js
  ---
  ...
1..22
# tests 297
# suites 16
# pass 296
# fail 1
# cancelled 0
# skipped 1
# todo 0
# duration_ms 375663.909764
`;

test('failuresOf lists top-level failures with their files, not nested ones', () => {
  assert.deepEqual(failuresOf(TAP), [
    {
      name: 'run writes a snapshot on SIGUSR2 sent to the tracemalloc process; compare diffs it with the exit one',
      file: '/check/work/main/dist/test/cli.test.js',
    },
    { name: 'a suite', file: '/x/dist/test/leaks.test.js' },
    { name: 'counts # of things', file: '/x/dist/test/a.test.js' },
    { name: '/x/dist/test/broken.test.js', file: '/x/dist/test/broken.test.js' },
  ]);
});

test('summaryOf reads the closing counts, and null when the run never printed them', () => {
  assert.deepEqual(summaryOf(TAP), { tests: 297, suites: 16, pass: 296, fail: 1, cancelled: 0, skipped: 1, todo: 0 });
  assert.equal(summaryOf(TAP.slice(0, TAP.indexOf('# tests'))), null);
});

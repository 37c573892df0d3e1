// The pprof endpoint (NODE_TRACEMALLOC_PPROF / servePprof): read over HTTP
// by `go tool pprof` when installed, and always by protobufjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { fixture, freePort } from './helpers.js';

const START = fileURLToPath(new URL('../src/agent/start.js', import.meta.url));
const HAS_GO = spawnSync('go', ['version']).error === undefined;

// The parts of pprof's profile.proto read here (field numbers from the published schema).
const PROFILE_PROTO = `
syntax = "proto3";
package perftools.profiles;
message Profile { repeated ValueType sample_type = 1; repeated Sample sample = 2; repeated Location location = 4; repeated Function function = 5; repeated string string_table = 6; }
message ValueType { int64 type = 1; int64 unit = 2; }
message Sample { repeated uint64 location_id = 1; repeated int64 value = 2; }
message Location { uint64 id = 1; repeated Line line = 4; }
message Line { uint64 function_id = 1; int64 line = 2; }
message Function { uint64 id = 1; int64 name = 2; int64 filename = 4; }
`;

interface Decoded {
  sampleType: Array<{ type: number; unit: number }>;
  sample: Array<{ locationId: number[]; value: number[] }>;
  location: Array<{ id: number; line: Array<{ functionId: number }> }>;
  function: Array<{ id: number; name: number; filename: number }>;
  stringTable: string[];
}

function startApp(env: NodeJS.ProcessEnv, args: string[] = []): { child: ChildProcess; ready: Promise<void>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', START, fixture('pprof-app.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`app exited with ${code}: ${stderr}`)));
  });
  ready.catch(() => {});
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, ready, exit };
}

test('GET /debug/pprof/heap serves live memory by site that go tool pprof and protobufjs read', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const app = startApp({ NODE_TRACEMALLOC_PPROF: `127.0.0.1:${port}` });
  const tmp = mkdtempSync(join(tmpdir(), 'tracemalloc-pprof-'));
  try {
    await app.ready;
    const url = `http://127.0.0.1:${port}/debug/pprof/heap`;
    const response = await fetch(url);
    assert.equal(response.status, 200);
    const raw = Buffer.from(await response.arrayBuffer());
    assert.deepEqual([...raw.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
    const Profile = protobuf.parse(PROFILE_PROTO).root.lookupType('perftools.profiles.Profile');
    const profile = Profile.toObject(Profile.decode(gunzipSync(raw)), { longs: Number, arrays: true }) as Decoded;
    const s = profile.stringTable;
    assert.deepEqual(profile.sampleType.map((v) => [s[v.type], s[v.unit]]), [['inuse_objects', 'count'], ['inuse_space', 'bytes'], ['off_heap_space', 'bytes']]);
    const names = new Map(profile.function.map((f) => [f.id, `${s[f.name]} ${s[f.filename]}`]));
    const leafOf = new Map(profile.location.map((l) => [l.id, names.get(l.line[0]!.functionId)!]));
    const bySpace = profile.sample.map((x) => ({ leaf: leafOf.get(x.locationId[0]!)!, space: x.value[1]! })).sort((a, b) => b.space - a.space);
    assert.match(bySpace[0]!.leaf, /^retainSessions .*pprof-app\.ts$/, JSON.stringify(bySpace.slice(0, 5)));

    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);

    if (!HAS_GO) {
      t.skip('go is not installed: the endpoint was read with protobufjs only');
      return;
    }
    const go = spawnSync('go', ['tool', 'pprof', '-top', url], { encoding: 'utf8', env: { ...process.env, PPROF_TMPDIR: tmp, HOME: tmp }, timeout: 90_000 });
    assert.equal(go.status, 0, go.stderr);
    assert.match(go.stdout, /Type: inuse_space/);
    // The first row of figures; a wide flat value fills its column, leaving no leading space.
    const first = go.stdout.split('\n').find((l) => /^\s*\S+\s+[\d.]+%\s+[\d.]+%/.test(l));
    assert.match(first ?? '', /retainSessions$/, go.stdout);
  } finally {
    app.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the endpoint does not keep the program alive, and a bad setting or a taken port is one line', { timeout: 60_000 }, async () => {
  const idle = startApp({ NODE_TRACEMALLOC_PPROF: String(await freePort()) }, ['idle']);
  const ended = await idle.exit;
  assert.equal(ended.code, 0);
  assert.equal(ended.stderr, '');

  const bad = startApp({ NODE_TRACEMALLOC_PPROF: 'localhost:port' }, ['idle']);
  const badEnd = await bad.exit;
  assert.equal(badEnd.code, 0);
  assert.equal(badEnd.stderr, 'tracemalloc: not tracing: NODE_TRACEMALLOC_PPROF must be PORT or HOST:PORT, such as 127.0.0.1:6060, got "localhost:port"\n');

  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as { port: number }).port;
  try {
    const busy = startApp({ NODE_TRACEMALLOC_PPROF: `127.0.0.1:${taken}` }, ['idle']);
    const busyEnd = await busy.exit;
    assert.equal(busyEnd.code, 0);
    assert.match(busyEnd.stderr, new RegExp(`^tracemalloc: no pprof endpoint: cannot listen on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE.*\\n$`));
  } finally {
    holder.close();
  }
});

test('servePprof answers 500 and one line on stderr when tracing is off, and close() frees the port', async () => {
  const { servePprof, start, stop } = await import('tracemalloc');
  const server = await servePprof({ port: 0 });
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const response = await fetch(server.url);
    assert.equal(response.status, 500);
    assert.match(await response.text(), /not tracing; call start\(\) first/);
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written, ['tracemalloc: pprof endpoint: tracemalloc is not tracing; call start() first\n']);
  start();
  try {
    assert.equal((await fetch(server.url)).status, 200);
  } finally {
    stop();
  }
  await server.close();
  await assert.rejects(fetch(server.url));
});

// Reports written by the real CLI and read back by independent readers:
// protobufjs with pprof's profile.proto (and `go tool pprof` when installed),
// JSON for speedscope, and headless Chromium for the HTML page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { openReport } from './browser.js';
import { fixture, runNode } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

// The message layout of pprof's profile.proto (field numbers from the published schema).
const PROFILE_PROTO = `
syntax = "proto3";
package perftools.profiles;
message Profile {
  repeated ValueType sample_type = 1; repeated Sample sample = 2; repeated Mapping mapping = 3;
  repeated Location location = 4; repeated Function function = 5; repeated string string_table = 6;
  int64 drop_frames = 7; int64 keep_frames = 8; int64 time_nanos = 9; int64 duration_nanos = 10;
  ValueType period_type = 11; int64 period = 12; repeated int64 comment = 13; int64 default_sample_type = 14;
}
message ValueType { int64 type = 1; int64 unit = 2; }
message Sample { repeated uint64 location_id = 1; repeated int64 value = 2; }
message Mapping { uint64 id = 1; }
message Location { uint64 id = 1; uint64 mapping_id = 2; uint64 address = 3; repeated Line line = 4; bool is_folded = 5; }
message Line { uint64 function_id = 1; int64 line = 2; int64 column = 3; }
message Function { uint64 id = 1; int64 name = 2; int64 system_name = 3; int64 filename = 4; int64 start_line = 5; }
`;

interface DecodedProfile {
  sampleType: Array<{ type: number; unit: number }>;
  sample: Array<{ locationId: number[]; value: number[] }>;
  location: Array<{ id: number; line: Array<{ functionId: number; line: number }> }>;
  function: Array<{ id: number; name: number; filename: number; startLine: number }>;
  stringTable: string[];
  defaultSampleType: number;
}

function withSnapshots<T>(body: (dir: string, now: string, old: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-report-'));
  const now = join(dir, 'now.snap');
  const old = join(dir, 'old.snap');
  const made = runNode([fixture('cli-report-snapshot.js'), now, old]);
  assert.equal(made.status, 0, made.stderr);
  return Promise.resolve(body(dir, now, old)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function cli(args: string[]) {
  const run = runNode([CLI, ...args], { env: { NO_COLOR: '1' } });
  assert.equal(run.status, 0, `tracemalloc ${args.join(' ')}: ${run.stderr}`);
  return run;
}

test('pprof: a gzip\'d profile.proto with objects/count, space/bytes and off_heap_space/bytes, read back by an independent decoder', (t) =>
  withSnapshots((dir, now) => {
    const out = join(dir, 'heap.pb.gz');
    cli(['report', now, '--pprof', out]);
    const raw = readFileSync(out);
    assert.deepEqual([...raw.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
    const Profile = protobuf.parse(PROFILE_PROTO).root.lookupType('perftools.profiles.Profile');
    const profile = Profile.toObject(Profile.decode(gunzipSync(raw)), { longs: Number, arrays: true }) as DecodedProfile;
    const s = profile.stringTable;
    assert.equal(s[0], '');
    assert.deepEqual(profile.sampleType.map((t) => [s[t.type], s[t.unit]]), [['objects', 'count'], ['space', 'bytes'], ['off_heap_space', 'bytes']]);
    assert.equal(s[profile.defaultSampleType], 'space');

    const functions = new Map(profile.function.map((f) => [f.id, f]));
    const locations = new Map(profile.location.map((l) => [l.id, l]));
    const stacks = profile.sample.map((sample) => ({
      value: sample.value,
      // Leaf first, as pprof stores it.
      names: sample.locationId.map((id) => {
        const line = locations.get(id)!.line[0];
        const fn = functions.get(line.functionId)!;
        return `${s[fn.name]}@${s[fn.filename]}:${line.line}`;
      }),
    }));
    const cache = stacks.find((st) => st.names[0] === 'remember@/srv/app/cache.ts:20');
    assert.ok(cache, JSON.stringify(stacks));
    assert.deepEqual(cache!.names, ['remember@/srv/app/cache.ts:20', 'handleRequest@/srv/app/server.ts:10', 'main@/srv/app/main.ts:1']);
    assert.deepEqual(cache!.value, [3000, 600_000, 0]);
    assert.equal(stacks.reduce((sum, st) => sum + st.value[1], 0), 1_000_000);

    // The reference reader, when installed (CI installs Debian's golang-go).
    const go = spawnSync('go', ['tool', 'pprof', '-raw', out], { encoding: 'utf8' });
    if (go.error) {
      t.diagnostic('go tool pprof is not installed: checked with protobufjs only');
    } else {
      assert.equal(go.status, 0, go.stderr);
      assert.match(go.stdout, /objects\/count space\/bytes(\[dflt\])? off_heap_space\/bytes/);
      assert.match(go.stdout, /3000 +600000 +0: /);
      assert.match(go.stdout, /remember \/srv\/app\/cache\.ts:20/);
    }
  }));

test('speedscope: a sampled profile with byte weights and the frames of each traceback', () =>
  withSnapshots((dir, now) => {
    const out = join(dir, 'heap.speedscope.json');
    cli(['report', now, '--speedscope', out]);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(doc.$schema, 'https://www.speedscope.app/file-format-schema.json');
    const [profile] = doc.profiles;
    assert.equal(profile.type, 'sampled');
    assert.equal(profile.unit, 'bytes');
    assert.equal(profile.samples.length, profile.weights.length);
    assert.equal(profile.endValue, 1_000_000);
    const names = profile.samples.map((stack: number[]) => stack.map((i) => doc.shared.frames[i].name).join(' > '));
    const cache = names.indexOf('main > handleRequest > remember');
    assert.ok(cache >= 0, names.join('\n'));
    assert.equal(profile.weights[cache], 600_000);
  }));

test('HTML: a self-contained page whose flame graph zooms on click and shows the frame’s details', () =>
  withSnapshots(async (dir, now, old) => {
    const out = join(dir, 'report.html');
    cli(['report', now, '--compare', old, '--html', out]);
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<(link|img|iframe)\b|src="http|href="http/, 'no external resources');
    const { browser, page, problems } = await openReport(out);
    try {
      assert.equal(await page.count('#flame .frame', 'remember cache.ts:20'), 1);
      await page.click('#flame .frame', 'remember cache.ts:20');
      assert.equal(await page.isVisible('#details'), true);
      assert.equal(await page.textContent('#details [data-field="Function"]'), 'remember');
      assert.equal(await page.textContent('#details [data-field="Location"]'), '/srv/app/cache.ts:20');
      assert.equal(await page.textContent('#details [data-field="live memory"]'), '586 KiB (60.0% of 977 KiB)');
      assert.equal(await page.textContent('#details [data-field="Objects"]'), '3,000');
      // Zoomed: the clicked frame now spans the whole width, its siblings are gone.
      assert.equal(await page.count('#flame .frame', 'renderPage'), 0);
      const { width } = await page.boundingBox('#flame');
      const box = await page.boundingBox('#flame .frame', 'remember cache.ts:20');
      assert.ok(Math.abs(box.width - width) < 2, `zoomed frame is full width: ${box.width} of ${width}`);

      // The table sorts by a clicked column.
      await page.click('[data-tab="table"]');
      const sizes = () => page.allTextContents('#table tbody tr td:nth-child(3)');
      assert.deepEqual(await sizes(), ['586 KiB', '293 KiB', '97.7 KiB']);
      await page.click('#table th[data-key="size"] button');
      assert.deepEqual(await sizes(), ['97.7 KiB', '293 KiB', '586 KiB']);
      assert.equal(await page.getAttribute('#table th[data-key="size"]', 'aria-sort'), 'ascending');

      // The diff view: growth since the older snapshot.
      await page.click('[data-tab="diff"]');
      const firstDiff = await page.allTextContents('#diff-table tbody tr:first-child td');
      assert.deepEqual(firstDiff.slice(0, 4), ['/srv/app/cache.ts:20', 'remember', '+391 KiB', '+2,000']);
      await page.click('#diff-flame .frame', 'remember cache.ts:20');
      assert.equal(await page.textContent('#diff-details [data-field="growth"]'), '391 KiB (80.0% of 488 KiB)');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  }));

test('HTML: <script> in file and function names is shown as text and never runs', () =>
  withSnapshots(async (dir, now) => {
    const out = join(dir, 'report.html');
    cli(['report', now, '--html', out]);
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<script>window\.__pwned|<img src=x/, 'names never appear as markup');
    const { browser, page, problems } = await openReport(out);
    try {
      assert.equal(await page.count('#flame .frame', '<img src=x onerror='), 1);
      await page.click('#flame .frame', '<img src=x onerror=');
      assert.equal(await page.textContent('#details [data-field="Function"]'), '<img src=x onerror="window.__pwned = 2">');
      assert.equal(await page.textContent('#details [data-field="Location"]'), '/srv/<script>window.__pwned = 1</script>.js:40');
      await page.click('[data-tab="table"]');
      assert.ok((await page.textContent('#table')).includes('/srv/<script>window.__pwned = 1</script>.js:40'));
      assert.equal(await page.evaluate('window.__pwned'), undefined);
      assert.equal(await page.count('img'), 0);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  }));

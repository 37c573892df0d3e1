// Heap string contents reach reports only when asked for (--include-strings,
// includeStrings): a snapshot of a process holding a secret, read by the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture, runNode } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SECRET = `hunter2-${process.pid}-s3cr3t-T0KEN`;

test('heap and heap diff never print heap string contents unless --include-strings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracemalloc-strings-'));
  try {
    const a = join(dir, 'a.heapsnapshot');
    const b = join(dir, 'b.heapsnapshot');
    const write = runNode([fixture('heap-secret.js'), SECRET, a, b]);
    assert.equal(write.status, 0, write.stderr);
    const cli = (...args: string[]) => {
      const r = runNode([CLI, ...args], { env: { NO_COLOR: '1' } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };

    for (const out of [cli('heap', b), cli('heap', b, '--json'), cli('heap', 'diff', a, b), cli('heap', 'diff', a, b, '--json')]) {
      assert.ok(!out.includes(SECRET) && !out.includes('s3cr3t'), `the secret leaked:\n${out.slice(0, 4000)}`);
    }
    // The strings are still there, as a length (V8 keeps at most 1024
    // characters of a string: longer ones show as 1024+) and a tag: in
    // previews, retainer paths and the duplicated strings (the three copies,
    // listed once; the three strings sharing a cut prefix, not at all).
    const text = cli('heap', b, '--limit', '50', '--paths', '50');
    const copyLength = `${SECRET}!dup`.length * 26;
    assert.match(text, new RegExp(`Vault \\{token: string \\(${SECRET.length} chars, #[0-9a-f]{8}\\), blob: string \\(1024\\+ chars, #`), 'previews');
    assert.match(text, /\(Vault\) → blob: string \(1024\+ chars, #[0-9a-f]{8}\) @\d+$/m, 'retainer path');
    assert.match(text, new RegExp(`^\\s+3\\s+\\S+ \\S+\\s+string \\(${copyLength} chars, #[0-9a-f]{8}\\)$`, 'm'), 'duplicated strings');
    const json = JSON.parse(cli('heap', b, '--json', '--limit', '1000')) as { duplicatedStrings: { value: string; included: boolean; count: number; length: number }[] };
    assert.ok(json.duplicatedStrings.some((d) => d.count === 3 && !d.included && d.value.startsWith(`string (${copyLength} chars, #`)));
    assert.deepEqual(json.duplicatedStrings.filter((d) => d.length === 1024), [], 'cut names are never duplicates');

    // Asked for: the contents appear in the text (object names, previews,
    // retainer paths, duplicated strings) and in the JSON.
    const shown = cli('heap', b, '--include-strings', '--limit', '50', '--paths', '50');
    assert.ok(shown.includes(`: ${SECRET}|${SECRET}|`), shown.slice(0, 3000));
    assert.ok(shown.includes(`token: ${JSON.stringify(SECRET)}`), 'preview');
    assert.ok(shown.includes(`(Vault) → blob: string "${SECRET}|`), 'retainer path');
    assert.ok(shown.includes(`"${SECRET}!dup`), 'duplicated strings');
    const shownJson = JSON.parse(cli('heap', b, '--json', '--include-strings')) as { duplicatedStrings: { value: string; included: boolean }[] };
    assert.ok(shownJson.duplicatedStrings.some((d) => d.included && d.value.startsWith(`${SECRET}!dup`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

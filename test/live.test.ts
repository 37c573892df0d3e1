// `tracemalloc run --live` under a real terminal: tmux runs it in a
// detached session; the test reads the screen, sends keys, and checks that
// q ends the program with its exit snapshot written and the terminal given
// back. The pure parts (sparkline, rows, screen) are checked in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveRows, renderScreen, sparkline } from '../src/cli/live.js';
import { parseTimeline } from '../src/model/timeline.js';
import { fixture } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((p) => existsSync(p));

function timelineText(ticks: Array<{ t: number; traced: number; born?: number[][]; died?: number[] }>): string {
  const header = { tracemallocTimeline: 1, pid: 7, script: 'app.js', mode: 'sampling', samplingInterval: 65536, start: 0, every: 1000 };
  const sites = [
    { site: 0, frames: [{ file: '/app/cache.js', line: 3, column: 1, function: 'remember' }] },
    { site: 1, frames: [{ file: '/app/work.js', line: 9, column: 1, function: 'work' }] },
  ];
  const lines = [header, ...sites, ...ticks.map((t) => ({ cost: 1, offHeap: 0, rss: 100, heapUsed: 50, arrayBuffers: 0, born: [], died: [], ...t }))];
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

test('live view: sparklines scale to their maximum, rows sort by size or growth, the screen fits the terminal', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([0, 0, 0]), '▁▁▁');
  assert.equal(sparkline(Array.from({ length: 40 }, (_, i) => i), 4), '▇███');
  // remember: 0 → 300 KB (grows); work: 500 KB throughout (does not).
  const timeline = parseTimeline(
    timelineText([
      { t: 0, traced: 500_000, born: [[1, 1, 500_000, 10]] },
      { t: 1000, traced: 600_000, born: [[2, 0, 100_000, 1]] },
      { t: 2000, traced: 800_000, born: [[3, 0, 200_000, 2]] },
    ]),
  );
  const timelines = [{ timeline, label: '7 app.js' }];
  assert.deepEqual(liveRows(timelines, 'size', 10).map((r) => [r.frame.function, r.size, r.growth]), [['work', 500_000, 0], ['remember', 300_000, 300_000]]);
  assert.deepEqual(liveRows(timelines, 'growth', 10).map((r) => r.frame.function), ['remember', 'work']);
  const screen = renderScreen({ pid: 7, seconds: 2, sort: 'growth', log: 'out.log', timelines }, 80, 6);
  assert.equal(screen.length, 6);
  assert.ok(screen.every((line) => line.length <= 80 || line === screen[0] || line === screen[1]), screen.join('\n'));
  assert.match(screen[0], /pid 7 · 2 s · traced 781 KiB \(\+293 KiB since start\)/);
  assert.match(screen[4], /^ +293 KiB +\+293 KiB ▁▃█ +remember +\/app\/cache\.js:3$/);
});

test('run --live in a real terminal (tmux): the leaking site tops the screen within seconds, s sorts by growth, q ends the program with its snapshot', { skip: TMUX ? false : 'tmux is not installed' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'tm-live-'));
  const socket = `tm-live-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync(TMUX!, ['-L', socket, ...args], { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-t', 'live').stdout;
  const waitFor = (what: string, ok: (text: string) => boolean, ms = 20_000): string => {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = screen();
      if (ok(text)) return text;
      if (Date.now() > deadline) assert.fail(`${what}; the screen:\n${text}`);
      spawnSync('sleep', ['0.25']);
    }
  };
  try {
    const command = [process.execPath, CLI, 'run', '--live', '--out', out, '--', fixture('live-leak.js')].map((w) => `'${w}'`).join(' ');
    const started = tmux('new-session', '-d', '-x', '150', '-y', '30', '-s', 'live', `${command}; echo "EXITED $?"; sleep 60`);
    assert.equal(started.status, 0, started.stderr);
    // The first row under the column titles is the leaking function.
    const shown = waitFor('growCache at the top', (text) => /^Size|Growth/m.test(text) && /Function.*\n.*growCache .*live-leak\.ts:\d+/.test(text));
    assert.match(shown, /^tracemalloc live · pid \d+ · \d+ s · traced /m);
    assert.match(shown, /sorted by size/);
    tmux('send-keys', '-t', 'live', 's');
    waitFor('sorted by growth after s', (text) => /sorted by growth/.test(text) && /growCache/.test(text));
    tmux('send-keys', '-t', 'live', 'q');
    const ended = waitFor('the program ended after q', (text) => /EXITED \d+/.test(text));
    // Back on the normal screen: run's own lines, and the program's exit code from SIGINT.
    assert.match(ended, /tracemalloc: wrote .*tracemalloc-\d+-exit\.snap/);
    assert.match(ended, /EXITED 130/);
    assert.doesNotMatch(ended, /tracemalloc live ·/, 'the live screen is gone');
    const files = readdirSync(out);
    assert.ok(files.some((f) => /^tracemalloc-\d+-exit\.snap$/.test(f)), files.join(', '));
    assert.match(readFileSync(join(out, 'tracemalloc-live.log'), 'utf8'), /^started$/m, "the program's output went to the log");
  } finally {
    tmux('kill-server');
    rmSync(out, { recursive: true, force: true });
  }
});

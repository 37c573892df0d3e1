// A Chromium heap snapshot taken over CDP from a page with known attached and
// detached elements: census rows as DevTools shows them, retained sizes as an
// independent reference algorithm (test/dominator-oracle.ts) computes them.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { census, readHeapSnapshot } from '../src/heap/index.js';
import { differencesFromReference } from './dominator-oracle.js';
import { Browser } from './browser.js';
import { tempDir } from './fixtures-heap/children.js';

const ATTACHED = 4500;
const DETACHED = 500;
const ITEMS = 100;

async function pageSnapshot(file: string): Promise<void> {
  const browser = await Browser.launch();
  try {
    const page = await browser.newPage();
    await page.setContent('<html><body><div id="root" class="app"></div></body></html>');
    // A string, run in the page: this project compiles without the DOM types.
    await page.evaluate(`(() => {
      const root = document.getElementById('root');
      for (let i = 0; i < ${ATTACHED}; i++) root.appendChild(document.createElement('div'));
      window.detached = Array.from({ length: ${DETACHED} }, () => document.createElement('div'));
      const ul = document.createElement('ul');
      for (let i = 0; i < ${ITEMS}; i++) ul.appendChild(document.createElement('li'));
      window.detachedList = ul;
    })()`);
    await page.heapSnapshot(file);
  } finally {
    await browser.close();
  }
}

describe('heap: a Chromium page snapshot', async () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'page.heapsnapshot');
  await pageSnapshot(file);
  const snap = await readHeapSnapshot(file);
  const rows = new Map(census(snap).groups.map((g) => [g.name, g]));

  it('groups elements by tag, attributes dropped, and detached ones in Detached rows', () => {
    // The attached divs plus <div id="root" class="app">, in one row.
    assert.equal(rows.get('<div>')?.count, ATTACHED + 1);
    assert.equal(rows.get('Detached <div>')?.count, DETACHED);
    assert.equal(rows.get('Detached <ul>')?.count, 1);
    // V8 marks only the <ul> detached; its children inherit the state.
    assert.equal(rows.get('Detached <li>')?.count, ITEMS);
    assert.equal(rows.get('<li>'), undefined);
    assert.ok(![...rows.keys()].some((name) => name.startsWith('<div ')), 'no per-attribute div rows');
  });

  it('retained sizes and dominators of every object equal the reference, and the document does not retain the page', () => {
    const wrong = differencesFromReference(snap, file);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${snap.nodeCount} nodes differ`);
    const top = [...Array(snap.nodeCount).keys()].sort((a, b) => snap.retainedSize(b) - snap.retainedSize(a)).slice(0, 1000);
    // <html> is also held from the C++ roots through the frame, so the
    // document dominates little: far less than the attached divs weigh.
    const docs = [...Array(snap.nodeCount).keys()].filter((k) => snap.nodeType(k) === 'native' && snap.nodeName(k) === 'HTMLDocument');
    assert.equal(docs.length, 1);
    assert.ok(snap.retainedSize(docs[0]) < rows.get('<div>')!.selfSize / 4, `HTMLDocument retains ${snap.retainedSize(docs[0])}`);
    // The detached divs are retained by the array that holds them.
    const detachedBytes = rows.get('Detached <div>')!.selfSize;
    assert.ok(top.some((k) => snap.className(k) === 'Array' && snap.retainedSize(k) >= detachedBytes), 'an array retains the detached divs');
  });
});

// Just enough of the Chrome DevTools Protocol to drive Debian's headless
// Chromium from the tests, with no package to install. --remote-debugging-pipe
// makes Chromium read commands from its fd 3 and write replies and events to
// its fd 4, each message JSON followed by a NUL byte.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = '/usr/bin/chromium';
// In every profile directory's name, so `pgrep -af tracemalloc-chromium-` finds leftover browsers.
const PROFILE_PREFIX = 'tracemalloc-chromium-';

// CDP replies and event parameters: loosely typed JSON.
type Json = Record<string, any>;
type Listener = (params: Json) => void;

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic', '--disable-sync',
  // No requests of the browser's own that a test could mistake for the page's.
  '--disable-background-networking', '--disable-component-update',
];

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (r: Json) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly stderr: string[] = [];
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcess, private readonly profile: string) {
    // The last lines only, for the message when Chromium dies; in a container
    // it always complains that there is no D-Bus, which says nothing.
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr.push(...text.split('\n').filter((line) => line && !line.includes('dbus')));
      this.stderr.splice(0, this.stderr.length - 3);
    });
    const parts: Buffer[] = [];
    (child.stdio[4] as Readable).on('data', (chunk: Buffer) => {
      let start = 0;
      for (let end = chunk.indexOf(0); end >= 0; end = chunk.indexOf(0, start)) {
        parts.push(chunk.subarray(start, end));
        this.receive(JSON.parse(Buffer.concat(parts).toString('utf8')) as Json);
        parts.length = 0;
        start = end + 1;
      }
      if (start < chunk.length) parts.push(chunk.subarray(start));
    });
    const fail = (reason: string) => {
      this.exited ??= `${reason}${this.stderr.length ? `: ${this.stderr.join(' | ')}` : ''}`;
      for (const p of this.pending.values()) p.reject(new Error(`${p.method}: ${this.exited}`));
      this.pending.clear();
    };
    child.on('exit', (code, signal) => fail(`chromium exited (${signal ?? code})`));
    child.on('error', (err) => fail(`chromium: ${err.message}`));
    // A write to a browser that just died fails with EPIPE; 'exit' reports it.
    for (const fd of [3, 4]) child.stdio[fd]!.on('error', () => {});
  }

  static async launch(): Promise<Browser> {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium), as .ci/run does`);
    const profile = mkdtempSync(join(tmpdir(), PROFILE_PREFIX));
    // detached: its own process group, so close() can kill the renderers too.
    const child = spawn(CHROMIUM, [...ARGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const browser = new Browser(child, profile);
    try {
      await browser.send('Browser.getVersion');
    } catch (err) {
      browser.kill();
      throw err;
    }
    return browser;
  }

  /** One CDP command; a sessionId addresses a page. Rejects naming the method. */
  send(method: string, params: Json = {}, sessionId?: string, timeoutMs = 30_000): Promise<Json> {
    if (this.exited) return Promise.reject(new Error(`${method}: ${this.exited}`));
    const id = this.nextId++;
    (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply from chromium in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (result) => (clearTimeout(timer), resolve(result)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
    });
  }

  /** Events by method, for one session (or the browser's own with no sessionId); returns the unsubscribe. */
  on(method: string, sessionId: string | undefined, listener: Listener): () => void {
    const key = `${sessionId ?? ''}/${method}`;
    if (!this.listeners.has(key)) this.listeners.set(key, new Set());
    this.listeners.get(key)!.add(listener);
    return () => this.listeners.get(key)!.delete(listener);
  }

  private receive(message: Json): void {
    if (message.id === undefined) {
      for (const l of this.listeners.get(`${message.sessionId ?? ''}/${message.method}`) ?? []) l(message.params);
      return;
    }
    const p = this.pending.get(message.id);
    if (!p) return;
    this.pending.delete(message.id);
    if (message.error) p.reject(new Error(`${p.method}: ${message.error.message}${message.error.data ? ` (${message.error.data})` : ''}`));
    else p.resolve(message.result);
  }

  /** A new tab on about:blank, attached with its own session. */
  async newPage(): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    await Promise.all(['Page.enable', 'Runtime.enable', 'Network.enable'].map((m) => page.send(m)));
    return page;
  }

  /** Asks Chromium to quit, then kills whatever of its process group is left. */
  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((resolve) => this.child.once('exit', resolve));
      this.send('Browser.close').catch(() => {});
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
    this.kill();
  }

  private kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

// Run in the page: the elements matching a selector whose textContent contains a text.
const FIND = `(selector, text) => [...document.querySelectorAll(selector)].filter((e) => text === null || e.textContent.includes(text))`;

export class Page {
  constructor(private readonly browser: Browser, readonly sessionId: string) {}

  send(method: string, params: Json = {}, timeoutMs?: number): Promise<Json> {
    return this.browser.send(method, params, this.sessionId, timeoutMs);
  }

  on(method: string, listener: Listener): () => void {
    return this.browser.on(method, this.sessionId, listener);
  }

  /** The value of an expression, awaited; a page exception becomes an Error. The project has no DOM types, so page code is a string. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description?.split('\n')[0] ?? exceptionDetails.text}`);
    return result.value as T;
  }

  /** Polls until an expression is truthy: the page has no event we could wait on instead. */
  async waitFor(expression: string, timeoutMs = 10_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; !(await this.evaluate<boolean>(`!!(${expression})`)); ) {
      if (Date.now() > deadline) throw new Error(`still false after ${timeoutMs} ms: ${expression}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async goto(url: string, readyWhen: string): Promise<void> {
    const { errorText } = await this.send('Page.navigate', { url });
    if (errorText) throw new Error(`navigating to ${url}: ${errorText}`);
    await this.waitFor(readyWhen);
  }

  async setContent(html: string): Promise<void> {
    const { frameTree } = await this.send('Page.getFrameTree');
    await this.send('Page.setDocumentContent', { frameId: frameTree.frame.id, html });
  }

  /** Runs `body` (page code over `el`) on the one element matching; none or several is an error, as a click on an ambiguous target would be. */
  private one<T>(selector: string, text: string | null, body: string): Promise<T> {
    const what = JSON.stringify(`${selector}${text === null ? '' : ` with text ${JSON.stringify(text)}`}`);
    return this.evaluate<T>(`(() => {
      const all = (${FIND})(${JSON.stringify(selector)}, ${JSON.stringify(text)});
      if (all.length !== 1) throw new Error(all.length + ' elements match ' + ${what});
      const el = all[0];
      ${body}
    })()`);
  }

  count(selector: string, text: string | null = null): Promise<number> {
    return this.evaluate(`(${FIND})(${JSON.stringify(selector)}, ${JSON.stringify(text)}).length`);
  }

  textContent(selector: string, text: string | null = null): Promise<string> {
    return this.one(selector, text, 'return el.textContent;');
  }

  allTextContents(selector: string): Promise<string[]> {
    return this.evaluate(`(${FIND})(${JSON.stringify(selector)}, null).map((e) => e.textContent)`);
  }

  getAttribute(selector: string, name: string): Promise<string | null> {
    return this.one(selector, null, `return el.getAttribute(${JSON.stringify(name)});`);
  }

  boundingBox(selector: string, text: string | null = null): Promise<{ x: number; y: number; width: number; height: number }> {
    return this.one(selector, text, 'const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height };');
  }

  /** Rendered with a non-empty box, as a user would see it. */
  isVisible(selector: string): Promise<boolean> {
    return this.one(selector, null, 'const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true });');
  }

  /** A real left click at the element's centre, after checking nothing covers that point. */
  async click(selector: string, text: string | null = null): Promise<void> {
    const { x, y, hit } = await this.one<{ x: number; y: number; hit: string }>(selector, text, `
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const r = el.getBoundingClientRect();
      const x = r.x + r.width / 2, y = r.y + r.height / 2;
      const top = document.elementFromPoint(x, y);
      return { x, y, hit: el.contains(top) ? '' : (top ? top.outerHTML.slice(0, 80) : 'nothing') };`);
    if (hit) throw new Error(`clicking ${selector}: ${hit} is on top of it at (${x}, ${y})`);
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', x, y, button: 'left', clickCount: 1 });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', clickCount: 1 });
  }

  /** A real left-button drag across an element, from one fraction of its width to another, at its vertical middle. */
  async drag(selector: string, fromFraction: number, toFraction: number): Promise<void> {
    const r = await this.one<{ x: number; y: number; width: number; height: number }>(selector, null, `
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };`);
    const y = r.y + r.height / 2;
    const x1 = r.x + r.width * fromFraction;
    const x2 = r.x + r.width * toFraction;
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: x1, y });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: x1, y, button: 'left', buttons: 1, clickCount: 1 });
    for (let step = 1; step <= 5; step++) {
      await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: x1 + ((x2 - x1) * step) / 5, y, button: 'left', buttons: 1 });
    }
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: x2, y, button: 'left', buttons: 0, clickCount: 1 });
  }

  /** Writes the page's V8 heap snapshot after a full GC; its chunks arrive as events before the command's reply. */
  async heapSnapshot(file: string): Promise<void> {
    const fd = openSync(file, 'w');
    const off = this.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => writeSync(fd, chunk as string));
    try {
      await this.send('HeapProfiler.enable');
      await this.send('HeapProfiler.collectGarbage');
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 120_000);
    } finally {
      off();
      closeSync(fd);
    }
  }
}

/**
 * Opens an HTML report (a file) in a new browser and waits for its script
 * to finish; `problems` collects page errors, dialogs and any network
 * request, which a self-contained report must never make.
 */
export async function openReport(file: string) {
  const browser = await Browser.launch();
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('Runtime.exceptionThrown', ({ exceptionDetails: e }) => problems.push(`page error: ${e.exception?.description ?? e.text}`));
    page.on('Page.javascriptDialogOpening', ({ message }) => {
      problems.push(`dialog: ${message}`);
      // An open dialog blocks the page's script: dismiss it.
      page.send('Page.handleJavaScriptDialog', { accept: false }).catch(() => {});
    });
    page.on('Network.requestWillBeSent', ({ request }) => {
      if (!request.url.startsWith('file:')) problems.push(`network request: ${request.url}`);
    });
    await page.goto(pathToFileURL(file).href, `document.querySelector('body[data-ready="true"]')`);
    return { browser, page, problems };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

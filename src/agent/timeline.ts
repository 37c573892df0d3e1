/**
 * `tracemalloc run`'s memory timeline, written by each traced thread:
 * every `every` ms the live samples (no heap snapshot), appended to
 * `tracemalloc-<pid>[-t<id>-<script>].timeline` in the format of
 * `model/timeline.ts`. Sampling mode's read of the samples forces a full
 * GC (V8 drops dead samples in it): about 60 ms on a 50 MB heap. With a
 * budget, a read costing more than that share of the time since the last
 * one spaces the next reads out, so a large heap is read less often rather
 * than slowed down; the ticks between them record Node's memory figures
 * only (light ticks, nearly free), so the curve keeps its resolution.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import type { Traceback } from '../model/index.js';
import { TIMELINE_VERSION } from '../model/timeline.js';
import { framesOf } from '../report/sites.js';
import { onTracingExit, readLiveSamples } from '../tracer/tracer.js';
import { threadTag } from './threads.js';

/** At exit, a read of the samples of its own is skipped when reads take longer than this. */
const FINAL_READ_MAX_MS = 250;
/** At exit, a read by the exit snapshot at most this long ago serves as the last read. */
const FINAL_READ_REUSE_MS = 2000;

/** The timeline file of this thread in `dir`. */
export function timelinePath(dir: string): string {
  return join(dir, `tracemalloc-${process.pid}${threadTag()}.timeline`);
}

/**
 * Start recording into `dir` every `everyMs` milliseconds, from now until
 * tracing stops, less often when reads would take more than `budget` of
 * the time (null: every `everyMs` whatever they cost). Never throws: a
 * write that fails stops the timeline with one line on stderr.
 */
export function startTimeline(dir: string, everyMs: number, budget: number | null, mode: string, samplingInterval: number | undefined): void {
  const path = timelinePath(dir);
  const start = Date.now();
  const t0 = performance.now();
  const script = process.argv[1] ? basename(process.argv[1]) : undefined;
  // JSON text built as strings: no object literal of ours shares a shape with the program's (DEVELOPERS.md).
  const header = JSON.stringify({
    tracemallocTimeline: TIMELINE_VERSION,
    pid: process.pid,
    ...(isMainThread ? { script } : { threadId, threadName: script }),
    mode,
    samplingInterval,
    nodeVersion: process.version,
    start,
    every: everyMs,
  });
  try {
    writeFileSync(path, header + '\n');
  } catch (err) {
    process.stderr.write(`tracemalloc: no timeline: cannot write ${path}: ${(err as Error).message}\n`);
    return;
  }
  const sites = new Map<Traceback, number>();
  let alive = new Set<number>();
  let lastRead = -Infinity;
  let lastCost = 0;
  let nextRead = 0;

  const tick = (final = false, reuseWithinMs = 0): void => {
    const began = performance.now();
    let text = '';
    try {
      if (!final && began < nextRead) {
        // A light tick: Node's figures only, no read of the samples. unref: the timeline must not keep a finished program alive.
        const memory = process.memoryUsage();
        appendFileSync(
          path,
          `{"t":${Math.round(began - t0)},"cost":0,"traced":null,"offHeap":null,"rss":${memory.rss},"heapUsed":${memory.heapUsed},"arrayBuffers":${memory.arrayBuffers}}\n`,
        );
        setTimeout(tick, everyMs).unref();
        return;
      }
      const read = readLiveSamples(reuseWithinMs);
      if (!read) return;
      lastRead = began;
      const memory = process.memoryUsage();
      let born = '';
      let died = '';
      const now = new Set<number>();
      if (read.samples) {
        for (const sample of read.samples) {
          if (!sample.traceback) continue;
          now.add(sample.id);
          if (alive.has(sample.id)) continue;
          let site = sites.get(sample.traceback);
          if (site === undefined) {
            site = sites.size;
            sites.set(sample.traceback, site);
            text += `{"site":${site},"frames":${JSON.stringify(framesOf(sample.traceback))}}\n`;
          }
          born += `${born ? ',' : ''}[${sample.id},${site},${Math.round(sample.size)},${Math.round(sample.count * 1000) / 1000}]`;
        }
        for (const id of alive) if (!now.has(id)) died += `${died ? ',' : ''}${id}`;
        alive = now;
      }
      const cost = performance.now() - began;
      const lists = read.samples ? `,"born":[${born}],"died":[${died}]` : '';
      text +=
        `{"t":${Math.round(began - t0)},"cost":${Math.round(cost * 10) / 10},"traced":${read.current === null ? 'null' : Math.round(read.current)},"offHeap":${Math.round(read.offHeap)},` +
        `"rss":${memory.rss},"heapUsed":${memory.heapUsed},"arrayBuffers":${memory.arrayBuffers}${lists}}\n`;
      appendFileSync(path, text);
      const spent = performance.now() - began;
      lastCost = spent;
      nextRead = budget ? began + spent / budget : 0;
      if (!final) setTimeout(tick, everyMs).unref();
    } catch (err) {
      process.stderr.write(`tracemalloc: the timeline stops: ${(err as Error).message}\n`);
    }
  };
  setTimeout(tick, 0).unref();
  // One last read as the program ends, so the curve reaches its end: the
  // exit snapshot's read when there was one just before (no GC of its own),
  // else a read of its own when reads are quick (the exit has a deadline).
  onTracingExit(() => {
    if (performance.now() - lastRead < 100) return;
    tick(true, FINAL_READ_REUSE_MS);
    if (performance.now() - lastRead >= 100 && lastCost <= FINAL_READ_MAX_MS) tick(true);
  });
}

/**
 * A snapshot from a memory timeline: what was alive at one of its reads.
 * When a program dies without its exit snapshot (SIGKILL, the kernel's
 * OOM killer), its timeline's last read is the last word on its memory.
 */
import { Frame } from './frame.js';
import { Snapshot } from './snapshot.js';
import { Trace } from './trace.js';
import { Traceback } from './traceback.js';
import type { Timeline } from './timeline.js';

/** The last tick that read the samples, or -1. */
export function lastRead(timeline: Timeline): number {
  for (let i = timeline.ticks.length - 1; i >= 0; i--) if (timeline.ticks[i].read) return i;
  return -1;
}

/**
 * The samples alive at tick `at` (default: the last read) as a sampling-mode
 * snapshot, with the same estimates and variances as a snapshot taken then.
 * Null when the timeline never read samples (exact mode).
 */
export function snapshotOfTimeline(timeline: Timeline, at = lastRead(timeline)): Snapshot | null {
  if (!timeline.sampled || at < 0) return null;
  const { samples, header } = timeline;
  const sums = new Map<number, { samples: number; size: number; count: number; sizeVar: number; countVar: number; offHeap: number }>();
  for (let i = 0; i < samples.site.length; i++) {
    if (samples.born[i] > at || (samples.died[i] !== -1 && samples.died[i] <= at)) continue;
    let sum = sums.get(samples.site[i]);
    if (!sum) sums.set(samples.site[i], (sum = { samples: 0, size: 0, count: 0, sizeVar: 0, countVar: 0, offHeap: 0 }));
    const count = samples.count[i];
    const size = samples.size[i];
    // Each sample stands for 1/p objects (its count): variance (1 - p)/p² = count² - count.
    const q = count * count - count;
    sum.samples++;
    sum.size += size;
    sum.count += count;
    sum.countVar += q;
    sum.sizeVar += q * (size / count) ** 2;
    if (samples.offHeap[i]) sum.offHeap += size;
  }
  const traces: Trace[] = [];
  let limit = 1;
  for (const [site, sum] of sums) {
    const frames = timeline.sites[site].map((f) => new Frame(f.file, f.line, f.column, f.function, (f as { atLine?: boolean }).atLine === true));
    if (frames.length === 0) continue;
    limit = Math.max(limit, frames.length);
    const size = Math.round(sum.size);
    traces.push(new Trace(new Traceback(frames), size, Math.round(sum.count), { samples: sum.samples, sizeVariance: sum.sizeVar, countVariance: sum.countVar }, Math.min(size, Math.round(sum.offHeap))));
  }
  return new Snapshot(traces, limit, {
    mode: 'sampling',
    samplingInterval: header.samplingInterval,
    timestamp: header.start + timeline.ticks[at].t,
    pid: header.pid,
    threadId: header.threadId,
    threadName: header.threadName,
    script: header.script,
    nodeVersion: header.nodeVersion,
  });
}

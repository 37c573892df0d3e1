/**
 * A snapshot from a memory timeline: what was alive at one of its reads.
 * When a program dies without its exit snapshot (SIGKILL, the kernel's
 * OOM killer), its timeline's last read is the last word on its memory.
 */
import { Frame, Snapshot, Traceback } from '../model/index.js';
import { lastRead, type Timeline } from '../model/timeline.js';
import { tracesFromLiveSamples } from './from-sampling.js';
import { LiveSample } from './live-samples.js';

/**
 * The samples alive at tick `at` (default: the last read) as a sampling-mode
 * snapshot, summed as a snapshot taken then would sum them (estimates and
 * variances). Null when the timeline never read samples (exact mode).
 */
export function snapshotOfTimeline(timeline: Timeline, at = lastRead(timeline)): Snapshot | null {
  if (!timeline.sampled || at < 0) return null;
  const { samples, header } = timeline;
  const tracebacks = new Map<number, Traceback | null>();
  const alive: LiveSample[] = [];
  let limit = 1;
  for (let i = 0; i < samples.site.length; i++) {
    if (samples.born[i] > at || (samples.died[i] !== -1 && samples.died[i] <= at)) continue;
    const site = samples.site[i];
    let traceback = tracebacks.get(site);
    if (traceback === undefined) {
      const frames = timeline.sites[site].map((f) => new Frame(f.file, f.line, f.column, f.function, f.atLine === true));
      traceback = frames.length > 0 ? new Traceback(frames) : null;
      tracebacks.set(site, traceback);
      limit = Math.max(limit, frames.length);
    }
    if (traceback) alive.push(new LiveSample(i, traceback, samples.size[i], samples.count[i], samples.offHeap[i]));
  }
  return new Snapshot(tracesFromLiveSamples(alive).traces, limit, {
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

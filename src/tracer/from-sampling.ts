import type { Trace, Traceback } from '../model/index.js';
import type { SamplingHeapProfile } from '../capture/sampling.js';
import { EstimateSum } from './estimate-sum.js';
import type { TracebackBuilder } from './frames.js';
import { heapSamples, type LiveSample } from './live-samples.js';

/**
 * Turn V8's live samples into unbiased estimates per call stack.
 *
 * V8 samples an object of `s` bytes with probability p = 1 - exp(-s / interval)
 * (a Poisson process over allocated bytes). Each sample therefore stands for
 * 1/p objects and s/p bytes (Horvitz–Thompson); the estimator's variance is
 * the sum of (1 - p) / p² times 1 or s², which gives the error bounds.
 */
export function tracesFromSamplingProfile(
  profile: SamplingHeapProfile,
  interval: number,
  builder: TracebackBuilder,
): { traces: Trace[]; total: number } {
  return tracesFromLiveSamples(heapSamples(profile, interval, builder));
}

/**
 * Sum live samples per traceback (tracebacks are interned, so stacks that
 * collapse to one after the frame limit share one trace). The total counts
 * every sample, also those whose traceback the frame policy dropped.
 * Off-heap samples' bytes are the trace's off-heap size too.
 */
export function tracesFromLiveSamples(samples: readonly LiveSample[]): { traces: Trace[]; total: number } {
  const merged = new Map<Traceback, EstimateSum>();
  const offHeap = new Map<Traceback, number>();
  let total = 0;
  for (const sample of samples) {
    total += sample.size;
    if (!sample.traceback) continue;
    let acc = merged.get(sample.traceback);
    if (!acc) merged.set(sample.traceback, (acc = new EstimateSum()));
    // With p = 1 / count: (1 - p) / p² = count² - count.
    const q = sample.count * sample.count - sample.count;
    const objectSize = sample.size / sample.count;
    acc.samples += 1;
    acc.size += sample.size;
    acc.count += sample.count;
    acc.countVar += q;
    acc.sizeVar += q * objectSize * objectSize;
    if (sample.offHeap) offHeap.set(sample.traceback, (offHeap.get(sample.traceback) ?? 0) + sample.size);
  }
  const traces: Trace[] = [];
  for (const [traceback, acc] of merged) traces.push(acc.trace(traceback, false, Math.round(offHeap.get(traceback) ?? 0)));
  return { traces, total: Math.round(total) };
}

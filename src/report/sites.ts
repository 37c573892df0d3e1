/**
 * Plain-data views of snapshots and statistics, the common input of every
 * report (text, JSON, HTML, pprof, speedscope), so that renderers never
 * depend on the model's classes.
 */
import { estimateInterval, type Frame, type ProcessMemory, type Snapshot, type Statistic, type StatisticDiff, type Traceback } from '../model/index.js';

/**
 * One stack frame. `line` is where V8 says the function starts (see
 * docs/cli.md), unless `atLine` is set: line mode's allocating or calling line.
 */
export interface SiteFrame {
  file: string;
  line: number;
  column: number;
  function: string;
  atLine?: true;
}

/** 95% bounds of a sampling-mode size estimate (of the size difference, in diffs). */
export interface SiteEstimate {
  sizeLow: number;
  sizeHigh: number;
  samples: number;
}

/** Live memory at one traceback (or one group of tracebacks, for statistics). */
export interface Site {
  /** Frames oldest first; the last one is where the allocation happened. */
  frames: SiteFrame[];
  /** Frames the stack had before the traceback limit cut it. */
  totalFrames: number;
  size: number;
  count: number;
  /** Present in diffs: change since the older snapshot. */
  sizeDiff?: number;
  countDiff?: number;
  /** Present in sampling mode. */
  estimate?: SiteEstimate;
  /** Bytes of `size` outside the V8 heap (ArrayBuffer backing stores); present when not 0. */
  offHeapSize?: number;
  /** Present in diffs with off-heap bytes: change of `offHeapSize`. */
  offHeapSizeDiff?: number;
}

/** What a report says about where a snapshot came from. */
export interface SnapshotInfo {
  mode: string;
  samplingInterval?: number;
  timestamp?: number;
  pid?: number;
  /** A worker thread's id (absent on the main thread and in merged views). */
  threadId?: number;
  /** What that worker runs: its script's basename. */
  threadName?: string;
  nodeVersion?: string;
  tracebackLimit: number;
  /** Where the process's memory was at the snapshot, when it was recorded. */
  processMemory?: ProcessMemory;
}

function frameOf(frame: Frame): SiteFrame {
  const site: SiteFrame = { file: frame.filename, line: frame.lineno, column: frame.column, function: frame.functionName };
  if (frame.atLine) site.atLine = true;
  return site;
}

/** Frames of a traceback, oldest first. */
export function framesOf(traceback: Traceback): SiteFrame[] {
  return [...traceback].map(frameOf);
}

function estimateOf(e: SiteEstimate | undefined): SiteEstimate | undefined {
  return e ? { sizeLow: e.sizeLow, sizeHigh: e.sizeHigh, samples: e.samples } : undefined;
}

/** Every trace of a snapshot as a site. */
export function tracesAsSites(snapshot: Snapshot): Site[] {
  return snapshot.traces.map((trace) => ({
    frames: framesOf(trace.traceback),
    totalFrames: trace.traceback.totalFrames ?? trace.traceback.length,
    size: trace.size,
    count: trace.count,
    estimate: trace.estimate ? estimateOf(estimateInterval(trace.size, trace.count, trace.estimate)) : undefined,
  }));
}

/** A statistic (or statistic diff) as a site. */
export function statisticAsSite(stat: Statistic | StatisticDiff): Site {
  const site: Site = {
    frames: framesOf(stat.traceback),
    totalFrames: stat.traceback.totalFrames ?? stat.traceback.length,
    size: stat.size,
    count: stat.count,
    estimate: estimateOf(stat.estimate),
  };
  if ('sizeDiff' in stat) {
    // Sampling diffs: the bounds that matter are those of the change.
    if (stat.estimate) site.estimate = { sizeLow: stat.estimate.sizeDiffLow, sizeHigh: stat.estimate.sizeDiffHigh, samples: stat.estimate.samples };
    site.sizeDiff = stat.sizeDiff;
    site.countDiff = stat.countDiff;
    if (stat.offHeapSizeDiff !== 0) site.offHeapSizeDiff = stat.offHeapSizeDiff;
  }
  if (stat.offHeapSize > 0) site.offHeapSize = stat.offHeapSize;
  return site;
}

/** The snapshot's provenance for report headers. */
export function snapshotInfo(snapshot: Snapshot): SnapshotInfo {
  const meta = snapshot.meta;
  return {
    mode: meta.mode,
    samplingInterval: meta.samplingInterval,
    timestamp: meta.timestamp,
    pid: meta.pid,
    threadId: meta.threadId,
    threadName: meta.threadName,
    nodeVersion: meta.nodeVersion,
    tracebackLimit: snapshot.tracebackLimit,
    processMemory: meta.processMemory,
  };
}

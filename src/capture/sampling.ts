import { setFlagsFromString } from 'node:v8';
import { InspectorSession } from './session.js';
import { holdNoInlining, userFlag } from './inlining.js';

/** A call frame as V8's sampling heap profiler reports it (0-based, function start). */
export interface SamplingCallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** A node of the sampling profile's call tree. */
export interface SamplingProfileNode {
  callFrame: SamplingCallFrame;
  selfSize: number;
  id: number;
  children: SamplingProfileNode[];
}

/** One raw, unscaled sample: an object of `size` bytes allocated at `nodeId`. */
export interface SamplingSample {
  size: number;
  nodeId: number;
  ordinal: number;
}

/** The `.heapprofile` shape returned by `HeapProfiler.getSamplingProfile`. */
export interface SamplingHeapProfile {
  head: SamplingProfileNode;
  samples: SamplingSample[];
}

const NOT_STARTED = /not started/i;

// TurboFan folds consecutive allocations into one, and the sampler sees one
// object of their summed size: from Node 24 its loop unrolling folds four
// iterations' `{ key: i }` into one 128-byte sample, a quarter of the count.
// Folding is decided when code is optimized (holdNoInlining discards older
// code), so it is off while sampling; a user's own --no-... stays.
const FOLDING_FLAG = 'turbo-allocation-folding';

function setFolding(on: boolean): void {
  if (userFlag(FOLDING_FLAG) !== false) setFlagsFromString(`--${on ? '' : 'no-'}${FOLDING_FLAG}`);
}

/** A profile and when it was read (performance.now()); a class: see DEVELOPERS.md on shapes. */
class ProfileRead {
  constructor(
    readonly profile: SamplingHeapProfile,
    readonly at: number,
  ) {}
}

/**
 * V8's sampling heap profiler. Only samples of objects still alive are kept
 * (objects collected by minor or major GCs are dropped), so a profile is a
 * sample of the live heap allocated since `start`.
 *
 * V8 has one sampling profiler per isolate, shared by every inspector
 * session: another session's `startSampling` while it runs is a silent
 * no-op, and its `stopSampling` (or disconnecting after starting) stops
 * ours. So the constructor refuses a profiler that is already running
 * (its interval and its older samples would corrupt the estimates), and
 * `profile()` says so when another session stopped it.
 */
export class SamplingCapture {
  private readonly session = new InspectorSession();
  private releaseInlining: (() => void) | null = null;
  private halted = false;
  /** The last profile read and when, so that two readers in a row pay one GC. */
  private last: ProfileRead | null = null;

  /** `keepInlining` leaves V8's inlining as it is; `atLaunch`: no program code ran yet (see holdNoInlining). */
  constructor(readonly samplingInterval: number, stackDepth: number, keepInlining = false, atLaunch = false) {
    try {
      this.session.post('HeapProfiler.enable');
      if (running(this.session)) {
        throw new Error(
          "tracemalloc: V8's sampling heap profiler is already running in another inspector session (a debugger or another profiler; " +
            "V8 has one per isolate); stop it first or use mode 'exact'",
        );
      }
      setFolding(false);
      this.session.post('HeapProfiler.startSampling', {
        samplingInterval,
        stackDepth,
        includeObjectsCollectedByMajorGC: false,
        includeObjectsCollectedByMinorGC: false,
      });
      if (!keepInlining) this.releaseInlining = holdNoInlining(atLaunch);
    } catch (err) {
      this.session.disconnect();
      setFolding(true);
      throw err;
    }
  }

  /**
   * The live samples so far. V8 runs a full GC first (it drops dead samples
   * only in one), so a read costs about a full GC of the heap.
   */
  profile(): SamplingHeapProfile {
    try {
      const profile = this.session.post<{ profile: SamplingHeapProfile }>('HeapProfiler.getSamplingProfile').profile;
      this.last = new ProfileRead(profile, performance.now());
      return profile;
    } catch (err) {
      if (!NOT_STARTED.test((err as Error).message)) throw err;
      throw new Error(
        "tracemalloc: V8's sampling heap profiler was stopped by another inspector session (V8 has one per isolate), so the traces are lost; " +
          'call stop() and start() to trace again',
      );
    }
  }

  /** The profile read at most `maxAgeMs` ago, if any: what was alive then, without another GC. */
  recentProfile(maxAgeMs: number): SamplingHeapProfile | null {
    return this.last && performance.now() - this.last.at <= maxAgeMs ? this.last.profile : null;
  }

  /**
   * Stop sampling but keep the session: disconnecting disables its
   * HeapProfiler agent, which would also stop V8's allocation tracker (one
   * per isolate) for the other sessions. Never throws.
   */
  halt(): void {
    this.last = null;
    if (this.halted || !this.session.connected) return;
    this.halted = true;
    this.releaseInlining?.();
    try {
      this.session.post('HeapProfiler.stopSampling');
    } catch {
      // Stopped elsewhere already; there is nothing left to stop.
    } finally {
      setFolding(true);
    }
  }

  /** True until halted or stopped. */
  get active(): boolean {
    return this.session.connected && !this.halted;
  }

  /** Never throws: the profiler may already have been stopped by another session. */
  stop(): void {
    if (!this.session.connected) return;
    this.halt();
    this.session.disconnect();
  }
}

/** True when V8's sampling heap profiler is running (started by any session). */
function running(session: InspectorSession): boolean {
  try {
    session.post('HeapProfiler.getSamplingProfile');
    return true;
  } catch (err) {
    if (NOT_STARTED.test((err as Error).message)) return false;
    throw err;
  }
}

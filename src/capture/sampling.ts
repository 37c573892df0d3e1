import { InspectorSession } from './session.js';

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

/**
 * V8's sampling heap profiler. Only samples of objects still alive are kept
 * (objects collected by minor or major GCs are dropped), so a profile is a
 * sample of the live heap allocated since `start`.
 */
export class SamplingCapture {
  private readonly session = new InspectorSession();

  constructor(readonly samplingInterval: number, stackDepth: number) {
    this.session.post('HeapProfiler.enable');
    this.session.post('HeapProfiler.startSampling', {
      samplingInterval,
      stackDepth,
      includeObjectsCollectedByMajorGC: false,
      includeObjectsCollectedByMinorGC: false,
    });
  }

  /** The live samples so far. Cost grows with the number of live samples, not the heap. */
  profile(): SamplingHeapProfile {
    return this.session.post<{ profile: SamplingHeapProfile }>('HeapProfiler.getSamplingProfile').profile;
  }

  stop(): void {
    if (!this.session.connected) return;
    try {
      this.session.post('HeapProfiler.stopSampling');
    } finally {
      this.session.disconnect();
    }
  }
}

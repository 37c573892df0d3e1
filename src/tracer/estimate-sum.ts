import { Trace, type Traceback } from '../model/index.js';

/**
 * A running Horvitz–Thompson sum: samples, estimated size and count, and
 * their variances. A class, not an object literal: fields holding doubles
 * in a literal's shape would box the same fields of the program's own
 * literals (V8 shares shapes; see test/host-shapes).
 */
export class EstimateSum {
  constructor(
    public samples = 0,
    public size = 0,
    public count = 0,
    public sizeVar = 0,
    public countVar = 0,
  ) {}

  /** Add `from`, its size and count scaled by `scale` (variances by its square). */
  add(from: EstimateSum, scale = 1): void {
    this.samples += from.samples;
    this.size += from.size * scale;
    this.count += from.count * scale;
    this.sizeVar += from.sizeVar * scale * scale;
    this.countVar += from.countVar * scale * scale;
  }

  /** The trace this sum stands for; `exact` leaves out the estimate; `offHeapSize` is the part of its bytes outside the V8 heap. */
  trace(traceback: Traceback, exact = false, offHeapSize = 0): Trace {
    const estimate = exact ? undefined : { samples: this.samples, sizeVariance: this.sizeVar, countVariance: this.countVar };
    return new Trace(traceback, Math.round(this.size), Math.round(this.count), estimate, offHeapSize);
  }
}

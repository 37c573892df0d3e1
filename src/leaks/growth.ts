/**
 * The growth rule: when does a series of live counts (or bytes), one value
 * per snapshot, show a leak rather than noise or a one-off jump?
 */

/** How a series grew over the iterations. */
export interface Growth {
  /** Least-squares slope: growth per iteration. */
  slope: number;
  /** Coefficient of determination of the linear fit, 0..1 (0 for a flat series). */
  r2: number;
  /** Intervals (snapshot to next snapshot) in which the value rose. */
  growingIntervals: number;
  /** Intervals in the series (snapshots - 1). */
  intervals: number;
  /** Last value minus first. */
  total: number;
  /** The largest rise in a single interval. */
  largestStep: number;
  /** True when the series passes every condition of {@link isSteadyGrowth}. */
  steady: boolean;
}

/** Thresholds of the growth rule (see docs/leaks.md). */
export const GROWTH_RULE = Object.freeze({
  /** Least share of intervals that must rise. */
  minGrowingShare: 0.75,
  /** Least R² of the linear fit. */
  minR2: 0.8,
  /** Most of the total growth one interval may contribute (rules out one-off jumps). */
  maxStepShare: 0.5,
});

/**
 * Measures a series and applies the rule: a series grows steadily when
 * (1) its least-squares slope is at least `minSlope` per iteration,
 * (2) the line fits (R² ≥ 0.8), (3) it rises in at least 75% of the
 * intervals, and (4) no single interval holds more than half of the total
 * growth. Needs at least 3 intervals.
 */
export function measureGrowth(series: readonly number[], minSlope: number): Growth {
  const n = series.length;
  if (n < 4) throw new RangeError(`tracemalloc: a growth series needs at least 4 values, got ${n}`);
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    sumX += i;
    sumY += series[i];
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = i - meanX;
    const dy = series[i] - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  let growingIntervals = 0;
  let largestStep = 0;
  for (let i = 1; i < n; i++) {
    const step = series[i] - series[i - 1];
    if (step > 0) growingIntervals++;
    if (step > largestStep) largestStep = step;
  }
  const intervals = n - 1;
  const total = series[n - 1] - series[0];
  const steady =
    slope > 0 &&
    slope >= minSlope &&
    r2 >= GROWTH_RULE.minR2 &&
    growingIntervals >= Math.ceil(GROWTH_RULE.minGrowingShare * intervals) &&
    largestStep <= GROWTH_RULE.maxStepShare * total;
  return { slope, r2, growingIntervals, intervals, total, largestStep, steady };
}

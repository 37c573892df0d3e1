/**
 * Leak finder: the allocation sites that grow with every iteration of a
 * scenario, why their objects stay alive, and test-runner assertions.
 *
 * @module
 */
export { findLeaks, type LeakScenario, type LeakFinding, type LeakReport } from './find.js';
export { type FindLeaksOptions } from './options.js';
export { type Growth, GROWTH_RULE, measureGrowth } from './growth.js';
export { type RetainerCluster, type RetainerStep } from './retainers.js';
export { formatFinding, formatLeakReport } from './format.js';
export { runLeakScenario } from './scenario.js';
export { assertNoLeak, leakMatchers, type LeakAssertionError, type MatcherResult } from './assert.js';
export { limitMemory, parseByteLimit, type LimitMemoryOptions, type MemoryUsage } from './limit.js';

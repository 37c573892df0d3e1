/**
 * speedscope export (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile whose samples are tracebacks and whose weights are
 * live bytes, so speedscope's flame and sandwich views show memory.
 */
import type { Reporter } from './reporter.js';
import type { Site, SnapshotInfo } from './sites.js';

interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}

/** The speedscope reporter: live memory by traceback, one JSON document. */
export const speedscope: Reporter = {
  format: 'speedscope',
  extension: '.speedscope.json',
  description: 'write a speedscope JSON file (weights are bytes)',
  showsDiff: false,
  render: (input) => `${JSON.stringify(toSpeedscope(input.sites, input.info, input.title))}\n`,
};

/** The speedscope JSON document for sites (frames oldest first). */
function toSpeedscope(sites: readonly Site[], info: SnapshotInfo, name: string): object {
  const frames: SpeedscopeFrame[] = [];
  const index = new Map<string, number>();
  const samples: number[][] = [];
  const weights: number[] = [];
  for (const site of sites) {
    if (site.size <= 0) continue;
    samples.push(
      site.frames.map((f) => {
        const key = `${f.function}\0${f.file}\0${f.line}\0${f.column}`;
        let i = index.get(key);
        if (i === undefined) {
          i = frames.length;
          index.set(key, i);
          const frame: SpeedscopeFrame = { name: f.function || '(anonymous)', file: f.file };
          if (f.line > 0) frame.line = f.line;
          if (f.column > 0) frame.col = f.column;
          frames.push(frame);
        }
        return i;
      }),
    );
    weights.push(site.size);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return {
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    shared: { frames },
    profiles: [{ type: 'sampled', name: `${name} (live memory, ${info.mode} mode)`, unit: 'bytes', startValue: 0, endValue: total, samples, weights }],
    activeProfileIndex: 0,
    exporter: 'tracemalloc',
    name,
  };
}

/**
 * pprof export: the gzip'd profile.proto that `go tool pprof`, Pyroscope and
 * Parca read. Sample types are [objects/count, space/bytes], as in Go heap
 * profiles, so `-sample_index=space` (the default here) shows live bytes,
 * then off_heap_space/bytes: the part of space outside the V8 heap
 * (Buffer and ArrayBuffer backing stores).
 */
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { Reporter } from './reporter.js';
import type { Site, SiteFrame, SnapshotInfo } from './sites.js';

/** The pprof reporter: live memory by traceback; diffs are pprof's own (`-diff_base`). */
export const pprof: Reporter = {
  format: 'pprof',
  extension: '.pb.gz',
  description: "write a gzip'd pprof profile (sample types objects/count, space/bytes and off_heap_space/bytes)",
  showsDiff: false,
  render: (input) => toPprof(input.sites, input.info),
};

/**
 * Names of the count and size sample types: `objects`/`space` in files, or
 * Go's live heap names `inuse_objects`/`inuse_space`, which continuous
 * profilers (Pyroscope, Parca) recognise on a scraped `/debug/pprof/heap`.
 */
export type PprofSampleNames = 'plain' | 'inuse';

/** Encode sites (frames oldest first) as a gzip'd pprof profile. */
export function toPprof(sites: readonly Site[], info: SnapshotInfo, names: PprofSampleNames = 'plain'): Buffer {
  const strings = new StringTable();
  const functions = new Map<string, PprofFunction>();
  const locations = new Map<string, Location>();

  const functionId = (frame: SiteFrame): number => {
    const name = frame.function || '(anonymous)';
    const key = `${name}\0${frame.file}\0${frame.line}`;
    let fn = functions.get(key);
    if (!fn) {
      fn = new PprofFunction({
        id: functions.size + 1,
        name: strings.dedup(name),
        systemName: strings.dedup(name),
        filename: strings.dedup(frame.file),
        startLine: frame.line,
      });
      functions.set(key, fn);
    }
    return Number(fn.id);
  };

  const locationId = (frame: SiteFrame): number => {
    const fn = functionId(frame);
    const key = `${fn}\0${frame.line}\0${frame.column}`;
    let location = locations.get(key);
    if (!location) {
      location = new Location({ id: locations.size + 1, line: [new Line({ functionId: fn, line: frame.line, column: frame.column })] });
      locations.set(key, location);
    }
    return Number(location.id);
  };

  const samples = sites
    .filter((site) => site.size > 0 || site.count > 0)
    // pprof lists the leaf (most recent frame) first.
    .map((site) => new Sample({ locationId: [...site.frames].reverse().map(locationId), value: [site.count, site.size, site.offHeapSize ?? 0] }));

  const prefix = names === 'inuse' ? 'inuse_' : '';
  const space = strings.dedup(`${prefix}space`);
  const bytes = strings.dedup('bytes');
  const profile = new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup(`${prefix}objects`), unit: strings.dedup('count') }),
      new ValueType({ type: space, unit: bytes }),
      new ValueType({ type: strings.dedup('off_heap_space'), unit: bytes }),
    ],
    sample: samples,
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    periodType: new ValueType({ type: space, unit: bytes }),
    period: info.samplingInterval ?? 1,
    timeNanos: BigInt(Math.round(info.timestamp ?? Date.now())) * 1_000_000n,
    comment: [strings.dedup(`tracemalloc ${info.mode} mode, live memory by allocation site`)],
    defaultSampleType: space,
  });
  return gzipSync(profile.encode());
}

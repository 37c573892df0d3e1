/**
 * pprof export: the gzip'd profile.proto that `go tool pprof`, Pyroscope and
 * Parca read. Sample types are [objects/count, space/bytes], as in Go heap
 * profiles, so `-sample_index=space` (the default here) shows live bytes.
 */
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { Site, SiteFrame, SnapshotInfo } from './sites.js';

/** Encode sites (frames oldest first) as a gzip'd pprof profile. */
export function toPprof(sites: readonly Site[], info: SnapshotInfo): Buffer {
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
    .map((site) => new Sample({ locationId: [...site.frames].reverse().map(locationId), value: [site.count, site.size] }));

  const space = strings.dedup('space');
  const bytes = strings.dedup('bytes');
  const profile = new Profile({
    sampleType: [new ValueType({ type: strings.dedup('objects'), unit: strings.dedup('count') }), new ValueType({ type: space, unit: bytes })],
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

import { readFileSync, statSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TraceMap, decodedMappings, encodedMappings, originalPositionFor, type SourceMapInput } from '@jridgewell/trace-mapping';

/** A position in original source: 1-based line, 1-based column (0 = unknown). */
export interface OriginalPosition {
  filename: string;
  line: number;
  column: number;
}

// Generated files and maps beyond this are not read: a profiler must not
// stall the program on a giant bundle it happens to trace.
const MAX_BYTES = 64 * 1024 * 1024;
const MAPPING_URL = /\/[/*][#@]\s*sourceMappingURL=([^\s*'"]+)\s*(?:\*\/\s*)?$/;

/**
 * Maps generated positions to original ones (TypeScript through tsc, tsx,
 * ts-node, esbuild and other source-mapped code). Maps come from Node's own
 * cache when the module was loaded with source maps enabled (this covers
 * loaders whose output never touches the disk), or from the
 * `sourceMappingURL` comment of the file on disk. Files without a usable map
 * keep their positions: Node's type stripping keeps lines and columns as
 * they are, so `.ts` files run directly need no map.
 */
export class SourceMapResolver {
  private readonly maps = new Map<string, TraceMap | null>();
  // Maps handed over in memory (line mode's instrumented modules), parsed on first use.
  private readonly given = new Map<string, string>();
  private bytes = 0;

  /**
   * Use `mapJson` for `filename` from now on, instead of looking for a map:
   * the code that runs under that name is not the file on disk.
   */
  register(filename: string, mapJson: string): void {
    this.given.set(filename, mapJson);
    this.maps.delete(filename);
  }

  /**
   * Estimated bytes the cached maps hold (within about a factor of two,
   * calibrated on real maps): their text plus about 120 B per decoded segment.
   */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Forget every cached map (they are read again on demand). */
  clear(): void {
    this.maps.clear();
    this.bytes = 0;
  }

  /** The original position, or null when there is no map or no mapping. */
  map(filename: string, line: number, column: number): OriginalPosition | null {
    if (line <= 0 || !filename.startsWith('/')) return null;
    const traceMap = this.load(filename);
    if (!traceMap) return null;
    let found;
    try {
      found = originalPositionFor(traceMap, { line, column: Math.max(0, column - 1) });
    } catch {
      return null;
    }
    // A map whose segments name missing sources or names gives undefined here.
    if (typeof found.source !== 'string' || typeof found.line !== 'number' || !Number.isFinite(found.line)) return null;
    let source = found.source;
    try {
      if (source.startsWith('file://')) source = fileURLToPath(source);
    } catch {
      // file://host/... names no local file: show the URL as the map gives it.
    }
    return { filename: source, line: found.line, column: (found.column ?? -1) + 1 };
  }

  private load(filename: string): TraceMap | null {
    let traceMap = this.maps.get(filename);
    if (traceMap === undefined) {
      const given = this.given.get(filename);
      traceMap = given !== undefined ? parseMap(given, pathToFileURL(filename).href) : (fromNodeCache(filename) ?? safeFromDisk(filename));
      this.maps.set(filename, traceMap);
      this.bytes += filename.length + 64 + (traceMap ? estimateBytes(traceMap) : 0);
    }
    return traceMap;
  }
}

function estimateBytes(traceMap: TraceMap): number {
  try {
    let text = encodedMappings(traceMap).length;
    for (const content of traceMap.sourcesContent ?? []) text += content?.length ?? 0;
    let segments = 0;
    for (const line of decodedMappings(traceMap)) segments += line.length;
    return 2 * text + 120 * segments;
  } catch {
    return 0;
  }
}

function fromNodeCache(filename: string): TraceMap | null {
  try {
    const found = findSourceMap(filename) ?? findSourceMap(pathToFileURL(filename).href);
    return found ? new TraceMap(found.payload as unknown as SourceMapInput, pathToFileURL(filename).href) : null;
  } catch {
    return null;
  }
}

function readSmall(path: string): string | null {
  try {
    if (statSync(path).size > MAX_BYTES) return null;
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function parseMap(text: string, url: string): TraceMap | null {
  try {
    return new TraceMap(text, url);
  } catch {
    // A corrupt map must not cost the user their profile: keep generated positions.
    return null;
  }
}

/** A hostile `sourceMappingURL` (bad percent escapes, file://host, ...) means no map, never an exception. */
function safeFromDisk(filename: string): TraceMap | null {
  try {
    return fromDisk(filename);
  } catch {
    return null;
  }
}

function fromDisk(filename: string): TraceMap | null {
  const code = readSmall(filename);
  if (code === null) return null;
  const found = sourceMapOf(code, filename);
  return found && parseMap(found.text, pathToFileURL(found.path).href);
}

/**
 * The source map that `code` (the contents of `filename`) points to with a
 * `sourceMappingURL` comment: inline, or a file beside it. Null when there is
 * none or it cannot be read.
 */
export function sourceMapOf(code: string, filename: string): { text: string; path: string } | null {
  // The comment sits on one of the last lines; an inline map can make that line long.
  const at = code.lastIndexOf('sourceMappingURL=');
  if (at === -1) return null;
  const start = code.lastIndexOf('\n', at) + 1;
  const end = code.indexOf('\n', at);
  if (end !== -1 && code.slice(end).split('\n').filter((l) => l.trim() !== '').length > 2) return null;
  const m = MAPPING_URL.exec(code.slice(start, end === -1 ? code.length : end).trim());
  const url = m ? m[1] : null;
  if (!url) return null;
  try {
    return readMapUrl(url, filename);
  } catch {
    return null; // malformed percent-encoding and the like
  }
}

function readMapUrl(url: string, filename: string): { text: string; path: string } | null {
  let text: string | null;
  let mapPath = filename;
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const meta = url.slice(5, comma);
    const body = url.slice(comma + 1);
    text = meta.endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
  } else {
    mapPath = url.startsWith('file://') ? fileURLToPath(url) : resolve(dirname(filename), decodeURIComponent(url));
    text = readSmall(mapPath);
  }
  return text === null ? null : { text, path: mapPath };
}

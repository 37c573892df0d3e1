import { NON_ESSENTIAL, SOURCE_MASK, type RetainerIndex } from '../heap/retainers.js';
import { Trace } from '../model/index.js';
import { filenameOf, isInternalFrame, isLibraryFrame, TracebackBuilder, type RawFrame } from './frames.js';

/** What exact mode needs from a parsed heap snapshot with allocation traces. */
export interface AllocationSource {
  readonly nodeCount: number;
  nodeId(node: number): number;
  nodeTraceNodeId(node: number): number;
  nodeSelfSize(node: number): number;
  nodeTypeName(node: number): string;
  nodeName(node: number): string;
  /** Frames of a trace node, innermost first, 1-based lines (0 = unknown). */
  allocationFrames(traceNodeId: number): ReadonlyArray<{ functionName: string; scriptName: string; line: number; column: number }>;
}

/** The allocation stack of a trace node, as raw frames for {@link TracebackBuilder}. */
export function siteFrames(source: Pick<AllocationSource, 'allocationFrames'>, site: number): RawFrame[] {
  return source.allocationFrames(site).map((f) => ({ functionName: f.functionName, url: f.scriptName, line: f.line, column: f.column }));
}

// V8's own objects that its compilers make: lists of code depending on an object, the record
// of which maps use a prototype (made when optimised code first relies on it), and the
// trusted-space companions of bytecode and optimised code (Node 22+).
const COMPILER_OBJECTS = new Set([
  'system / WeakArrayList',
  'system / PrototypeInfo',
  'system / SharedFunctionInfoWrapper',
  'system / BytecodeWrapper',
  'system / CodeWrapper',
  'system / ProtectedFixedArray',
]);

/**
 * What V8's JIT allocates when it compiles or optimises: code and its
 * metadata (node type `code`) and the objects in {@link COMPILER_OBJECTS}.
 * It lands on whichever function happens to be running when a background
 * compile finishes, so it would add noise that changes from run to run to
 * the program's own sites.
 */
export function isCompilerOutput(source: Pick<AllocationSource, 'nodeTypeName' | 'nodeName'>, node: number): boolean {
  const type = source.nodeTypeName(node);
  return type === 'code' || ((type === 'hidden' || type === 'object shape') && COMPILER_OBJECTS.has(source.nodeName(node)));
}

/**
 * Exact traces: every live object that V8 tagged with an allocation stack,
 * counted per stack. Objects allocated before tracking have no tag and are
 * not traced, like Python's.
 *
 * V8's compiler output is left out (see {@link isCompilerOutput}), and so
 * are objects whose id is at or below `sinceId`: with V8's tracker running
 * from launch, those existed before `start()`.
 */
export function tracesFromHeap(source: AllocationSource, builder: TracebackBuilder, sinceId = 0): { traces: Trace[]; total: number } {
  const perSite = new Map<number, { count: number; size: number }>();
  for (let node = 0; node < source.nodeCount; node++) {
    const site = source.nodeTraceNodeId(node);
    if (site === 0 || isCompilerOutput(source, node) || (sinceId > 0 && source.nodeId(node) <= sinceId)) continue;
    const size = source.nodeSelfSize(node);
    const acc = perSite.get(site);
    if (acc) {
      acc.count++;
      acc.size += size;
    } else perSite.set(site, { count: 1, size });
  }
  return tracesOfSites(source, builder, perSite, false);
}

/**
 * Exact off-heap traces: the backing store of each ArrayBuffer allocated
 * while tracking (`backingStores()` of the same heap: owner node → bytes),
 * counted at the ArrayBuffer's allocation stack as one block of its byte
 * length, all of it off-heap. Buffers at or below `sinceId` predate the
 * session (see {@link tracesFromHeap}).
 *
 * A store made with only Node's code on the stack, or none (a socket's
 * chunks, which Node's C++ allocates as data arrives), is counted where it
 * is held instead: at the site of its nearest holder that the program
 * allocated (see {@link heldAt}), unless `builder` keeps internal frames.
 */
export function tracesFromBackingStores(
  source: Pick<AllocationSource, 'nodeTraceNodeId' | 'allocationFrames' | 'nodeId' | 'nodeTypeName' | 'nodeName'> & { retainerIndex(): RetainerIndex },
  builder: TracebackBuilder,
  backingStores: ReadonlyMap<number, number>,
  sinceId = 0,
): { traces: Trace[]; total: number } {
  const perSite = new Map<number, { count: number; size: number }>();
  const userSite = builder.internalFrames ? null : siteTest(source, (frames) => frames.some((f) => !isInternalFrame(f.scriptName) && !isLibraryFrame(filenameOf(f.scriptName))));
  const onlyNode = siteTest(source, (frames) => frames.every((f) => isInternalFrame(f.scriptName)));
  for (const [owner, bytes] of backingStores) {
    let site = source.nodeTraceNodeId(owner);
    if (site === 0 || (sinceId > 0 && source.nodeId(owner) <= sinceId)) continue;
    if (userSite && onlyNode(site)) site = heldAt(source, owner, userSite) || site;
    const acc = perSite.get(site);
    if (acc) {
      acc.count++;
      acc.size += bytes;
    } else perSite.set(site, { count: 1, size: bytes });
  }
  return tracesOfSites(source, builder, perSite, true);
}

type Frames = ReturnType<AllocationSource['allocationFrames']>;

/**
 * A test of trace nodes' stacks, cached per node. The ones used here: "holds
 * a frame of the program's own code (not Node's, not tracemalloc's)" and
 * "holds no frame but Node's own, or none at all".
 */
function siteTest(source: Pick<AllocationSource, 'allocationFrames'>, test: (frames: Frames) => boolean): (site: number) => boolean {
  const known = new Map<number, boolean>();
  return (site) => {
    if (site === 0) return false;
    let result = known.get(site);
    if (result === undefined) {
      result = test(source.allocationFrames(site));
      known.set(site, result);
    }
    return result;
  };
}

// How far up the holders are searched: a chunk in an array is two steps
// above its ArrayBuffer (the Buffer, the array's element store); the cap keeps a
// store held only by Node's internals from walking the heap.
const HOLDER_SEARCH_NODES = 256;

// Above these, the holders are the type machinery (a function's prototype is
// held by the map of every instance), which leads to unrelated objects.
const NOT_DATA = new Set(['closure', 'code', 'object shape', 'synthetic']);

/** Whether the search goes on above `node`: a data holder, not a function, code, a map or a root. */
function holdsData(source: Pick<AllocationSource, 'nodeTypeName' | 'nodeName'>, node: number): boolean {
  return !NOT_DATA.has(source.nodeTypeName(node)) && source.nodeName(node) !== 'system / Map';
}

/**
 * The allocation site of the nearest node, breadth first over the retaining
 * edges into `node`, whose stack holds the program's own code; 0 when none
 * is within reach. For a request body's chunk pushed onto an array, that is
 * where the array's element store last grew: the handler that kept it. The
 * search does not go above functions, code and maps (see {@link holdsData}).
 */
function heldAt(
  source: Pick<AllocationSource, 'nodeTraceNodeId' | 'nodeTypeName' | 'nodeName'> & { retainerIndex(): RetainerIndex },
  node: number,
  userSite: (site: number) => boolean,
): number {
  const { first, source: from } = source.retainerIndex();
  const seen = new Set<number>([node]);
  const queue = [node];
  for (let head = 0; head < queue.length && seen.size < HOLDER_SEARCH_NODES; head++) {
    const k = queue[head];
    for (let r = first[k]; r < first[k + 1]; r++) {
      if (from[r] & NON_ESSENTIAL) continue;
      const holder = from[r] & SOURCE_MASK;
      if (seen.has(holder)) continue;
      seen.add(holder);
      const site = source.nodeTraceNodeId(holder);
      if (userSite(site)) return site;
      if (holdsData(source, holder)) queue.push(holder);
    }
  }
  return 0;
}

/**
 * Per-site counts as traces: sites whose tracebacks the frame policy makes
 * equal are merged into one trace; `offHeap` marks all of their bytes as
 * outside the V8 heap.
 */
function tracesOfSites(
  source: Pick<AllocationSource, 'allocationFrames'>,
  builder: TracebackBuilder,
  perSite: ReadonlyMap<number, { count: number; size: number }>,
  offHeap: boolean,
): { traces: Trace[]; total: number } {
  const merged = new Map<Trace['traceback'], { count: number; size: number }>();
  let total = 0;
  for (const [site, acc] of perSite) {
    const traceback = builder.build(siteFrames(source, site));
    if (!traceback) continue;
    total += acc.size;
    const into = merged.get(traceback);
    if (into) {
      into.count += acc.count;
      into.size += acc.size;
    } else merged.set(traceback, { ...acc });
  }
  const traces: Trace[] = [];
  for (const [traceback, acc] of merged) traces.push(new Trace(traceback, acc.size, acc.count, undefined, offHeap ? acc.size : 0));
  return { traces, total };
}

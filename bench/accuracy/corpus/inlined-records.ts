/**
 * The case: a small factory that V8 inlines into its caller, which
 * is inlined into the hot loop. A quarter of the records are kept.
 */
interface Rec {
  i: number;
  tag: string;
  list: number[];
}

const keep: Rec[] = [];
/** For bench/accuracy: the objects each site allocated and still keeps, and the containers that grew. */
export const kept = { makeRecord: keep };
export const grown = { keep };

function makeRecord(i: number): Rec {
  return { i, tag: 'r' + i, list: [i, i + 1] }; // @site makeRecord
}

function handle(i: number): number {
  const r = makeRecord(i);
  if (i % 4 === 0) keep.push(r); // @store keep
  return r.i;
}

export function run(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += handle(i);
  return sum;
}

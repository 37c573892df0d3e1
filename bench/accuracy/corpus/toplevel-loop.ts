/**
 * A loop at a module's top level, as in a script: V8 optimizes the module
 * function on stack replacement while the loop runs. The array is exported,
 * so it stays alive.
 */
const n = Number(process.env.ACCURACY_N);

export const points: Array<{ i: number; x: number; y: number }> = [];
for (let i = 0; i < n; i++) {
  points.push({ i, x: i * 0.5, y: i * 0.25 }); // @site point @store points
}

export const kept = { point: points };
export const grown = { points };

/**
 * Python-exact number formatting: `_format_size`, `%.0f`/`%.1f` and `%i`.
 *
 * JavaScript's `toFixed` rounds the exact binary value like C's printf does,
 * except on exact ties, where it rounds away from zero; Python (and printf)
 * round ties to even. Ties are rare but real (2.5, 0.25, 1.75 ...), so they
 * are detected and fixed here.
 *
 * @module
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Sign prefix as `%+f` / `%f` print it: negative zero keeps its minus. */
function signOf(value: number, sign: boolean): string {
  if (value < 0 || Object.is(value, -0)) return '-';
  return sign ? '+' : '';
}

/**
 * Digits of a non-negative finite number with `decimals` (0 or 1) fraction
 * digits, rounding the exact binary value half to even.
 */
function fixedDigits(abs: number, decimals: 0 | 1): string {
  // Every double >= 2^53 is an integer; toFixed would switch to exponent
  // notation above 1e21, BigInt prints all the digits as printf does.
  if (abs >= 2 ** 53) return BigInt(abs).toString() + (decimals ? '.0' : '');
  // A tie is exactly k + 0.5 (decimals 0) or exactly m/4 with m odd
  // (decimals 1: x.x5 is only representable as .25 or .75). Multiplying by a
  // power of two is exact, so these tests are exact.
  const twice = decimals === 0 ? abs * 2 : abs * 4;
  const isTie = Number.isInteger(twice) && twice % 2 === 1;
  if (!isTie) return abs.toFixed(decimals);
  if (decimals === 0) {
    const low = Math.floor(abs);
    return String(low % 2 === 0 ? low : low + 1);
  }
  // abs * 10 is m + 0.5 exactly (abs = odd/4, so abs * 10 = odd * 2.5).
  const tenths = Math.floor(abs * 10);
  const even = tenths % 2 === 0 ? tenths : tenths + 1;
  return `${Math.floor(even / 10)}.${even % 10}`;
}

/**
 * Python's `'%.Nf' % value` (or `'%+.Nf'` when `sign`) for N = 0 or 1:
 * round half to even on the exact binary value, `-0` for negative zero,
 * `inf`/`nan` for non-finite values.
 */
export function formatFixed(value: number, decimals: 0 | 1, sign = false): string {
  if (Number.isNaN(value)) return (sign ? '+' : '') + 'nan';
  const prefix = signOf(value, sign);
  const abs = Math.abs(value);
  if (abs === Infinity) return prefix + 'inf';
  return prefix + fixedDigits(abs, decimals);
}

/**
 * Python's `'%i' % value` (or `'%+i'` when `sign`): truncates toward zero,
 * never prints `-0`.
 */
export function formatInt(value: number, sign = false): string {
  if (!Number.isFinite(value)) return formatFixed(value, 0, sign);
  let n = Math.trunc(value);
  if (Object.is(n, -0)) n = 0;
  const digits = Math.abs(n) >= 2 ** 53 ? BigInt(Math.abs(n)).toString() : String(Math.abs(n));
  return (n < 0 ? '-' : sign ? '+' : '') + digits;
}

/**
 * Format a size in bytes exactly as CPython's `tracemalloc._format_size`:
 * `10239` → `10239 B`, `10240` → `10.0 KiB`, `102400` → `100 KiB`.
 *
 * @param size - bytes (may be fractional, e.g. an average, or negative, e.g. a diff)
 * @param sign - print a `+` for non-negative values, as in a diff's `(+266 KiB)`
 */
export function formatSize(size: number, sign = false): string {
  let value = size;
  for (const unit of UNITS) {
    if (Math.abs(value) < 100 && unit !== 'B') return `${formatFixed(value, 1, sign)} ${unit}`;
    if (Math.abs(value) < 10 * 1024 || unit === 'TiB') return `${formatFixed(value, 0, sign)} ${unit}`;
    value /= 1024;
  }
  /* c8 ignore next */
  throw new Error('unreachable: TiB always returns');
}

/** `n` and a noun, plural unless `n` is 1: "1 site", "3 sites" (English nouns that take an s). */
export function formatCount(n: number, noun: string): string {
  return `${formatInt(n)} ${noun}${n === 1 ? '' : 's'}`;
}

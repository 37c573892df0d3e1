import { createHmac, randomBytes } from 'node:crypto';

// Keyed per process: equal strings get equal tags within one run (duplicates
// stay recognisable), but a tag cannot be looked up or brute-forced offline.
const KEY = randomBytes(16);

/**
 * V8 writes at most this many characters of a string's value into a heap
 * snapshot (its `heap_snapshot_string_limit`): a name this long is a prefix,
 * and two different strings can share it.
 */
export const V8_STRING_NAME_LIMIT = 1024;

/**
 * True when a string node's name of this length may be a prefix of its value:
 * exactly the limit. A longer name (a hand-made file, a raised limit) was not cut.
 */
export function isCutStringName(length: number): boolean {
  return length === V8_STRING_NAME_LIMIT;
}

/**
 * What is shown instead of a heap string's contents: its length and a short
 * tag, e.g. `string (1234 chars, #9f2c41d0)`; `1024+ chars` for a cut name,
 * whose tag is that of the prefix only.
 */
export function hiddenString(text: string, length: number): string {
  const tag = createHmac('sha256', KEY).update(text).digest('hex').slice(0, 8);
  return `string (${isCutStringName(length) ? `${V8_STRING_NAME_LIMIT}+` : length} chars, #${tag})`;
}

import { createHmac, randomBytes } from 'node:crypto';

// Keyed per process: equal strings get equal tags within one run (duplicates
// stay recognisable), but a tag cannot be looked up or brute-forced offline.
const KEY = randomBytes(16);

/**
 * What is shown instead of a heap string's contents: its length and a short
 * tag, e.g. `string (1234 chars, #9f2c41d0)`.
 */
export function hiddenString(text: string, length: number): string {
  const tag = createHmac('sha256', KEY).update(text).digest('hex').slice(0, 8);
  return `string (${length} chars, #${tag})`;
}

/**
 * Errors the command reports as one line on stderr, with the exit code the
 * CLI conventions give them.
 */

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** The command was called correctly but could not do its job (unreadable input, write failure): exit code 1. */
export class CommandError extends Error {
  readonly exitCode = 1;
}

/** The one line printed for an unexpected error: its message, without a stack. */
export function oneLine(message: string): string {
  return message.replace(/^tracemalloc: /, '').replace(/\s*\n\s*/g, ' ').trim();
}

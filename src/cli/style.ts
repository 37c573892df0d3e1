/**
 * Terminal styling: colours only when the stream is a terminal and the user
 * has not set NO_COLOR (https://no-color.org: any non-empty value).
 */

/** Styling functions; each is the identity when colours are off. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
}

function wrap(on: boolean, open: number, close: number): (text: string) => string {
  return on ? (text) => `\x1b[${open}m${text}\x1b[${close}m` : (text) => text;
}

/** Whether colours belong on `stream`. */
export function colorsWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  return stream.isTTY === true;
}

/** A style for `stream`. */
export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  const on = colorsWanted(stream, env);
  return {
    bold: wrap(on, 1, 22),
    dim: wrap(on, 2, 22),
    red: wrap(on, 31, 39),
    green: wrap(on, 32, 39),
    cyan: wrap(on, 36, 39),
  };
}

/**
 * Progress of long parses on a terminal (stderr), redrawn in place; silent
 * when stderr is not a terminal so that logs and pipes stay clean.
 */
import { formatSize } from '../model/index.js';

/** Reports progress of one job; `done()` clears the line. */
export interface Progress {
  bytes(read: number): void;
  stage(text: string): void;
  done(): void;
}

const SILENT: Progress = { bytes() {}, stage() {}, done() {} };

/** A progress line for reading `label` of `total` bytes. */
export function progressFor(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return SILENT;
  let last = 0;
  let shown = false;
  const draw = (text: string) => {
    shown = true;
    const width = Math.max(20, (stream.columns || 80) - 1);
    stream.write(`\r\x1b[K${text.slice(0, width)}`);
  };
  return {
    bytes(read) {
      const now = Date.now();
      // A redraw per chunk would cost more than it shows: ten per second is plenty.
      if (now - last < 100 && read < total) return;
      last = now;
      const pct = total > 0 ? Math.min(100, Math.floor((read / total) * 100)) : 0;
      draw(`reading ${label}: ${pct}% (${formatSize(read)} of ${formatSize(total)})`);
    },
    stage(text) {
      draw(`${label}: ${text}…`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/**
 * Which thread of the process this is, for file names and snapshot
 * metadata: worker threads write their own files next to the main
 * thread's, never over them.
 *
 * @module
 */
import { basename } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';

/** The script a worker thread runs (its basename), '' on the main thread or when unknown. */
export function workerScriptName(): string {
  if (isMainThread) return '';
  // In a worker, argv[1] is the worker's script (Node 20 to 26).
  const script = process.argv[1];
  return script ? basename(script).replace(/[^\w.-]+/g, '_') : '';
}

/** '' on the main thread; `-t<threadId>-<script>` in a worker thread. */
export function threadTag(): string {
  if (isMainThread) return '';
  const name = workerScriptName();
  return `-t${threadId}${name ? `-${name}` : ''}`;
}

/**
 * A dump path template with `%p` expanded: the pid on the main thread,
 * `<pid>-t<threadId>-<script>` in a worker. A worker's path without `%p`
 * gets its tag before the extension, so threads never share a file.
 */
export function expandDumpPath(template: string): string {
  const tag = threadTag();
  if (template.includes('%p')) return template.replaceAll('%p', `${process.pid}${tag}`);
  if (!tag) return template;
  const dot = template.lastIndexOf('.');
  const slash = Math.max(template.lastIndexOf('/'), template.lastIndexOf('\\'));
  return dot > slash + 1 ? `${template.slice(0, dot)}${tag}${template.slice(dot)}` : `${template}${tag}`;
}

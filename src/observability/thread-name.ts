import { writeFileSync } from 'node:fs';

/** Why a thread may not be named: not Linux, or a /proc that refuses the write (a sandbox). */
const CANNOT_NAME = new Set(['ENOENT', 'EACCES', 'EPERM', 'EROFS']);

/**
 * Names the calling thread in the kernel (Linux's `comm`, at most 15 bytes), so that `top -H`,
 * `ps -L` and scripts/loadtest.ts's CPU per thread tell the record writer and the WAL
 * checkpointer apart from V8's and libuv's helper threads, which Node names all `node`
 * (docs/multi-node.md, "Load"). Where the name cannot be set the thread keeps Node's: a name
 * is a diagnostic, never a reason to stop a worker.
 */
export function nameThisThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch (err) {
    if (CANNOT_NAME.has((err as NodeJS.ErrnoException).code ?? '')) return;
    throw err;
  }
}

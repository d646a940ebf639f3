import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';

/**
 * A thread's CPU and scheduling times from Linux's /proc/thread-self/schedstat, read around a
 * piece of work to tell where its wall time went (docs/multi-node.md, "Load"): on a core, waiting
 * on the run queue for one, or neither (blocked: I/O, a lock, a futex). A measuring tool, used
 * only with CHECKIN_STAGES_FILE.
 */
export interface ThreadSchedstat {
  /** Nanoseconds on a core. */
  runNs: number;
  /** Nanoseconds runnable but waiting for a core. */
  waitNs: number;
  /** Times the thread was given a core. */
  slices: number;
}

const FILE = '/proc/thread-self/schedstat';

/**
 * The calling thread's reader: the file is opened once (the descriptor stays bound to this
 * thread) and read again from its start each time, one pread of ~40 bytes (about 3 µs,
 * docs/multi-node.md). Null where the kernel has no such file (not Linux, or a kernel built
 * without scheduler statistics): the stage table then shows the wall time only. Any other
 * failure to open it is thrown.
 */
export function threadSchedstatReader(): { read(): ThreadSchedstat; close(): void } | null {
  let fd: number;
  try {
    fd = openSync(FILE, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const buf = Buffer.alloc(96);
  return {
    read() {
      const n = readSync(fd, buf, 0, buf.length, 0);
      return parseSchedstat(buf.toString('latin1', 0, n));
    },
    close() {
      closeSync(fd);
    },
  };
}

/** `run wait slices` as the kernel writes them (one line, three decimal numbers). */
export function parseSchedstat(text: string): ThreadSchedstat {
  const [run, wait, slices] = text.trim().split(' ').map(Number);
  if (!Number.isFinite(run) || !Number.isFinite(wait) || !Number.isFinite(slices)) {
    throw new Error(`unexpected schedstat line: ${JSON.stringify(text)}`);
  }
  return { runNs: run!, waitNs: wait!, slices: slices! };
}

/** What the thread did between two reads. */
export function schedstatDelta(before: ThreadSchedstat, after: ThreadSchedstat): ThreadSchedstat {
  return { runNs: after.runNs - before.runNs, waitNs: after.waitNs - before.waitNs, slices: after.slices - before.slices };
}

/**
 * The calling thread's id in the kernel (`/proc/thread-self` is `PID/task/TID`), for another
 * thread of the process to read its schedstat with schedstatOfThread; null where there is no
 * such link (not Linux).
 */
export function kernelThreadId(): number | null {
  let link: string;
  try {
    link = readlinkSync('/proc/thread-self');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return Number(link.split('/').pop());
}

/**
 * Another thread's schedstat, read from outside it. Linux adds a running thread's time on a core
 * at its scheduler ticks and switches only, so a thread reading its own figures misses what it ran
 * since the last of them (a transaction of 0.3 ms that is not switched out reads about 0 on a
 * core); read while the thread sleeps, the figures are up to date.
 */
export function schedstatOfThread(tid: number): ThreadSchedstat {
  return parseSchedstat(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1'));
}

import type { Worker } from 'node:worker_threads';

/** How long a store's worker thread gets to close its connection before it is terminated. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * Asks a store worker thread to stop (it closes its own connection) and waits for `exited`;
 * one that does not answer in time is terminated, with a warning naming it, so closing the
 * store never hangs on a stuck thread.
 */
export async function stopStoreWorker(
  worker: Worker,
  stop: object,
  exited: Promise<void>,
  log: { warn(obj: object, msg: string): void },
  name: string,
): Promise<void> {
  worker.postMessage(stop);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
  });
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    log.warn({ timeoutMs: STOP_TIMEOUT_MS }, `the ${name} worker did not stop in time: terminated`);
    await worker.terminate();
  }
}

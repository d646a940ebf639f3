import type { ChildProcess } from 'node:child_process';

/**
 * Resolves when a redis-server started with its stdout piped logs that it accepts connections;
 * rejects with what it logged if it exits first (a taken port reads "Address already in use",
 * which ports.ts's addressInUse recognises). No timer: a start is waited for, not raced against
 * a machine's load; the caller's own bound (mocha's timeout, a person at the terminal) ends a hang.
 */
export function redisReady(proc: ChildProcess): Promise<void> {
  const out = proc.stdout;
  if (!out) return Promise.reject(new Error('redis-server was started without a stdout pipe'));
  return new Promise<void>((resolve, reject) => {
    let seen = '';
    const finish = (err?: Error) => {
      out.off('data', onData);
      proc.off('exit', onExit);
      proc.off('error', onError);
      // Keep reading what it logs later, so a full pipe never blocks the server.
      out.resume();
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('Ready to accept connections')) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`redis-server exited with ${code} before it was ready:\n${seen}`));
    const onError = (err: Error) => finish(new Error(`cannot start redis-server (${err.message})`));
    out.on('data', onData);
    proc.once('exit', onExit);
    proc.once('error', onError);
  });
}

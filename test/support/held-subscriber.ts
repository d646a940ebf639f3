import type { Socket } from 'node:net';
import { startTcpRelay } from './tcp-relay.js';

/**
 * A relay to Redis that can hold what one named connection sends (ioredis names it with CLIENT
 * SETNAME, its first command): a node's subscriber whose SSUBSCRIBE Redis has not taken yet, as a
 * slow network or a busy Redis makes it, while its other connections and everything Redis sends
 * flow on.
 */
export interface HeldSubscriber {
  /** redis://127.0.0.1:PORT, relaying to the target. */
  url: string;
  /** Holds the named connection's bytes from now, or from its first chunk matching `from`. */
  hold(from?: RegExp): void;
  /** Resolves once the bytes held so far match `pattern` (e.g. a command sent after the subscription). */
  holding(pattern: RegExp): Promise<void>;
  /** Sends what was held, in order, and stops holding. */
  release(): void;
  close(): Promise<void>;
}

export async function startHeldSubscriber(targetUrl: string, connectionName: string): Promise<HeldSubscriber> {
  let armed = false;
  let from: RegExp | null = null;
  let held: { upstream: Socket; chunk: Buffer }[] = [];
  let heldText = '';
  const waits: { pattern: RegExp; resolve: () => void }[] = [];
  const settleWaits = () => {
    for (const w of [...waits]) {
      if (!w.pattern.test(heldText)) continue;
      waits.splice(waits.indexOf(w), 1);
      w.resolve();
    }
  };
  const uplink = (client: Socket, upstream: Socket) => {
    let named: boolean | null = null;
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      named ??= text.includes(connectionName);
      if (named && armed && from?.test(text)) from = null;
      if (!named || !armed || from) return void upstream.write(chunk);
      held.push({ upstream, chunk });
      heldText += text;
      settleWaits();
    });
  };
  const relay = await startTcpRelay(new URL(targetUrl), { uplink });
  const release = () => {
    armed = false;
    for (const { upstream, chunk } of held) upstream.write(chunk);
    held = [];
    heldText = '';
  };
  return {
    url: `redis://127.0.0.1:${relay.port}`,
    hold(start) {
      armed = true;
      from = start ?? null;
    },
    holding(pattern) {
      return new Promise((resolve) => {
        waits.push({ pattern, resolve });
        settleWaits();
      });
    },
    release,
    async close() {
      release();
      await relay.close();
    },
  };
}

import { startTcpRelay } from './tcp-relay.js';

/**
 * A loopback TCP relay one node's Redis connections go through, so that the test can take that
 * node alone off Redis for as long as it needs (a network cut: its peers keep publishing), where
 * a CLIENT KILL is followed by a reconnection within 100 ms, racing whatever the test does next.
 */
export interface CuttableRelay {
  /** The target URL with this relay's address in place of the target's. */
  url: string;
  /** Ends every relayed connection and refuses new ones (accepted, then closed) until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableRelay(targetUrl: string): Promise<CuttableRelay> {
  let open = true;
  const relay = await startTcpRelay(new URL(targetUrl), { accepts: () => open });
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  return {
    url: url.toString(),
    cut() {
      open = false;
      relay.destroyAll();
    },
    restore() {
      open = true;
    },
    close: () => relay.close(),
  };
}

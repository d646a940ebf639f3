import type { Socket } from 'node:net';
import { startTcpRelay } from './tcp-relay.js';

/**
 * A loopback TCP relay whose uplink (browser to server) carries at most `bytesPerS`, as a phone's
 * weak upload does. Chromium's network emulation paces HTTP but not websocket frames, so a
 * selfie sent over the socket needs this to take as long as it would on the phone.
 */
export interface SlowUplink {
  /** http://127.0.0.1:PORT, relaying to the target. */
  url: string;
  /** Changes the pace of every connection from now on; 0 lifts it. */
  setRate(bytesPerS: number): void;
  close(): Promise<void>;
}

export async function startSlowUplink(targetUrl: string, bytesPerS = 0): Promise<SlowUplink> {
  let rate = bytesPerS;
  // Each chunk is held for as long as the uplink takes to carry it, the client paused meanwhile.
  const uplink = (client: Socket, upstream: Socket) =>
    client.on('data', (chunk: Buffer) => {
      if (rate <= 0) return void upstream.write(chunk);
      client.pause();
      setTimeout(
        () => {
          upstream.write(chunk);
          client.resume();
        },
        (chunk.length / rate) * 1_000,
      );
    });
  const relay = await startTcpRelay(new URL(targetUrl), { uplink });
  return {
    url: `http://127.0.0.1:${relay.port}`,
    setRate: (bytes) => (rate = bytes),
    close: () => relay.close(),
  };
}

import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

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
  const target = new URL(targetUrl);
  let rate = bytesPerS;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A reset of one side ends the other; nothing to report in a relay.
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    // Each chunk is held for as long as the uplink takes to carry it, the client paused meanwhile.
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
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setRate: (bytes) => (rate = bytes),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { waitFor } from './sockets.js';

/**
 * A Socket.IO client over a hand-written WebSocket, which does only what the test tells it:
 * it connects with a token, then never writes again. So it never answers the server's close
 * frame and never closes its side, as python-socketio's websocket-client did
 * (scripts/docs-client-python), or as a phone that left the network does. `received` is what
 * the server sent, as text.
 */
export interface RawSocketIoClient {
  socket: Socket;
  received(): string;
}

/** Without `token`, the connection stays at engine.io's open: it never asks for a Socket.IO one. */
export async function connectRawSocketIo(baseUrl: string, token?: string): Promise<RawSocketIoClient> {
  const url = new URL(baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  // The server cutting the connection is what the tests look at, not an error of theirs.
  socket.on('error', () => undefined);
  socket.write(
    [
      'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1',
      `Host: ${url.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  await waitFor(() => text.includes('0{"sid"'), 5_000);
  if (token === undefined) return { socket, received: () => text };
  socket.write(maskedTextFrame(`40${JSON.stringify({ token })}`));
  await waitFor(() => text.includes('40{"sid"'), 5_000);
  return { socket, received: () => text };
}

/** A client's text frame (RFC 6455 §5.2: a client masks what it sends), shorter than 64 KiB. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const length =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const mask = randomBytes(4);
  return Buffer.concat([length, mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
}

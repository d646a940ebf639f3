import type { AppServer } from './types.js';

type Encoder = AppServer['encoder'];
type Packet = Parameters<Encoder['encode']>[0];

// socket.io-parser's packet types (protocol 5), as its encoder tests them.
const EVENT = 2;
const ACK = 3;

/**
 * Payloads sent in more than one packet, JSON-encoded once. A check-in's view leaves twice: in
 * its `checkin:decision` push and in the student's acknowledgement (`{ ok: true, data: view }`).
 * socket.io's encoder made each packet's text on its own: the view's `JSON.stringify` twice, and
 * twice its walk looking for binary data (`hasBinary`), which a view never holds. A payload
 * shared here has its text made once, and a packet that carries it as an event's one argument or
 * as a command's success answer is written around that text: the same characters the encoder
 * makes, the walk skipped. Any other packet is socket.io's encoder's as before.
 *
 * Only what holds no binary data (Buffer, ArrayBuffer) may be shared, and it must not change once
 * shared. One per server, wrapping the server's one encoder, which
 * the adapter's broadcasts use too. A payload's text goes once its answer has used it, or with
 * the payload (a WeakMap).
 */
export class SharedPayloads {
  private readonly text = new WeakMap<object, string>();

  constructor(encoder: Encoder) {
    const encode = encoder.encode.bind(encoder);
    encoder.encode = (packet: Packet) => {
      const spliced = packet.type === EVENT || packet.type === ACK ? this.spliced(packet) : null;
      return spliced === null ? encode(packet) : [spliced];
    };
  }

  /** Encodes `payload` now, for the packets that carry it next. */
  share(payload: object): void {
    this.text.set(payload, JSON.stringify(payload));
  }

  /** The packet's text around a shared payload's, as socket.io-parser's encodeAsString writes it; null when it carries none. */
  private spliced(packet: Packet): string | null {
    const data: unknown = packet.data;
    if (!Array.isArray(data)) return null;
    let body: string;
    if (packet.type === EVENT) {
      const [event, payload] = data as unknown[];
      if (data.length !== 2 || typeof event !== 'string' || typeof payload !== 'object' || payload === null) return null;
      const json = this.text.get(payload);
      if (json === undefined) return null;
      body = `[${JSON.stringify(event)},${json}]`;
    } else {
      const answer = (data.length === 1 ? data[0] : null) as { ok?: unknown; data?: unknown } | null;
      if (typeof answer !== 'object' || answer === null || answer.ok !== true) return null;
      const payload = answer.data;
      if (typeof payload !== 'object' || payload === null) return null;
      const json = this.text.get(payload);
      if (json === undefined || !okThenData(answer)) return null;
      // The answer is the payload's last packet (its push went before it).
      this.text.delete(payload);
      body = `[{"ok":true,"data":${json}}]`;
    }
    let head = String(packet.type);
    if (packet.nsp && packet.nsp !== '/') head += `${packet.nsp},`;
    if (packet.id !== undefined && packet.id !== null) head += packet.id;
    return head + body;
  }
}

/** Only `ok` and `data`, in that order (as the dispatcher builds a success): what the text above assumes. */
function okThenData(answer: object): boolean {
  const keys = Object.keys(answer);
  return keys.length === 2 && keys[0] === 'ok' && keys[1] === 'data';
}

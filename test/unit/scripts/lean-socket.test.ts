import { expect } from 'chai';
import { Encoder, PacketType } from 'socket.io-parser';
import { CheckinFrames } from '../../../scripts/lib/lean-socket.js';

/** The engine.io message prefix: the lean client writes whole engine.io packets. */
const ENGINE_MESSAGE = '4';

describe('loadtest lean client: check-in frames', () => {
  const location = { lat: 52.2297, lon: 21.0122, accuracy: 15 };

  it("is socket.io-client's own EVENT packet with its ack id, byte for byte", () => {
    const frames = new CheckinFrames(location);
    for (const [id, sessionId, timestamp] of [
      [0, 'a1b2c3', 1_765_000_000_000],
      [123_456, 'f47ac10b-58cc-4372-a567-0e02b2c3d479', 1_765_000_000_123],
      // A second frame of a session reuses its cached middle: still exact.
      [123_457, 'f47ac10b-58cc-4372-a567-0e02b2c3d479', 1_765_000_000_999],
      // Characters JSON escapes stay escaped.
      [9, 'odd "id" \\ here', 5],
    ] as const) {
      const [encoded] = new Encoder().encode({
        type: PacketType.EVENT,
        nsp: '/',
        id,
        data: ['checkin:submit', { sessionId, location: { ...location, timestamp } }],
      });
      expect(frames.frame(id, sessionId, timestamp)).to.equal(`${ENGINE_MESSAGE}${encoded as string}`);
    }
  });
});

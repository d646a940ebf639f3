import { expect } from 'chai';
import { createLogger } from '../../../src/logger.js';
import { QueuedBound, type QueuedConnection } from '../../../src/realtime/queued-bound.js';

/** A connection as engine.io keeps it: a queue it replaces when sent, a close, a ws to terminate. */
function connection(): QueuedConnection & { writeBuffer: { data?: unknown }[]; closed: boolean[]; terminated: number } {
  const conn = {
    id: 'c1',
    writeBuffer: [] as { data?: unknown }[],
    closed: [] as boolean[],
    terminated: 0,
    transport: { socket: { terminate: () => (conn.terminated += 1) } },
    close: (discard: boolean) => conn.closed.push(discard),
  };
  return conn;
}

describe('QueuedBound', () => {
  const logger = createLogger('silent');

  it('closes, discarding the queue, and terminates the WebSocket once strings and binaries queued pass the bound', () => {
    const bound = new QueuedBound(100, logger);
    const conn = connection();
    conn.writeBuffer.push({ data: 'x'.repeat(60) });
    expect(bound.check(conn)).to.equal(false);
    conn.writeBuffer.push({ data: new Uint8Array(40) });
    expect(bound.check(conn), 'exactly at the bound').to.equal(false);
    conn.writeBuffer.push({ data: new ArrayBuffer(1) });
    expect(bound.check(conn)).to.equal(true);
    expect(conn.closed).to.deep.equal([true]);
    expect(conn.terminated).to.equal(1);
  });

  it('counts each packet of a queue once, and a new queue (the old one sent) from zero', () => {
    const bound = new QueuedBound(100, logger);
    const conn = connection();
    for (let i = 0; i < 10; i++) {
      conn.writeBuffer.push({ data: 'x'.repeat(10) });
      // Checked after each packet, as after each flush: 10 x 10 = 100 in all, never more.
      expect(bound.check(conn)).to.equal(false);
    }
    conn.writeBuffer = [{ data: 'x'.repeat(90) }];
    expect(bound.check(conn), 'the sent queue is not counted again').to.equal(false);
    expect(conn.closed).to.deep.equal([]);
  });

  it('does nothing with an empty queue or a bound of 0', () => {
    const conn = connection();
    conn.writeBuffer.push({ data: 'x'.repeat(1_000) });
    expect(new QueuedBound(0, logger).check(conn)).to.equal(false);
    expect(new QueuedBound(10, logger).check(connection())).to.equal(false);
    expect(conn.closed).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { mongoUnavailableKind } from '../../src/store/mongo/mongo-store.js';

// The MongoDB driver's connection, driven over a loopback socket of our own: a command whose
// socket closes before the write drains must fail with a network error (that the store answers
// as UNAVAILABLE), never wait forever. The driver as published (7.8) hangs in the first case and
// rejects with a bare socket error in the second; scripts/patches/mongodb+*.patch fixes both.

const require = createRequire(import.meta.url);

interface DriverConnection {
  command(ns: { db: string }, cmd: Record<string, unknown>, options: Record<string, unknown>): Promise<unknown>;
}
const { Connection } = require('mongodb/lib/cmap/connection.js') as {
  Connection: new (socket: net.Socket, options: { id: number; generation: number }) => DriverConnection;
};

/** The command's error, or 'never settled' when it neither resolves nor rejects within `ms`. */
async function outcome(command: Promise<unknown>, ms = 2_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const never = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('never settled'), ms);
  });
  try {
    return await Promise.race([
      command.then(
        () => 'resolved',
        (err: unknown) => err,
      ),
      never,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('MongoDB driver: a connection whose socket closes during a write', () => {
  let server: net.Server;
  const accepted: net.Socket[] = [];

  before(async () => {
    // A server that accepts and never reads, so that a large write stays buffered on our side.
    server = net.createServer((socket) => {
      socket.pause();
      accepted.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function connect(id: number): Promise<{ socket: net.Socket; connection: DriverConnection }> {
    const { port } = server.address() as net.AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return { socket, connection: new Connection(socket, { id, generation: 0 }) };
  }

  it('is the driver mongoose loads', () => {
    const fromMongoose = createRequire(require.resolve('mongoose')).resolve('mongodb');
    expect(path.dirname(fromMongoose)).to.equal(path.dirname(require.resolve('mongodb')));
  });

  it('fails a command written to a socket already destroyed, before its close event, with a network error', async () => {
    const { socket, connection } = await connect(1);
    // The server killed: the socket is gone but the driver has not yet seen 'close'.
    socket.destroy();
    const err = await outcome(connection.command({ db: 'attendance' }, { ping: 1 }, {}));
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).name).to.equal('MongoNetworkError');
    expect(mongoUnavailableKind(err)).to.equal('unreachable');
  });

  it('fails a command still being written when the server resets the connection, with a network error', async () => {
    const { connection } = await connect(2);
    const big = 'x'.repeat(4 * 1024 * 1024);
    const command = connection.command({ db: 'attendance' }, { insert: 'records', documents: [{ big }] }, {});
    // Let the write fill the socket buffers, then the server goes away.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(accepted).to.have.length.at.least(2);
    accepted.at(-1)!.resetAndDestroy();
    const err = await outcome(command);
    expect((err as Error).name).to.equal('MongoNetworkError');
    expect(mongoUnavailableKind(err)).to.equal('unreachable');
  });
});

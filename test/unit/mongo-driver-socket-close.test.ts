import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { mongoUnavailableKind } from '../../src/store/mongo/mongo-store.js';
import { waitFor } from '../support/sockets.js';

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

/**
 * The command's error, or 'resolved'. A command that never settles (the driver's hang) fails the
 * test by its timeout: any shorter bound of ours could also fail a slow answer on a loaded machine.
 */
async function outcome(command: Promise<unknown>): Promise<unknown> {
  return command.then(
    () => 'resolved',
    (err: unknown) => err,
  );
}

/**
 * More bytes than a loopback connection's kernel buffers take (the largest send buffer of one end
 * and receive buffer of the other, Linux's maxima), so part of a write that long waits on our
 * side for a server that never reads: 4 MB was sometimes taken whole, and the reset then came
 * after the write instead of during it.
 */
function pastKernelBuffers(): number {
  const max = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
  return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem') + 4 * 1024 * 1024;
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
    const { socket, connection } = await connect(2);
    const big = 'x'.repeat(pastKernelBuffers());
    const command = connection.command({ db: 'attendance' }, { insert: 'records', documents: [{ big }] }, {});
    // Once the server has the connection and the write fills the socket buffers (what the server,
    // never reading, leaves of it waits on our side), the server goes away.
    await waitFor(() => accepted.length >= 2 && socket.writableLength > 0);
    accepted.at(-1)!.resetAndDestroy();
    const err = await outcome(command);
    expect((err as Error).name).to.equal('MongoNetworkError');
    expect(mongoUnavailableKind(err)).to.equal('unreachable');
  });
});

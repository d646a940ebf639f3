import type { User } from '../../src/domain/ports/users.js';
import { heldWrites } from './held-writes.js';
import { startTestServer, type TestServer } from './http.js';
import { userClient, type ClientSocket } from './sockets.js';

export interface HeldWritesServer {
  /** The suite's server; valid inside tests and hooks registered after useHeldWritesServer. */
  readonly srv: TestServer;
  /** Holds the server's close writes until `release()` (test/support/held-writes.ts). */
  readonly held: ReturnType<typeof heldWrites>;
  /** The suite's sockets, disconnected after it. */
  readonly sockets: ClientSocket[];
  /** A socket of `user` on the server, kept in `sockets`. */
  client(user: User): Promise<ClientSocket>;
}

/**
 * Mocha hooks of a suite whose close writes are held back: a test server with `env` over a store
 * whose writes wait for the test, started before the suite; after it the writes are let through,
 * the sockets disconnected and the server closed.
 */
export function useHeldWritesServer(env: Record<string, string>): HeldWritesServer {
  let srv: TestServer | null = null;
  const held = heldWrites();
  const sockets: ClientSocket[] = [];
  const server = () => {
    if (!srv) throw new Error('useHeldWritesServer: the server is not started yet (read it inside a hook or test)');
    return srv;
  };
  before(async () => {
    srv = await startTestServer(env, { wrapStore: held.wrap });
  });
  after(async () => {
    held.release();
    for (const s of sockets) s.disconnect();
    await srv?.cleanup();
  });
  return {
    get srv() {
      return server();
    },
    held,
    sockets,
    client: userClient(server, sockets),
  };
}

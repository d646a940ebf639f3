import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createClass, createUser } from './fixtures.js';
import { startTestServer, type TestServer } from './http.js';
import { userClient, type ClientSocket } from './sockets.js';

/** A class of one student on a test server, an outsider beside it, and the suite's socket clients. */
export interface SocketClass {
  srv: TestServer;
  org: Organisation;
  teacher: User;
  /** Enrolled in the subject. */
  student: User;
  /** A student of the same organisation enrolled in nothing. */
  outsider: User;
  subject: Subject;
}

/**
 * Mocha hooks: before the suite, a test server (`env`) holding a class of one student
 * (createClass, its subject `code` and `name` held at `location`) and an outsider; after it,
 * every socket `client(user)` opened disconnected and the server stopped. `current()` answers
 * the class once the hook has run.
 */
export function useSocketClass(opts: { env?: Record<string, string>; code: string; name: string; location: Subject['location'] }): {
  current: () => SocketClass;
  client: (user: User) => Promise<ClientSocket>;
} {
  let made: SocketClass | null = null;
  const current = () => {
    if (!made) throw new Error('the socket class is made in a before hook');
    return made;
  };
  const sockets: ClientSocket[] = [];
  let srv: TestServer | null = null;
  before(async () => {
    srv = await startTestServer(opts.env);
    const { org, teacher, students, subject } = await createClass(srv.store, 1, opts);
    made = { srv, org, teacher, student: students[0]!, outsider: await createUser(srv.store, org.id, 'student'), subject };
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv?.cleanup();
  });
  return { current, client: userClient(() => current().srv, sockets) };
}

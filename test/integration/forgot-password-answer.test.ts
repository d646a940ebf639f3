import { expect } from 'chai';
import type { Store } from '../../src/domain/ports/store.js';
import { PASSWORD, createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { waitFor } from '../support/sockets.js';

/**
 * Forgot-password must not tell, by when it answers, whether an account has the email: only a
 * known email's request queues a reset email (an outbox write, the slowest step), so an answer
 * that waited for it came measurably later (median 3.2 ms against 2.0 ms on a file store). Here
 * the outbox write is held until the test lets it through: the answer must come meanwhile.
 */
describe('forgot-password answers before the account is looked up', () => {
  let srv: TestServer;
  let open!: () => void;
  let held = 0;

  before(async () => {
    const gate = new Promise<void>((resolve) => (open = resolve));
    const holdEnqueue = (store: Store): Store => {
      const enqueue = store.outbox.enqueue.bind(store.outbox);
      store.outbox.enqueue = async (...args) => {
        held += 1;
        await gate;
        return enqueue(...args);
      };
      return store;
    };
    srv = await startTestServer({}, { wrapStore: holdEnqueue });
  });
  // Released failed or not, so the server can close.
  after(async () => {
    open();
    await srv.cleanup();
  });

  it('answers a known email while its reset email is still being queued, as an unknown one, and queues it afterwards', async () => {
    const org = await createOrg(srv.store);
    const student = await createUser(srv.store, org.id, 'student');
    const admin = await createUser(srv.store, org.id, 'admin');

    const known = await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: student.email } });
    const unknown = await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: 'nobody-here@example.test' } });
    expect([known.status, known.body]).to.deep.equal([unknown.status, unknown.body]);
    expect(known.status).to.equal(202);

    // The email was still on its way when the answers came; once let through, it is queued.
    await waitFor(() => held === 1, 5_000);
    open();
    const token = (await srv.login(admin.email, PASSWORD)).accessToken;
    await waitFor(async () => {
      const rows = (await srv.request('GET', '/api/v1/outbox?limit=10', { token })).body.items as { category: string; to: string }[];
      return rows.some((r) => r.category === 'reset' && r.to === student.email);
    }, 5_000);
    expect(held).to.equal(1);
  });
});

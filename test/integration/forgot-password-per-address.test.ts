import { expect } from 'chai';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { EVENT_WAIT_MS } from '../support/sockets.js';

const PER_ADDRESS = 5;

/**
 * Each email address gets at most RESET_EMAILS_PER_HOUR reset emails, but one client naming a
 * different address each time was only held by the public request budget (1 200 a minute): a
 * pupil could have the service mail every teacher of the school, over and over, through the
 * school's relay. The client's address has its own budget of requests, whatever their emails.
 */
describe('forgot-password requests are counted per client address, whatever their emails', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startTestServer({ RESET_REQUESTS_PER_ADDRESS_PER_HOUR: String(PER_ADDRESS) });
  });
  after(async () => srv.cleanup());

  it('past the budget one address gets 429 for known and unknown emails alike, and no more emails are queued', async () => {
    const org = await createOrg(srv.store);
    const teachers = await Promise.all(Array.from({ length: PER_ADDRESS + 2 }, () => createUser(srv.store, org.id, 'teacher')));
    const ask = (email: string) => srv.request('POST', '/api/v1/auth/forgot-password', { body: { email } });

    const statuses: number[] = [];
    for (const t of teachers) statuses.push((await ask(t.email)).status);
    expect(statuses).to.deep.equal([...Array<number>(PER_ADDRESS).fill(202), 429, 429]);

    const known = await ask(teachers[0]!.email);
    const unknown = await ask('nobody-here@example.test');
    // The same but for the time left, which runs on between the two.
    const told = (r: typeof known) => [r.status, r.body.error.code, r.body.error.message];
    expect(told(known)).to.deep.equal(told(unknown));
    expect(told(known).slice(0, 2)).to.deep.equal([429, 'RATE_LIMITED']);
    expect(Number(known.headers.get('retry-after'))).to.be.greaterThan(0);

    // Every request's lookup and email run as a background job once answered: wait for all of
    // them, the refused ones' included, rather than for time to pass (5 s and then 200 ms were
    // a guess a loaded machine could outrun, failing the five or hiding a sixth).
    expect(await srv.app.jobs.drain(EVENT_WAIT_MS), 'background jobs settled').to.equal(true);
    const queued = await srv.store.outbox.list(org.id, { limit: 50, offset: 0 });
    expect(queued.items.map((m) => m.to).sort()).to.deep.equal(
      teachers
        .slice(0, PER_ADDRESS)
        .map((t) => t.email)
        .sort(),
    );
  });
});

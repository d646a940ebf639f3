import { expect } from 'chai';
import { BcryptWorkerHasher } from '../../src/adapters/bcrypt-worker-hasher.js';
import { createApplication, type Application } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import type { User } from '../../src/domain/ports/users.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { testConfig } from '../support/http.js';
import { atCost } from '../support/passwords.js';

/**
 * A node whose bcrypt threads are all busy (a class logging in at once) answers a further login
 * BUSY at once, with Retry-After, and its close() ends the threads (no test process left hanging).
 */
describe('logins beyond the bcrypt queue (BCRYPT_MAX_QUEUE)', () => {
  let app: Application;
  let hasher: BcryptWorkerHasher;
  let url: string;
  let user: User;
  /** A compare running for hours on the only thread: what a long queue of logins looks like to the next one. */
  let held: Promise<unknown>;

  beforeEach(async () => {
    const store = await createSqliteStore({ path: ':memory:' });
    const org = await createOrg(store, 'busy');
    user = await createUser(store, org.id, 'student', { email: 'student@busy.test' });
    hasher = new BcryptWorkerHasher({ cost: 4, threads: 1, maxQueue: 0 });
    // One free failure: a refusal counted as one would put the account in back-off by the second.
    const config = testConfig({ LOGIN_ACCOUNT_FREE_FAILURES: '1', LOGIN_ADDRESS_ACCOUNT_FREE_FAILURES: '1' });
    app = createApplication({ config, store, logger: createLogger('silent'), passwords: hasher });
    url = `http://127.0.0.1:${(await app.listen()).port}`;
    held = hasher.verify('anything', atCost(user.passwordHash!, 31)).then(
      () => 'answered',
      (err: unknown) => err,
    );
  });

  afterEach(async () => {
    await app.close();
  });

  const login = () =>
    fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: PASSWORD, organisation: 'busy' }),
    });

  it('answers 503 BUSY with Retry-After and details.retryAfterMs at once', async () => {
    const res = await login();
    expect(res.status).to.equal(503);
    const { error: body } = (await res.json()) as { error: { code: string; details?: { retryAfterMs?: number } } };
    expect(body.code).to.equal('BUSY');
    expect(body.details?.retryAfterMs).to.be.a('number').and.at.least(1_000);
    expect(Number(res.headers.get('retry-after'))).to.equal(Math.ceil(body.details!.retryAfterMs! / 1000));
  });

  it("shows the login storm to the operator: BUSY checks counted, the pool's threads and queue in /metrics and /readyz", async () => {
    expect((await login()).status).to.equal(503);
    expect((await login()).status).to.equal(503);
    const metrics = await app.metrics.registry.getMetricsAsJSON();
    const values = (name: string) => metrics.find((m) => m.name === name)?.values ?? [];
    expect(values('attendance_password_checks_total').find((v) => v.labels['outcome'] === 'BUSY')?.value).to.equal(2);
    expect(values('attendance_password_threads')[0]?.value).to.equal(1);
    expect(values('attendance_password_running')[0]?.value).to.equal(1);
    expect(values('attendance_password_queue_depth')[0]?.value).to.equal(0);
    expect(values('attendance_password_queue_max')[0]?.value).to.equal(0);
    const ready = (await (await fetch(`${url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready['passwords']).to.deep.equal({ threads: 1, running: 1, waiting: 0, maxQueue: 0, ok: true });
  });

  it('counts no BUSY refusal against the login limits: retrying it never backs the account off', async () => {
    for (let i = 0; i < 5; i += 1) {
      const res = await login();
      expect(res.status, `attempt ${i + 1}`).to.equal(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('BUSY');
    }
  });

  it('ends the bcrypt threads on close, a running compare included', async () => {
    await app.close();
    const err = (await held) as { code?: string };
    expect(err.code).to.equal('UNAVAILABLE');
  });
});

import { expect } from 'chai';
import { AccountService, RESETS_IN_FLIGHT_MAX, type AccountServiceDeps } from '../../../src/domain/accounts/account-service.js';
import { JobRunner } from '../../../src/domain/jobs/job-runner.js';
import { AccountLinkMail } from '../../../src/domain/accounts/account-link-mail.js';
import { OutboxDispatcher, RESET_SHARE } from '../../../src/domain/notifications/outbox-dispatcher.js';
import { createLogger } from '../../../src/logger.js';
import { AppError } from '../../../src/shared/app-error.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import { MemoryRateLimiter } from '../../../src/adapters/memory-rate-limiter.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { NO_ORGANISATION_SETTINGS } from '../../../src/domain/ports/organisations.js';
import { createOrg, createUser, unique } from '../../support/fixtures.js';
import { recordingQueue, tokenFromMail, type RecordingMailer } from '../../support/mail.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

describe('AccountService (over the SQLite store)', () => {
  let store: Store;
  let mailer: RecordingMailer;
  let service: AccountService;
  let deps: AccountServiceDeps;
  let published: DomainEvent[];
  let now: number;
  let outbox: OutboxDispatcher;

  beforeEach(async () => {
    now = Date.UTC(2026, 0, 5, 9);
    const clock = () => new Date(now);
    store = await createSqliteStore({ path: ':memory:', now: clock });
    const mail = recordingQueue();
    mailer = mail.mailer;
    published = [];
    const links = new AccountLinkMail({
      store,
      publicUrl: () => 'https://school.example',
      inviteTtlMs: 7 * 86_400_000,
      resetTtlMs: 3_600_000,
    });
    const settings = { pollMs: 60_000, retryBaseMs: 60_000, maxAttempts: 3, maxWaiting: 100 };
    outbox = new OutboxDispatcher(store, mail.queue, createLogger('silent'), clock, 'node-a', settings, (m, at) => links.render(m, at));
    outbox.start();
    deps = {
      store,
      passwords: cheapPasswordHasher(),
      outbox,
      links,
      clock,
      events: { publish: (e) => published.push(e) },
      resetLimiter: new MemoryRateLimiter({ points: 3, windowS: 3_600, keyPrefix: 'reset-test' }),
      resetRequestLimiter: new MemoryRateLimiter({ points: 10_000, windowS: 3_600, keyPrefix: 'reset-ask-test' }),
      jobs: new JobRunner(createLogger('silent')),
    };
    service = new AccountService(deps);
  });
  afterEach(async () => {
    await outbox.stop();
    await store.close();
  });

  /**
   * The account link sender over a store whose every read of the organisation (the sender's step
   * between reading the user and making the link) first runs `meanwhile`, as another request would.
   */
  const linksWhileSending = (meanwhile: () => Promise<void>) =>
    new AccountLinkMail({
      store: {
        ...store,
        organisations: {
          ...store.organisations,
          get: async (id: string) => {
            await meanwhile();
            return store.organisations.get(id);
          },
        },
      },
      publicUrl: () => 'https://school.example',
      inviteTtlMs: 86_400_000,
      resetTtlMs: 3_600_000,
    });

  /** A French-speaking organisation with its admin and two students without a password: one follows the organisation's language, one chose English. */
  const frenchSchool = async () => {
    const org = await store.organisations.create({
      name: 'Lycée Test',
      slug: 'lycee',
      timezone: 'Europe/Paris',
      settings: { ...NO_ORGANISATION_SETTINGS, language: 'fr' },
    });
    const admin = await createUser(store, org.id, 'admin');
    const actor = { id: admin.id, orgId: org.id, role: 'admin' as const };
    const follows = await createUser(store, org.id, 'student', { password: null });
    const ownEnglish = await createUser(store, org.id, 'student', { password: null });
    await store.notificationPreferences.put(org.id, ownEnglish.id, { language: 'en', unsubscribed: [] });
    return { org, admin, actor, follows, ownEnglish };
  };
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err instanceof AppError ? err.code : String(err);
    }
    return null;
  };

  it('of two concurrent uses of one link exactly one sets the password', async () => {
    const org = await createOrg(store);
    const student = await createUser(store, org.id, 'student', { password: null });
    await service.requestReset({ email: student.email });
    await mailer.waitFor(1);
    const token = tokenFromMail(mailer.sent[0]!.text);
    const codes = await Promise.all([
      codeOf(service.setPasswordWithToken(token, 'first-password')),
      codeOf(service.setPasswordWithToken(token, 'second-password')),
    ]);
    expect(codes.sort()).to.deep.equal(['LINK_INVALID', null].sort());
  });

  it("states when a link expires on the organisation's clock, naming the zone", async () => {
    const org = await store.organisations.create({ name: 'Lycée Test', slug: 'lycee', timezone: 'Europe/Paris' });
    const admin = await createUser(store, org.id, 'admin');
    const student = await createUser(store, org.id, 'student', { password: null });
    // 5 January 2026 09:00 UTC: the invitation ends 12 January 10:00 in Paris, the reset 10:00 today.
    await service.invite({ id: admin.id, orgId: org.id, role: 'admin' }, student.id);
    await service.requestReset({ email: student.email });
    await mailer.waitFor(2);
    const invitation = mailer.sent.find((m) => m.subject.startsWith('Your attendance account'))!;
    const reset = mailer.sent.find((m) => m.subject.startsWith('Reset your'))!;
    expect(invitation.text).to.contain('until Monday, 12 January 2026 at 10:00 CET.');
    expect(reset.text).to.contain('until Monday, 5 January 2026 at 11:00 CET.');
    expect(invitation.html).to.contain('until Monday, 12 January 2026 at 10:00 CET.');
  });

  it("writes an invitation in the organisation's language, a user's own language winning, English for a language no catalog serves", async () => {
    const { actor, follows, ownEnglish } = await frenchSchool();
    await service.invite(actor, follows.id);
    await service.invite(actor, ownEnglish.id);
    await mailer.waitFor(2);
    const to = (u: { email: string }) => mailer.sent.find((m) => m.to === u.email)!;
    expect(to(follows).subject).to.equal('Lycée Test\u00a0: votre compte de suivi des présences');
    expect(to(follows).text).to.contain('Bonjour ').and.contain('jusqu’au lundi 12 janvier 2026 à 10:00 UTC+1.');
    expect(to(follows).text).to.match(/&lang=fr&email=\S+$/m);
    expect(to(ownEnglish).subject).to.equal('Your attendance account at Lycée Test');
    expect(to(ownEnglish).text)
      .to.contain('until Monday, 12 January 2026 at 10:00 CET.')
      .and.match(/&lang=en&email=\S+$/m);

    // A stored language no catalog serves (an older row, a catalog withdrawn) reads as unset: English.
    const other = await store.organisations.create({
      name: 'Schule',
      slug: 'schule',
      timezone: 'Europe/Berlin',
      settings: { ...NO_ORGANISATION_SETTINGS, language: 'de' as 'fr' },
    });
    expect((await store.organisations.get(other.id))!.settings).not.to.have.property('language');
    const pupil = await createUser(store, other.id, 'student', { password: null });
    await service.invite({ id: (await createUser(store, other.id, 'admin')).id, orgId: other.id, role: 'admin' }, pupil.id);
    await mailer.waitFor(3);
    expect(to(pupil).subject).to.equal('Your attendance account at Schule');
  });

  it("queues each invitation and reset with the subject its recipient gets, in the recipient's language (the admin's outbox shows it)", async () => {
    const { org, admin, actor, follows, ownEnglish } = await frenchSchool();
    await service.inviteMany(actor, [follows.id, ownEnglish.id]);
    await service.requestReset({ email: admin.email });
    await mailer.waitFor(3);
    const rows = (await store.outbox.list(org.id, { limit: 10, offset: 0 })).items;
    const row = (u: { email: string }, category: string) => rows.find((r) => r.to === u.email && r.category === category)!;
    expect(row(follows, 'invitation').subject).to.equal('Lycée Test\u00a0: votre compte de suivi des présences');
    expect(row(ownEnglish, 'invitation').subject).to.equal('Your attendance account at Lycée Test');
    // Each row says what was sent: the same subject as the email itself.
    for (const [user, category] of [
      [follows, 'invitation'],
      [ownEnglish, 'invitation'],
      [admin, 'reset'],
    ] as const) {
      expect(row(user, category).subject, `${user.email} ${category}`).to.equal(mailer.sent.find((m) => m.to === user.email)!.subject);
    }
    expect(row(admin, 'reset').subject).to.match(/: réinitialisation de votre mot de passe$/);
  });

  it("names in each link the login page of the user's role, since the student page refuses staff", async () => {
    const org = await createOrg(store);
    const admin = await createUser(store, org.id, 'admin');
    const actor = { id: admin.id, orgId: org.id, role: 'admin' as const };
    const order: string[] = [];
    for (const role of ['student', 'teacher', 'admin'] as const) {
      const user = await createUser(store, org.id, role, { password: null });
      order.push(user.email);
      await service.invite(actor, user.id);
    }
    await mailer.waitFor(3);
    await service.requestReset({ email: admin.email });
    await mailer.waitFor(4);
    // The outbox sends in its own order: read each invitation by its recipient.
    const sent = [...order.map((to) => mailer.sent.find((m) => m.to === to)!), mailer.sent[3]!];
    const links = sent.map((m) => /https:\/\/\S+/.exec(m.text)?.[0]);
    // `email` last, percent-encoded: the login page after the password is set comes filled with it.
    const email = (to: string) => `&email=${encodeURIComponent(to).replace(/\./g, '\\.')}$`;
    expect(links[0]).to.match(
      new RegExp(`^https://school\\.example/reset\\.html#token=[\\w-]{43}&invite=1&back=student\\.html&lang=en${email(order[0]!)}`),
    );
    expect(links[1]).to.match(new RegExp(`&invite=1&back=teacher\\.html&lang=en${email(order[1]!)}`));
    expect(links[2]).to.match(new RegExp(`&invite=1&back=admin\\.html&lang=en${email(order[2]!)}`));
    expect(links[3]).to.match(new RegExp(`#token=[\\w-]{43}&back=admin\\.html&lang=en${email(admin.email)}`));
    expect(decodeURIComponent(/&email=([^&]+)$/.exec(links[0]!)![1]!)).to.equal(order[0]);
  });

  it("sends nothing for a deactivated account, and only the named organisation's with a slug", async () => {
    const a = await createOrg(store);
    const b = await createOrg(store);
    await createUser(store, a.id, 'student', { email: 'twin@example.test' });
    await createUser(store, b.id, 'student', { email: 'twin@example.test' });
    await createUser(store, a.id, 'student', { email: 'gone@example.test', active: false });
    await service.requestReset({ email: 'gone@example.test' });
    await service.requestReset({ email: 'Twin@Example.test', organisation: b.slug });
    await mailer.waitFor(1);
    expect(mailer.sent).to.have.length(1);
    expect(mailer.sent[0]!.subject).to.include(b.name);
  });

  it('mails each organisation of an address its own reset, each naming the others, and a link sets only its own account', async () => {
    const home = await store.organisations.create({ name: 'Home School', slug: unique('home'), timezone: 'UTC' });
    const copier = await store.organisations.create({ name: 'Copy Academy', slug: unique('copy'), timezone: 'UTC' });
    const owner = await createUser(store, home.id, 'student', { email: 'owner@example.test' });
    const copy = await createUser(store, copier.id, 'admin', { email: 'owner@example.test', password: 'copy-password' });
    await service.requestReset({ email: 'owner@example.test' });
    await mailer.waitFor(2);
    const homeMail = mailer.sent.find((m) => m.subject.includes('Home School'))!;
    const copyMail = mailer.sent.find((m) => m.subject.includes('Copy Academy'))!;
    expect(homeMail.text).to.contain(
      'This address also has an account at Copy Academy: each account gets its own email, and this link sets the password of your account at Home School only.',
    );
    expect(copyMail.text).to.contain('also has an account at Home School');
    await service.setPasswordWithToken(tokenFromMail(homeMail.text), 'owner-new-password');
    const [ownerAfter, copyAfter] = [await store.users.get(home.id, owner.id), await store.users.get(copier.id, copy.id)];
    expect(await deps.passwords.verify('owner-new-password', ownerAfter!.passwordHash)).to.equal(true);
    expect(copyAfter!.passwordHash, "the other organisation's account is untouched").to.equal(copy.passwordHash);
    // Audited on the account whose link was used, in its own organisation only.
    const actions = async (orgId: string, userId: string) => (await store.audit.listForEntity(orgId, 'user', userId)).map((e) => e.action);
    expect(await actions(home.id, owner.id)).to.include('user.password-reset');
    expect(await actions(copier.id, copy.id)).to.not.include('user.password-reset');
    // One organisation's reset says nothing of others when the address has no other account.
    const single = await createUser(store, home.id, 'student');
    await service.requestReset({ email: single.email });
    await mailer.waitFor(3);
    expect(mailer.sent.find((m) => m.to === single.email)!.text).to.not.contain('also has an account');
  });

  it('askReset answers before any lookup, and past RESETS_IN_FLIGHT_MAX refuses BUSY whatever the email until work ends', async () => {
    const org = await createOrg(store);
    const student = await createUser(store, org.id, 'student');
    // A node whose background work has not started yet: what askReset left to it, held.
    const held: Array<() => Promise<void>> = [];
    const holding = new AccountService({ ...deps, jobs: { run: (_name, job) => void held.push(job) } });
    for (let i = 0; i < RESETS_IN_FLIGHT_MAX; i++) await holding.askReset({ email: `nobody-${i}@example.test` }, `198.51.100.${i % 200}`);
    expect(held).to.have.length(RESETS_IN_FLIGHT_MAX);
    expect(await store.outbox.list(org.id, { limit: 10, offset: 0 })).to.have.property('total', 0);
    for (const email of [student.email, 'nobody-else@example.test']) {
      expect(await codeOf(holding.askReset({ email }, '203.0.113.1'))).to.equal('BUSY');
    }
    await held.shift()!();
    await holding.askReset({ email: student.email }, '203.0.113.1');
    await held.at(-1)!();
    await mailer.waitFor(1);
    expect(mailer.sent[0]!.to).to.equal(student.email);
  });

  it('a deactivated user cannot use a link sent before', async () => {
    const org = await createOrg(store);
    const student = await createUser(store, org.id, 'student');
    await service.requestReset({ email: student.email });
    await mailer.waitFor(1);
    await store.users.update(org.id, student.id, { active: false });
    expect(await codeOf(service.setPasswordWithToken(tokenFromMail(mailer.sent[0]!.text), 'new-password'))).to.equal('LINK_INVALID');
  });

  it('ending logins on a new password announces each one, so their sockets are cut', async () => {
    const org = await createOrg(store);
    const student = await createUser(store, org.id, 'student');
    const expiresAt = new Date(now + 86_400_000);
    for (const familyId of ['f1', 'f2']) {
      await store.refreshTokens.create({ orgId: org.id, userId: student.id, familyId, tokenHash: `h-${familyId}`, expiresAt });
    }
    await service.requestReset({ email: student.email });
    await mailer.waitFor(1);
    await service.setPasswordWithToken(tokenFromMail(mailer.sent[0]!.text), 'new-password');
    expect(published.map((e) => (e.type === 'login.revoked' ? e.sid : null)).sort()).to.deep.equal(['f1', 'f2']);
    expect(await store.refreshTokens.listActiveLogins(org.id, student.id, new Date(now))).to.deep.equal([]);
    expect((await store.users.get(org.id, student.id))!.mustChangePassword).to.equal(false);
  });

  it('while nothing is sent, a user has one reset waiting, and resets fill at most RESET_SHARE of the outbox, leaving room for invitations', async () => {
    // An SMTP outage: this node's outbox is not sending, every request stays queued.
    await outbox.stop();
    const org = await createOrg(store);
    const admin = await createUser(store, org.id, 'admin');
    const users = await Promise.all(Array.from({ length: 40 }, () => createUser(store, org.id, 'student', { password: null })));
    await service.requestReset({ email: users[0]!.email });
    await service.requestReset({ email: users[0]!.email });
    expect((await store.outbox.list(org.id, { limit: 100, offset: 0 })).total).to.equal(1);
    for (const user of users) await service.requestReset({ email: user.email });
    const waiting = await store.outbox.list(org.id, { limit: 100, offset: 0 });
    expect(waiting.items.every((m) => m.category === 'reset')).to.equal(true);
    expect(waiting.total).to.equal(100 * RESET_SHARE);
    expect(new Set(waiting.items.map((m) => m.userId)).size).to.equal(waiting.total);
    await service.invite({ id: admin.id, orgId: org.id, role: 'admin' }, users[39]!.id);
    expect((await store.outbox.list(org.id, { limit: 100, offset: 0 })).items[0]).to.deep.include({
      category: 'invitation',
      userId: users[39]!.id,
    });
  });

  it("sends no working link to an address changed while the link was being made: the user's current one gets it", async () => {
    await outbox.stop(); // this test renders the email itself
    const org = await createOrg(store);
    const student = await createUser(store, org.id, 'student', { password: null, email: 'typo@example.test' });
    // The admin corrects the address (PATCH /users/{id}: the email, then the user's links voided)
    // after the sender read the user and before it stored the new link.
    let corrected = false;
    const links = linksWhileSending(async () => {
      if (corrected) return;
      corrected = true;
      await store.users.update(org.id, student.id, { email: 'right@example.test' });
      await store.accountTokens.voidForUser(org.id, student.id, new Date(now));
    });
    const mail = (await store.outbox.enqueue(links.row(student, 'invitation', org.name), 100))!;
    const rendered = await links.render(mail, new Date(now));
    expect(corrected).to.equal(true);
    expect(rendered!.message.to).to.equal('right@example.test');
    expect(await codeOf(service.setPasswordWithToken(tokenFromMail(rendered!.message.text), 'new-password'))).to.equal(null);
  });

  it('makes no working link for an address that keeps changing while it is made; the attempt fails and is retried', async () => {
    await outbox.stop(); // this test renders the email itself
    const org = await createOrg(store);
    const student = await createUser(store, org.id, 'student', { password: null });
    let n = 0;
    const links = linksWhileSending(async () => {
      n += 1;
      await store.users.update(org.id, student.id, { email: `moving${n}@example.test` });
      await store.accountTokens.voidForUser(org.id, student.id, new Date(now));
    });
    const mail = (await store.outbox.enqueue(links.row(student, 'reset', org.name), 100))!;
    expect(await codeOf(links.render(mail, new Date(now)))).to.match(/address changed/);
    // No unused link of the user is left to void: the ones made went to nobody and were voided.
    expect(await store.accountTokens.voidForUser(org.id, student.id, new Date(now))).to.equal(0);
  });

  it('two nodes sending one outbox send each invitation once, each with its own working link', async () => {
    const org = await createOrg(store);
    const admin = await createUser(store, org.id, 'admin');
    const students = [];
    for (let i = 0; i < 20; i++) students.push(await createUser(store, org.id, 'student', { password: null }));
    // A second node over the same store, with its own mail queue; both are kicked by every pass.
    const other = recordingQueue();
    const links = new AccountLinkMail({ store, publicUrl: () => 'https://school.example', inviteTtlMs: 86_400_000, resetTtlMs: 3_600_000 });
    const settings = { pollMs: 60_000, retryBaseMs: 60_000, maxAttempts: 3, maxWaiting: 100 };
    const clock = () => new Date(now);
    const second = new OutboxDispatcher(store, other.queue, createLogger('silent'), clock, 'node-b', settings, (m, at) =>
      links.render(m, at),
    );
    second.start();
    try {
      const report = await service.inviteMany(
        { id: admin.id, orgId: org.id, role: 'admin' },
        students.map((s) => s.id),
      );
      expect(report.queued).to.equal(20);
      await Promise.all([outbox.pass(), second.pass(), outbox.pass(), second.pass()]);
      await outbox.stop();
      await second.stop();
      const sent = [...mailer.sent, ...other.mailer.sent];
      expect(sent.map((m) => m.to).sort()).to.deep.equal(students.map((s) => s.email).sort());
      for (const m of sent) expect(await codeOf(service.setPasswordWithToken(tokenFromMail(m.text), 'new-password'))).to.equal(null);
    } finally {
      await second.stop();
    }
  });
});

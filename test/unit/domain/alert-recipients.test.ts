import { expect } from 'chai';
import { AlertService, alertAudience } from '../../../src/domain/alerts/alert-service.js';
import { guardianEmailKey } from '../../../src/domain/guardians/guardian-unsubscribes.js';
import { EmailNotifications } from '../../../src/domain/notifications/email-notifications.js';
import { guardianAlertEmail } from '../../../src/domain/notifications/email-templates.js';
import { languageOf as emailLanguageOf } from '../../../src/shared/i18n/languages.js';
import { UnsubscribeTokens } from '../../../src/domain/notifications/unsubscribe-tokens.js';
import type { OrganisationSettings } from '../../../src/domain/ports/organisations.js';
import type { NewOutboxMail } from '../../../src/domain/ports/outbox.js';
import type { User } from '../../../src/domain/ports/users.js';
import type { AlertPayload } from '../../../src/shared/alerts.js';
import { expectCode } from '../../support/expect-code.js';
import { createLiveFixture, type LiveFixture } from '../../support/live-fixture.js';

const DAY = 86_400_000;
const PUBLIC_URL = 'https://attendance.test';

function alertOf(studentId: string, studentName: string): AlertPayload {
  return {
    ruleId: 'r',
    rule: 'consecutive-absences',
    subjectId: 'sub',
    subjectCode: 'PHY1',
    subjectName: 'Physics',
    studentId,
    studentName,
    count: 2,
    thresholdPct: null,
    windowDays: null,
    observed: 2,
  };
}

const person = (id: string, role: User['role'], active = true): User =>
  ({ id, orgId: 'o', role, active, name: id, email: `${id}@test`, studentNumber: null, passwordHash: null }) as User;

describe('who hears of an alert (alertAudience)', () => {
  const alerts = [alertOf('s1', 'Ann'), alertOf('s2', 'Bob')];
  const concerned = [person('s1', 'student'), person('s2', 'student'), person('s3', 'student', false)];

  it('settings off (absent): the staff only, in-app with every alert; no student, no guardian', () => {
    const a = alertAudience({}, ['t', 'admin'], concerned, alerts);
    expect(a.inApp).to.deep.equal([
      { userId: 't', alerts },
      { userId: 'admin', alerts },
    ]);
    expect(a.studentEmails).to.deep.equal([]);
    expect(a.guardiansOf).to.deep.equal([]);
  });

  it('notifyStudent: each student concerned gets their own alerts in-app and by email, never another student’s', () => {
    const a = alertAudience({ notifyStudent: true }, ['t'], concerned, alerts);
    expect(a.inApp.slice(1)).to.deep.equal([
      { userId: 's1', alerts: [alerts[0]] },
      { userId: 's2', alerts: [alerts[1]] },
    ]);
    expect(a.studentEmails.map((u) => u.id)).to.deep.equal(['s1', 's2']);
    expect(a.guardiansOf).to.deep.equal([]);
  });

  it('notifyGuardians: guardians of each active student concerned; a deactivated student or a non-student is left out', () => {
    const settings: Pick<OrganisationSettings, 'notifyStudent' | 'notifyGuardians'> = { notifyGuardians: true };
    const a = alertAudience(settings, ['t'], [...concerned, person('s4', 'teacher')], [...alerts, alertOf('s3', 'Cy'), alertOf('s4', 'D')]);
    expect(a.guardiansOf.map((u) => u.id)).to.deep.equal(['s1', 's2']);
    expect(a.inApp.map((r) => r.userId)).to.deep.equal(['t']);
    expect(a.studentEmails).to.deep.equal([]);
  });
});

describe('the guardian alert email (templates)', () => {
  it('is in the contact’s language (its primary subtag, English otherwise) and names that student only', () => {
    expect([emailLanguageOf('fr-CA'), emailLanguageOf('FR'), emailLanguageOf('de'), emailLanguageOf('en-GB')]).to.deep.equal([
      'fr',
      'fr',
      'en',
      'en',
    ]);
    const fr = guardianAlertEmail('fr', 'Marie', 'Ann', 'École', [alertOf('s1', 'Ann')], 'https://x/u?token=t');
    expect(fr.subject).to.equal('Alerte d’assiduité\u00a0: Ann');
    expect(fr.text).to.include('Bonjour Marie,').and.include('Ann a manqué 2 séances consécutives en PHY1 Physics.');
    expect(fr.text)
      .to.include('vous a enregistré·e comme responsable de Ann')
      .and.include('Ne plus recevoir les alertes\u00a0: https://x/u?token=t');
    expect(fr.html).to.include('<a href="https://x/u?token=t">');
  });
});

describe('unsubscribe tokens of guardians', () => {
  const tokens = new UnsubscribeTokens('secret');

  it('name the organisation, the student, the address key and the category; a user token is not read as a guardian one', () => {
    const target = { orgId: 'o', studentId: 's', emailKey: guardianEmailKey(' Mum@Example.test '), category: 'alert' as const };
    expect(target.emailKey).to.equal(guardianEmailKey('mum@example.test'));
    const token = tokens.issueGuardian(target);
    expect(token).to.match(/^g1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(token).not.to.include('mum');
    expect(tokens.verify(token)).to.deep.equal({ kind: 'guardian', ...target });
    // The same payload under the other version: its mac does not match.
    expect(tokens.verify(token.replace(/^g1/, 'u1'))).to.equal(null);
    expect(new UnsubscribeTokens('other').verify(token)).to.equal(null);
    const user = tokens.issue({ orgId: 'o', userId: 'u', category: 'digest' });
    expect(tokens.verify(user)).to.deep.equal({ kind: 'user', orgId: 'o', userId: 'u', category: 'digest' });
  });
});

describe('alerts to the student and guardians (domain, embedded store, recording outbox)', () => {
  let f: LiveFixture;
  let alerts: AlertService;
  let emails: EmailNotifications;
  let detach: () => void;
  let outbox: NewOutboxMail[];
  const tokens = new UnsubscribeTokens('secret');

  beforeEach(async () => {
    f = await createLiveFixture({ students: 2 });
    outbox = [];
    emails = new EmailNotifications({
      store: f.store,
      tokens,
      publicUrl: () => PUBLIC_URL,
      now: f.clock.now,
      outbox: {
        enqueue: async (mail) => {
          outbox.push(mail);
          return true;
        },
        enqueueMany: async (mails) => {
          outbox.push(...mails);
          return mails.map(() => true);
        },
        // The emails are only collected here: nothing to send.
        kick: () => undefined,
        requeueFailed: () => Promise.resolve(null),
      },
    });
    alerts = new AlertService({ store: f.store, events: f.bus, now: f.clock.now, jobs: f.jobs, email: emails });
    detach = alerts.attach(f.bus);
    await alerts.createRule(f.actor(f.admin), { kind: 'consecutive-absences', count: 1, thresholdPct: null, windowDays: null });
    await f.store.guardians.put(f.org.id, f.students[0]!.id, [
      { name: 'Marie', relation: 'mother', email: 'marie@home.test', language: 'fr-FR' },
      { name: 'Paul', relation: 'father', email: 'paul@home.test', language: 'en' },
      // The same address twice (both parents read one mailbox): one email.
      { name: 'Paul and Marie', relation: 'parents', email: 'PAUL@home.test', language: 'en' },
    ]);
  });
  afterEach(async () => {
    detach();
    await f.close();
  });

  /** A session where student 1 is present and student 0 absent: student 0 crosses the rule (count 1). */
  async function heldSession(): Promise<void> {
    f.clock.advance(DAY);
    const teacher = f.actor(f.teacher);
    const session = await f.live.sessions.open(teacher, { subjectId: f.subject.id });
    await f.live.checkins.mark(teacher, { sessionId: session.id, studentId: f.students[1]!.id, status: 'present', ip: null });
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await f.jobs.drain(10_000);
  }

  async function settings(s: Partial<Pick<OrganisationSettings, 'notifyStudent' | 'notifyGuardians'>>): Promise<void> {
    await f.store.organisations.update(f.org.id, { settings: { ...f.org.settings, ...s } });
  }

  const inApp = async (user: User) => (await f.store.notifications.list(f.org.id, user.id, { limit: 10, offset: 0 })).items;
  const to = () => outbox.map((m) => m.to).sort();

  it('settings off: the student and the guardians hear nothing', async () => {
    await heldSession();
    expect(await inApp(f.teacher)).to.have.length(1);
    expect(await inApp(f.students[0]!)).to.deep.equal([]);
    expect(to()).to.deep.equal([f.admin.email, f.teacher.email].sort());
  });

  it('notifyStudent: the student gets their alert in-app (pushed live) and by email, worded for them', async () => {
    await settings({ notifyStudent: true });
    await heldSession();
    const [note] = await inApp(f.students[0]!);
    expect(note?.alert).to.include({ studentId: f.students[0]!.id, observed: 1 });
    expect(await inApp(f.students[1]!)).to.deep.equal([]);
    const pushed = f.events.filter((e) => e.type === 'notification.created' && e.userId === f.students[0]!.id);
    expect(pushed).to.have.length(1);
    const mail = outbox.find((m) => m.to === f.students[0]!.email)!;
    expect(mail.subject).to.equal('Attendance alert: PHY1');
    expect(mail.text).to.include('You missed 1 session in a row of PHY1 Physics.');
    expect(to()).not.to.include('marie@home.test');
  });

  it('notifyGuardians: one email per guardian address in their language; an unsubscribed address is skipped at the next crossing', async () => {
    await settings({ notifyGuardians: true });
    await heldSession();
    const guardianMails = outbox.filter((m) => m.to.endsWith('@home.test'));
    expect(guardianMails.map((m) => m.to)).to.deep.equal(['marie@home.test', 'paul@home.test']);
    const [marie, paul] = guardianMails as [NewOutboxMail, NewOutboxMail];
    expect(marie.subject).to.equal('Alerte d’assiduité\u00a0: Student 01');
    expect(marie.text).to.include('Bonjour Marie,').and.include('Student 01 a manqué 1 séance en PHY1 Physics.');
    expect(paul.text).to.include('Hello Paul,').and.include('Student 01 missed 1 session in a row of PHY1 Physics.');
    for (const m of guardianMails) {
      expect(m.text, 'no staff-only detail').not.to.include(f.teacher.name).and.not.to.include('Student 02');
      expect(m.category).to.equal('alert');
    }
    expect(await inApp(f.students[0]!), 'no in-app notification without notifyStudent').to.deep.equal([]);

    // Paul follows his link; an admin then re-imports the same list: he stays unsubscribed.
    const token = new URL(/https:\S+/.exec(paul.text)![0]).searchParams.get('token')!;
    expect(await emails.unsubscribeLink(token), 'looking changes nothing').to.deep.equal({
      category: 'alert',
      language: 'en',
      subscribed: true,
    });
    expect(await emails.unsubscribe(token)).to.deep.equal({ category: 'alert', language: 'en', subscribed: false });
    expect(await emails.unsubscribe(token), 'again: no further change').to.deep.equal({
      category: 'alert',
      language: 'en',
      subscribed: false,
    });
    expect(await emails.unsubscribeLink(token)).to.include({ subscribed: false });
    const contacts = await f.store.guardians.get(f.org.id, f.students[0]!.id);
    await f.store.guardians.put(
      f.org.id,
      f.students[0]!.id,
      contacts.map(({ unsubscribed: _u, ...c }) => c),
    );
    expect((await f.store.guardians.get(f.org.id, f.students[0]!.id)).map((c) => c.unsubscribed ?? [])).to.deep.equal([
      [],
      ['alert'],
      ['alert'],
    ]);

    // Recover, then cross again: Marie only.
    outbox.length = 0;
    f.clock.advance(DAY);
    const teacher = f.actor(f.teacher);
    const session = await f.live.sessions.open(teacher, { subjectId: f.subject.id });
    for (const s of f.students)
      await f.live.checkins.mark(teacher, { sessionId: session.id, studentId: s.id, status: 'present', ip: null });
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await f.jobs.drain(10_000);
    await heldSession();
    expect(outbox.filter((m) => m.to.endsWith('@home.test')).map((m) => m.to)).to.deep.equal(['marie@home.test']);
  });

  it('a guardian link for an address the student no longer lists, or altered, is refused', async () => {
    const stale = tokens.issueGuardian({
      orgId: f.org.id,
      studentId: f.students[0]!.id,
      emailKey: guardianEmailKey('gone@home.test'),
      category: 'alert',
    });
    for (const link of [stale, `${stale.slice(0, -2)}xx`]) {
      await expectCode(emails.unsubscribeLink(link), 'UNSUBSCRIBE_LINK_INVALID');
      await expectCode(emails.unsubscribe(link), 'UNSUBSCRIBE_LINK_INVALID');
      await expectCode(emails.resubscribe(link), 'UNSUBSCRIBE_LINK_INVALID');
    }
  });

  it('subscribe again with the same link: a guardian in their language, a user in their preferences, each one category', async () => {
    const student = f.students[0]!.id;
    const marie = tokens.issueGuardian({
      orgId: f.org.id,
      studentId: student,
      emailKey: guardianEmailKey('marie@home.test'),
      category: 'alert',
    });
    await emails.unsubscribe(marie);
    expect(await emails.resubscribe(marie)).to.deep.equal({ category: 'alert', language: 'fr', subscribed: true });
    expect(await emails.resubscribe(marie), 'again: no further change').to.include({ subscribed: true });
    expect((await f.store.guardians.get(f.org.id, student)).map((c) => c.unsubscribed ?? [])).to.deep.equal([[], [], []]);

    const teacher = f.actor(f.teacher);
    await emails.setPreferences(teacher, { language: 'fr', unsubscribed: ['digest'] });
    const alert = tokens.issue({ orgId: f.org.id, userId: f.teacher.id, category: 'alert' });
    expect(await emails.unsubscribeLink(alert)).to.deep.equal({ category: 'alert', language: 'fr', subscribed: true });
    await emails.unsubscribe(alert);
    expect(await emails.preferences(teacher)).to.deep.equal({ language: 'fr', unsubscribed: ['alert', 'digest'] });
    expect(await emails.resubscribe(alert)).to.deep.equal({ category: 'alert', language: 'fr', subscribed: true });
    expect(await emails.preferences(teacher), 'the digest stays off').to.deep.equal({ language: 'fr', unsubscribed: ['digest'] });
  });
});

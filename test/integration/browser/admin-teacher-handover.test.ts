import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { findOneUser, openAdminConsole, screenshotAdmin, type AdminConsole } from '../../support/admin-page.js';
import type { TestServer } from '../../support/http.js';
import { createUser } from '../../support/fixtures.js';
import { DEMO_PASSWORDS } from '../../../src/domain/seed.js';

// Ada is away for a month: from the Users page, the IT person opens her subjects, hands them to
// Alan in one go, and on her return hands back exactly those, without remembering which. A
// subject another admin changed meanwhile is not guessed at: nothing is handed back, it is named.

async function openTaughtBy(page: Page, email: string, button: string): Promise<void> {
  await findOneUser(page, email);
  await page.click(`#users-body button:text-is("${button}")`);
  await page.waitForSelector('#teacher-subjects-panel:not([hidden])');
}

/**
 * A teacher (named by email) whose subjects would double-book Alan if handed to him: P-CHEM meets
 * at the time of Alan's own P-ART, and P-PHYS at the time of P-MATH, both handed in one go.
 */
async function clashingTeacher(srv: TestServer, org: Organisation): Promise<string> {
  const alan = (await srv.store.users.getByEmail(org.id, 'alan@demo.school'))!.id;
  const away = await createUser(srv.store, org.id, 'teacher');
  const token = (await srv.login('admin@demo.school', DEMO_PASSWORDS.admin)).accessToken;
  const term = await srv.store.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
  const subject = async (code: string, teacherId: string, weekday: number, startTime: string, endTime: string) => {
    const s = await srv.store.subjects.create(org.id, { code, name: code, teacherIds: [teacherId], location: null, allowedIpRanges: [] });
    const res = await srv.request('POST', `/api/v1/subjects/${s.id}/meetings`, {
      token,
      // P-MATH and P-PHYS overlap for their own teacher too: confirmed, as a school may have it.
      body: { termId: term.id, preset: 'manual', weekday, startTime, endTime, teacherOverlap: true },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  };
  await subject('P-ART', alan, 2, '10:00', '11:00');
  await subject('P-CHEM', away.id, 2, '10:00', '11:00');
  await subject('P-MATH', away.id, 1, '09:00', '10:00');
  await subject('P-PHYS', away.id, 1, '09:30', '10:30');
  return away.email;
}

const shownCodes = (page: Page) => page.$$eval('#teacher-subjects-body th', (cells) => cells.map((c) => c.textContent));
const waitText = (page: Page, id: string) => page.waitForFunction((el) => (document.getElementById(el)?.textContent ?? '') !== '', id);

describe("admin console: a teacher's subjects handed to a colleague and back (Chromium)", function () {
  this.timeout(60_000);

  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;
  let maths: Subject;
  let ada: string;
  let alan: string;

  before(async () => {
    admin = await openAdminConsole();
    ({ srv, org, page } = admin);
    ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!.id;
    alan = (await srv.store.users.getByEmail(org.id, 'alan@demo.school'))!.id;
    maths = await srv.store.subjects.create(org.id, {
      code: 'MATH-7',
      name: 'Maths 7',
      teacherIds: [ada],
      location: null,
      allowedIpRanges: [],
    });
  });
  after(() => admin?.close());

  const teachersOf = async (code: string) => (await srv.store.subjects.getByCodes(org.id, [code]))[0]?.teacherIds;

  it('lists her subjects, hands them all to Alan, and hands them back, audited', async () => {
    await openTaughtBy(page, 'ada@demo.school', 'Subjects');
    expect(await page.textContent('#teacher-subjects-title')).to.equal('Subjects taught by Ada Lovelace');
    expect(await page.textContent('#teacher-subjects-caption')).to.equal('Teaches 2 subjects');
    expect(await shownCodes(page)).to.deep.equal(['CS101', 'MATH-7']);

    await page.click('#teacher-subjects-form button[type="submit"]');
    await waitText(page, 'teacher-subjects-error');
    expect(await page.textContent('#teacher-subjects-error')).to.equal('Choose the colleague who covers first.');

    await page.selectOption('#teacher-subjects-to', alan);
    await screenshotAdmin(page, 'teacher-handover');
    await page.click('#teacher-subjects-form button[type="submit"]');
    await waitText(page, 'teacher-subjects-status');
    expect(await page.textContent('#teacher-subjects-status')).to.equal('Handed 2 subjects to Alan Turing.');
    expect(await teachersOf('CS101')).to.deep.equal([alan]);
    expect(await teachersOf('MATH-7')).to.deep.equal([alan]);
    expect(await page.textContent('#teacher-subjects-pending')).to.equal(
      'Handed to Alan Turing: CS101, MATH-7. Hand back restores them to Ada Lovelace.',
    );
    expect(await page.isVisible('#teacher-subjects-form')).to.equal(false);

    await page.click('#teacher-subjects-back');
    await page.waitForFunction(() => /^Handed back/.test(document.getElementById('teacher-subjects-status')?.textContent ?? ''));
    expect(await page.textContent('#teacher-subjects-status')).to.equal('Handed back to Ada Lovelace.');
    expect(await teachersOf('CS101')).to.deep.equal([ada]);
    expect(await teachersOf('MATH-7')).to.deep.equal([ada]);
    expect(await page.isVisible('#teacher-subjects-back')).to.equal(false);
    const trail = await srv.store.audit.listForEntity(org.id, 'user', ada);
    expect(trail.map((e) => e.action)).to.deep.equal(['user.handover', 'user.handback']);
  });

  it('hands over the ticked subject only, and refuses to hand back one changed since, naming it', async () => {
    await page.uncheck('input[aria-label="Hand over CS101"]');
    await page.selectOption('#teacher-subjects-to', alan);
    await page.check('#teacher-subjects-keep');
    await page.click('#teacher-subjects-form button[type="submit"]');
    await page.waitForFunction(() => /^Handed 1/.test(document.getElementById('teacher-subjects-status')?.textContent ?? ''));
    expect(await teachersOf('CS101')).to.deep.equal([ada]);
    expect(await teachersOf('MATH-7')).to.deep.equal([alan, ada]);

    await srv.store.subjects.update(org.id, maths.id, { teacherIds: [alan] });
    await page.click('#teacher-subjects-back');
    await waitText(page, 'teacher-subjects-error');
    expect(await page.textContent('#teacher-subjects-error')).to.equal(
      'Nothing was changed: MATH-7 changed or was deleted since the hand-over.',
    );
    expect(await teachersOf('MATH-7')).to.deep.equal([alan]);
  });

  it('names every double-booking a hand-over meets, each subject against the one it meets, and changes nothing', async () => {
    const away = await clashingTeacher(srv, org);
    await page.click('#teacher-subjects-close');
    await openTaughtBy(page, away, 'Subjects');
    await page.selectOption('#teacher-subjects-to', alan);
    await page.click('#teacher-subjects-form button[type="submit"]');
    await waitText(page, 'teacher-subjects-error');
    expect(await page.textContent('#teacher-subjects-error')).to.equal(
      'Nothing was changed: it would double-book the teacher who takes them (P-CHEM Tuesday 10:00–11:00 against P-ART Tuesday 10:00–11:00; ' +
        'P-PHYS Monday 09:30–10:30 against P-MATH Monday 09:00–10:00). Tick “Even where it double-books” to confirm.',
    );
    const owner = (await srv.store.users.getByEmail(org.id, away))!.id;
    for (const code of ['P-CHEM', 'P-MATH', 'P-PHYS']) expect(await teachersOf(code)).to.deep.equal([owner]);
  });
});

describe("admin console: a teacher's subjects handed over, in French (Chromium)", function () {
  this.timeout(60_000);

  let admin: AdminConsole | undefined;
  before(async () => {
    admin = await openAdminConsole({ language: 'fr' });
  });
  after(() => admin?.close());

  it('hands Ada’s subject to Alan, said in French', async () => {
    const { page, srv, org } = admin!;
    await openTaughtBy(page, 'ada@demo.school', 'Matières');
    expect(await page.textContent('#teacher-subjects-caption')).to.equal('Enseigne 1 matière');
    const alan = (await srv.store.users.getByEmail(org.id, 'alan@demo.school'))!.id;
    await page.selectOption('#teacher-subjects-to', alan);
    await page.click('#teacher-subjects-form button[type="submit"]');
    await waitText(page, 'teacher-subjects-status');
    expect(await page.textContent('#teacher-subjects-status')).to.equal('1 matière confiée à Alan Turing.');
    expect(await page.textContent('#teacher-subjects-pending')).to.equal(
      'Confiées à Alan Turing\u00a0: CS101. «\u00a0Rendre\u00a0» les rend à Ada Lovelace.',
    );
  });

  it('names every double-booking in French', async () => {
    const { page, srv, org } = admin!;
    const away = await clashingTeacher(srv, org);
    await page.click('#teacher-subjects-close');
    await openTaughtBy(page, away, 'Matières');
    const alan = (await srv.store.users.getByEmail(org.id, 'alan@demo.school'))!.id;
    await page.selectOption('#teacher-subjects-to', alan);
    await page.click('#teacher-subjects-form button[type="submit"]');
    await waitText(page, 'teacher-subjects-error');
    expect(await page.textContent('#teacher-subjects-error')).to.equal(
      'Rien n’a été modifié\u00a0: l’enseignant qui les reçoit aurait deux cours à la fois (P-CHEM le mardi 10:00–11:00 contre P-ART le mardi 10:00–11:00\u00a0; ' +
        'P-PHYS le lundi 09:30–10:30 contre P-MATH le lundi 09:00–10:00). Cochez «\u00a0Même si…\u00a0» pour confirmer.',
    );
  });
});

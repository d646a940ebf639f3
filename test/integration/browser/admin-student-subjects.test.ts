import { expect } from 'chai';
import type { Page, Request } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { acceptingDialogs, findOneUser, openAdminConsole, screenshotAdmin, type AdminConsole } from '../../support/admin-page.js';
import type { TestServer } from '../../support/http.js';

// Mid-term, a student moves from class 7A to 7B: from the Users page, the IT person opens the
// student's subjects (no need to open each of the school's subjects to find them), ticks 7A's,
// types 7B's codes and saves once; a mistyped code changes nothing. A student who leaves the
// school is deactivated and, asked, removed from their subjects: deactivation alone left them on
// every roster, marked absent at each close for the rest of the term. Then once in French.

async function openSubjectsOf(page: Page, email: string, button: string): Promise<void> {
  await findOneUser(page, email);
  await page.click(`#users-body button:text-is("${button}")`);
  await page.waitForSelector('#student-subjects-panel:not([hidden])');
}

const shownCodes = (page: Page) => page.$$eval('#student-subjects-body th', (cells) => cells.map((c) => c.textContent));

describe("admin console: a student's subjects, moved to another class from the Users page (Chromium)", function () {
  this.timeout(60_000);

  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;
  const subjects = new Map<string, Subject>();
  const dialogs: string[] = [];

  before(async () => {
    admin = await openAdminConsole({ watch: acceptingDialogs(dialogs) });
    ({ srv, org, page } = admin);
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    for (const code of ['7A-MATH', '7A-FR', '7B-MATH', '7B-FR']) {
      subjects.set(
        code,
        await srv.store.subjects.create(org.id, { code, name: `Class ${code}`, teacherIds: [ada.id], location: null, allowedIpRanges: [] }),
      );
    }
  });
  after(() => admin?.close());

  const codesOf = async (email: string) => {
    const student = (await srv.store.users.getByEmail(org.id, email))!;
    const ids = (await srv.store.subjects.enrolmentsOf(org.id, [student.id])).map((e) => e.subjectId);
    return (await srv.store.subjects.getMany(org.id, ids)).map((s) => s.code).sort();
  };

  it('lists what the student is enrolled in, and moves them from 7A to 7B in one save, audited on each subject', async () => {
    const student = (await srv.store.users.getByEmail(org.id, 'student01@demo.school'))!;
    for (const code of ['7A-MATH', '7A-FR']) await srv.store.subjects.enrol(org.id, subjects.get(code)!.id, [student.id]);

    await openSubjectsOf(page, 'student01@demo.school', 'Subjects');
    expect(await page.textContent('#student-subjects-title')).to.equal('Subjects of Student 01');
    expect(await shownCodes(page)).to.deep.equal(['7A-FR', '7A-MATH', 'CS101']);
    expect(await page.textContent('#student-subjects-caption')).to.equal('Enrolled in 3 subjects');

    await page.check('input[aria-label="Leaves 7A-MATH"]');
    await page.check('input[aria-label="Leaves 7A-FR"]');
    await page.fill('#student-subjects-codes', '7B-MATH, 7B-FR');
    await screenshotAdmin(page, 'student-subjects-move');
    await page.click('#student-subjects-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('student-subjects-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#student-subjects-status')).to.equal('Saved the subjects of Student 01: joined 2, left 2.');
    expect(await page.textContent('#student-subjects-error')).to.equal('');
    expect(await shownCodes(page)).to.deep.equal(['7B-FR', '7B-MATH', 'CS101']);
    expect(await codesOf('student01@demo.school')).to.deep.equal(['7B-FR', '7B-MATH', 'CS101']);
    const actions = async (code: string) =>
      (await srv.store.audit.listForEntity(org.id, 'subject', subjects.get(code)!.id)).map((e) => e.action);
    expect(await actions('7A-MATH')).to.include('subject.unenrol');
    expect(await actions('7B-FR')).to.include('subject.enrol');
  });

  it('changes nothing when a code is mistyped, and says which', async () => {
    await page.check('input[aria-label="Leaves 7B-FR"]');
    await page.fill('#student-subjects-codes', '7A-FR 7A-MTH');
    await page.click('#student-subjects-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('student-subjects-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#student-subjects-error')).to.equal('No subject has the code 7A-MTH: nothing was changed.');
    expect(await codesOf('student01@demo.school')).to.deep.equal(['7B-FR', '7B-MATH', 'CS101']);
  });

  it('a student who leaves is deactivated and, asked, removed from their subjects', async () => {
    const leaver = (await srv.store.users.getByEmail(org.id, 'student03@demo.school'))!;
    await srv.store.subjects.enrol(org.id, subjects.get('7A-FR')!.id, [leaver.id]);
    await findOneUser(page, 'student03@demo.school');
    dialogs.length = 0;
    const removals: string[] = [];
    const seen = (req: Request) => {
      if (req.method() === 'DELETE') removals.push(new URL(req.url()).pathname);
    };
    page.on('request', seen);
    await page.click('#users-body button:text-is("Deactivate")');
    await page.waitForFunction(() => /^Deactivated/.test(document.getElementById('users-status')?.textContent ?? ''));
    expect(dialogs).to.deep.equal([
      'Deactivate Student 03? They are logged out and cannot log in until reactivated.',
      'Student 03 is deactivated. Remove them from their 2 subjects as well? Otherwise they stay on those rosters and are marked absent at each close. Their records so far are kept either way.',
    ]);
    expect(await page.textContent('#users-status')).to.equal(
      'Deactivated Student 03 and removed them from their 2 subjects; their records are kept.',
    );
    expect(await codesOf('student03@demo.school')).to.deep.equal([]);
    expect((await srv.store.users.get(org.id, leaver.id))!.active).to.equal(false);
    page.off('request', seen);
    // One request for all their subjects: an error part-way cannot leave them in some.
    expect(removals).to.deep.equal([`/api/v1/users/${leaver.id}/subjects`]);
  });

  it('a leaver whose removal fails stays in every subject, and the page says the deactivation stands', async () => {
    const leaver = (await srv.store.users.getByEmail(org.id, 'student04@demo.school'))!;
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const gone = await srv.store.subjects.create(org.id, {
      code: 'ZZ-GONE',
      name: 'Gone',
      teacherIds: [ada.id],
      location: null,
      allowedIpRanges: [],
    });
    for (const s of [subjects.get('7A-MATH')!, gone]) await srv.store.subjects.enrol(org.id, s.id, [leaver.id]);
    const before = await codesOf('student04@demo.school');
    // Another admin deletes the last of their subjects after the page listed them, before the removal.
    await page.route('**/api/v1/**', async (route) => {
      if (route.request().method() === 'DELETE') await srv.store.subjects.delete(org.id, gone.id);
      await route.continue();
    });
    try {
      await findOneUser(page, 'student04@demo.school');
      await page.click('#users-body button:text-is("Deactivate")');
      await page.waitForFunction(() => (document.getElementById('users-error')?.textContent ?? '') !== '');
    } finally {
      await page.unroute('**/api/v1/**');
    }
    expect(await page.textContent('#users-error')).to.match(/^Student 04 is deactivated, but still in their subjects \(none was left\): /);
    expect(await codesOf('student04@demo.school')).to.deep.equal(before.filter((c) => c !== 'ZZ-GONE'));
    expect((await srv.store.users.get(org.id, leaver.id))!.active).to.equal(false);
  });
});

describe("admin console: a student's subjects, in French (Chromium)", function () {
  this.timeout(60_000);

  let admin: AdminConsole | undefined;
  before(async () => {
    admin = await openAdminConsole({ language: 'fr' });
    const { srv, org } = admin;
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    await srv.store.subjects.create(org.id, {
      code: 'HIST-1',
      name: 'Histoire',
      teacherIds: [ada.id],
      location: null,
      allowedIpRanges: [],
    });
  });
  after(() => admin?.close());

  it('a student arriving late joins a subject, said in French', async () => {
    const { page } = admin!;
    await openSubjectsOf(page, 'student02@demo.school', 'Matières');
    expect(await page.textContent('#student-subjects-caption')).to.equal('Inscrit à 1 matière');
    await page.fill('#student-subjects-codes', 'NOPE-1');
    await page.click('#student-subjects-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('student-subjects-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#student-subjects-error')).to.equal('Aucune matière n’a le code NOPE-1\u00a0: rien n’a été modifié.');
    await page.fill('#student-subjects-codes', 'HIST-1');
    await page.click('#student-subjects-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('student-subjects-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#student-subjects-status')).to.equal(
      'Matières de Student 02 enregistrées\u00a0: 1 rejointe(s), 0 quittée(s).',
    );
    expect(await page.textContent('#student-subjects-caption')).to.equal('Inscrit à 2 matières');
  });

  it('a deactivated student is not enrolled, said in French', async () => {
    const { page, srv, org } = admin!;
    const leaver = (await srv.store.users.getByEmail(org.id, 'student05@demo.school'))!;
    await srv.store.users.update(org.id, leaver.id, { active: false });
    await page.selectOption('#user-active', 'false');
    await openSubjectsOf(page, 'student05@demo.school', 'Matières');
    await page.fill('#student-subjects-codes', 'HIST-1');
    await page.click('#student-subjects-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('student-subjects-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#student-subjects-error')).to.equal(
      'Student 05 est désactivé\u00a0: réactivez-le avant de l’inscrire. Rien n’a été modifié.',
    );
    const hist = (await srv.store.subjects.getByCodes(org.id, ['HIST-1']))[0]!;
    expect(await srv.store.subjects.isEnrolled(org.id, hist.id, leaver.id)).to.equal(false);
  });
});

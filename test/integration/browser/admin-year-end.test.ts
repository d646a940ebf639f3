import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { NewUser } from '../../../src/domain/ports/users.js';
import { acceptingDialogs, openAdminConsole, screenshotAdmin, showSection, type AdminConsole } from '../../support/admin-page.js';
import type { TestServer } from '../../support/http.js';

// The end of June: the IT person deactivates the year group that leaves (more than a page of
// them) and a list of other leavers from a CSV, then archives last year's subjects, all from the
// admin pages.

const pupil = (prefix: string, i: number): NewUser => ({
  name: `${prefix} Pupil ${String(i).padStart(2, '0')}`,
  email: `${prefix.toLowerCase()}${i}@school.test`,
  role: 'student',
  studentNumber: `${prefix}${i}`,
  passwordHash: null,
  active: true,
});

describe('admin console: closing the school year (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;
  const dialogs: string[] = [];

  before(async () => {
    admin = await openAdminConsole({ watch: acceptingDialogs(dialogs) });
    ({ srv, org, page } = admin);
  });
  after(() => admin?.close());

  const active = async (ids: string[]) => (await srv.store.users.getMany(org.id, ids)).filter((u) => u.active).map((u) => u.id);

  it('deactivates everyone the search lists, every page of it, after a confirmation with the count', async () => {
    const leaving = await srv.store.users.createMany(
      org.id,
      Array.from({ length: 30 }, (_, i) => pupil('Y13', i + 1)),
    );
    const staying = await srv.store.users.createMany(
      org.id,
      Array.from({ length: 3 }, (_, i) => pupil('Y12', i + 1)),
    );
    const subject = await srv.store.subjects.create(org.id, {
      code: 'Y13-MATH',
      name: 'Maths',
      teacherIds: [],
      location: null,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(
      org.id,
      subject.id,
      [...leaving, ...staying].map((u) => u.id),
    );

    await showSection(page, 'users');
    await page.fill('#user-q', 'Y13 Pupil');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('users-caption')?.textContent === 'Users 1 to 25 of 30');
    await page.check('#leavers-unenrol');
    await page.click('#users-deactivate-listed');
    await page.waitForFunction(() => /Deactivated/.test(document.getElementById('leavers-status')?.textContent ?? ''));
    expect(dialogs.splice(0)).to.deep.equal(['Deactivate the 30 active users listed? Their logins end at once; their records are kept.']);
    expect(await page.textContent('#leavers-status')).to.equal('Deactivated 30 users. Removed 30 enrolments.');
    expect(await active(leaving.map((u) => u.id))).to.deep.equal([]);
    expect(await active(staying.map((u) => u.id))).to.have.length(3);
    expect(await srv.store.subjects.listEnrolled(org.id, subject.id)).to.have.members(staying.map((u) => u.id));
    // The list follows: nobody active is listed any more.
    await page.waitForFunction(() => document.getElementById('users-caption')?.textContent === 'No users match.');
    await screenshotAdmin(page, 'users-leavers');
  });

  it('deactivates those a CSV of student numbers and emails names, and says which it could not find', async () => {
    const [a, b, c] = await srv.store.users.createMany(
      org.id,
      Array.from({ length: 3 }, (_, i) => pupil('X', i + 1)),
    );
    await showSection(page, 'users');
    await page.setInputFiles('#leavers-file', {
      name: 'leavers.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`student_number\n${a!.studentNumber}\n${b!.studentNumber}\nNOBODY-9\n`),
    });
    await page.click('#leavers-form button[type="submit"]');
    // The status the first case left says "Deactivated" too: this file's own answer is waited for.
    await page.waitForFunction(() => document.getElementById('leavers-status')?.textContent === 'Deactivated 2 users.');
    expect(dialogs.splice(0)).to.deep.equal([
      'No active user has these: NOBODY-9\n\nDeactivate the 2 active users listed? Their logins end at once; their records are kept.',
    ]);
    expect(await page.textContent('#leavers-error')).to.equal('No active user has these: NOBODY-9');
    expect(await active([a!.id, b!.id, c!.id])).to.deep.equal([c!.id]);

    await page.setInputFiles('#leavers-file', {
      name: 'staff.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`email\n${c!.email.toUpperCase()}\n`),
    });
    await page.click('#leavers-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('leavers-status')?.textContent === 'Deactivated 1 user.');
    expect(dialogs.splice(0)).to.deep.equal(['Deactivate the 1 active user listed? Their logins end at once; their records are kept.']);
    expect(await active([c!.id])).to.deep.equal([]);
  });

  it('archives the ticked subjects, shows them under the filter, and unarchives them', async () => {
    const mk = (code: string) =>
      srv.store.subjects.create(org.id, { code, name: code, teacherIds: [], location: null, allowedIpRanges: [] });
    const old = await mk('2025-HIST');
    const kept = await mk('2026-HIST');
    await showSection(page, 'subjects');
    const listed = () => page.$$eval('#subjects-body tr', (rows) => rows.map((r) => r.getAttribute('data-subject-id')));
    expect(await listed()).to.include.members([old.id, kept.id]);
    await page.check(`#subjects-body tr[data-subject-id="${old.id}"] input[name="subject-pick"]`);
    await page.click('#subjects-archive');
    await page.waitForFunction(() => document.getElementById('subjects-status')?.textContent === 'Archived 1 subject.');
    expect(dialogs.splice(0)).to.deep.equal([
      'Archive the ticked subject? Its records, reports and audit stay; it takes no new session, meeting or enrolment until unarchived.',
    ]);
    expect((await srv.store.subjects.get(org.id, old.id))!.archivedAt).to.be.instanceOf(Date);
    await page.waitForFunction((id) => !document.querySelector(`#subjects-body tr[data-subject-id="${id}"]`), old.id);
    expect(await listed()).to.include(kept.id);

    await page.selectOption('#subjects-show', 'true');
    await page.waitForFunction(
      (id) =>
        document.querySelectorAll('#subjects-body tr').length === 1 &&
        !!document.querySelector(`#subjects-body tr[data-subject-id="${id}"]`),
      old.id,
    );
    expect(await page.textContent('#subjects-archive')).to.equal('Unarchive the ticked subjects');
    await screenshotAdmin(page, 'subjects-archived');
    await page.check('#subjects-all');
    await page.click('#subjects-archive');
    await page.waitForFunction(() => document.getElementById('subjects-status')?.textContent === 'Unarchived 1 subject.');
    expect(dialogs.splice(0)).to.deep.equal(['Unarchive the ticked subject?']);
    expect((await srv.store.subjects.get(org.id, old.id))!.archivedAt).to.equal(null);
  });
});

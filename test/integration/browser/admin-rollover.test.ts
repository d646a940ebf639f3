import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { NewUser } from '../../../src/domain/ports/users.js';
import { acceptingDialogs, openAdminConsole, screenshotAdmin, showSection, type AdminConsole } from '../../support/admin-page.js';
import type { TestServer } from '../../support/http.js';

// September: the IT person makes this year's subjects from last year's (archived) on the Subjects
// page, checking first, without retyping a code, a teacher, a class list or a timetable.

const person = (role: NewUser['role'], name: string, active = true): NewUser => ({
  name,
  email: `${name.toLowerCase().replace(/\W/g, '')}@rollover.test`,
  role,
  studentNumber: role === 'student' ? name : null,
  passwordHash: null,
  active,
});

describe('admin console: next year from last year’s subjects (Chromium)', function () {
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

  const rows = () =>
    page.$$eval('#rollover-body tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));

  it('checks, then makes 7A-MATH again with its active teacher, students and meetings, last year’s renamed; a second run makes nothing', async () => {
    const [stays, left, s1, s2, gone] = await srv.store.users.createMany(org.id, [
      person('teacher', 'Ms Stays'),
      person('teacher', 'Mr Left', false),
      person('student', 'R1'),
      person('student', 'R2'),
      person('student', 'R3'),
    ]);
    const math = await srv.store.subjects.create(org.id, {
      code: '7A-MATH',
      name: 'Maths 7A',
      teacherIds: [stays!.id, left!.id],
      location: { lat: 48.85, lon: 2.35, radiusM: 80 },
      allowedIpRanges: ['10.1.0.0/16'],
    });
    await srv.store.subjects.enrol(org.id, math.id, [s1!.id, s2!.id, gone!.id]);
    // A leaver of last year: enrolled while active (the store enrols no deactivated student).
    await srv.store.users.update(org.id, gone!.id, { active: false });
    const lastTerm = await srv.store.timetable.createTerm(org.id, { name: 'Year 2025-26', startDay: '2025-09-01', endDay: '2026-07-03' });
    const nextTerm = await srv.store.timetable.createTerm(org.id, { name: 'Year 2026-27', startDay: '2026-09-01', endDay: '2027-07-02' });
    await srv.store.timetable.createMeeting(org.id, {
      subjectId: math.id,
      termId: lastTerm.id,
      weekday: 1,
      startTime: '08:00',
      endTime: '09:00',
      teacherId: null,
      preset: 'location-code',
      location: null,
      allowedIpRanges: [],
    });
    await srv.store.subjects.update(org.id, math.id, { archivedAt: new Date() });

    await showSection(page, 'subjects');
    await page.selectOption('#subjects-show', 'true');
    const tick = `#subjects-body tr[data-subject-id="${math.id}"] input[name="subject-pick"]`;
    await page.waitForSelector(tick);
    await page.check(tick);
    await page.click('#rollover-details summary');
    await page.waitForSelector(`#ro-term-to option[value="${nextTerm.id}"]`, { state: 'attached' });
    await page.fill('#ro-previous', '-2026');
    await page.selectOption('#ro-term-from', lastTerm.id);
    await page.selectOption('#ro-term-to', nextTerm.id);
    await page.click('#rollover-check');
    await page.waitForFunction(() => /^Checked/.test(document.getElementById('rollover-status')?.textContent ?? ''));
    expect(await page.textContent('#rollover-status')).to.equal('Checked: 1 to make, 0 already made, 0 refused. Nothing was written.');
    const carried =
      "2 students; 1 meeting; last year's renamed 7A-MATH-2026; 1 deactivated teacher left out; 1 deactivated student left out";
    expect(await rows()).to.deep.equal([['7A-MATH', '7A-MATH', 'Will be made', carried]]);
    expect((await srv.store.subjects.get(org.id, math.id))!.code, 'a check writes nothing').to.equal('7A-MATH');

    await page.click('#rollover-form button[type="submit"]');
    await page.waitForFunction(() => /^Next year/.test(document.getElementById('rollover-status')?.textContent ?? ''));
    expect(dialogs.splice(0)).to.deep.equal(["Make next year's subject from the ticked one?"]);
    expect(await page.textContent('#rollover-status')).to.equal("Next year's subjects: 1 made, 0 already made, 0 refused.");
    expect(await rows()).to.deep.equal([['7A-MATH', '7A-MATH', 'Made', carried]]);
    await screenshotAdmin(page, 'subjects-rollover');
    const [next] = await srv.store.subjects.getByCodes(org.id, ['7A-MATH']);
    expect(next!.id).to.not.equal(math.id);
    expect(next).to.deep.include({ name: 'Maths 7A', teacherIds: [stays!.id], archivedAt: null, allowedIpRanges: ['10.1.0.0/16'] });
    expect((await srv.store.subjects.listEnrolled(org.id, next!.id)).sort()).to.deep.equal([s1!.id, s2!.id].sort());
    expect((await srv.store.timetable.listMeetings(org.id, next!.id)).map((m) => [m.termId, m.preset])).to.deep.equal([
      [nextTerm.id, 'location-code'],
    ]);
    expect((await srv.store.subjects.get(org.id, math.id))!.code).to.equal('7A-MATH-2026');

    // Run again (a double click, a retry): nothing more is made.
    await page.waitForSelector(tick);
    await page.check(tick);
    await page.click('#rollover-form button[type="submit"]');
    await page.waitForFunction(() => /1 already made/.test(document.getElementById('rollover-status')?.textContent ?? ''));
    expect(await rows()).to.deep.equal([['7A-MATH-2026', '7A-MATH', 'Already made (a subject in use has this code): nothing done', '']]);
    expect(await srv.store.subjects.getByCodes(org.id, ['7A-MATH'])).to.have.length(1);
  });
});

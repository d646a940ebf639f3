import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { addDays, dayIn, instantAt, isoWeekday } from '../../../src/domain/calendar.js';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

// The teacher console's weekly timetable: a teacher adds a weekly meeting, sees it in the next
// seven days, and starts tomorrow's session with one tap; a meeting in its own room is edited
// and its scheduled session follows.

describe('teacher console: weekly timetable (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;

  before(async function () {
    await ensurePagesBuilt('teacher.js');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  // Each case on its own server: one adds meetings and sessions, the other the teacher's settings.
  beforeEach(async () => {
    srv = await startTestServer();
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const today = dayIn(org.timezone, new Date());
    await srv.store.timetable.createTerm(org.id, { name: 'This term', startDay: addDays(today, -7), endDay: addDays(today, 60) });
    context = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 1366, height: 900 }, bypassCSP: true });
    context.setDefaultTimeout(8_000);
  });
  afterEach(async () => {
    await context?.close();
    await srv?.cleanup();
  });

  /** The demo organisation, Ada and the CS101 she teaches. */
  const adaAndCs101 = async () => {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const cs101 = (await srv.store.subjects.list(org.id, { teacherId: ada.id, limit: 10, offset: 0 })).items.find(
      (x) => x.code === 'CS101',
    )!;
    return { org, ada, cs101 };
  };
  /** A weekly meeting of the subject in this term, in the subject's room, no teacher of its own. */
  const addMeeting = async (orgId: string, subjectId: string, weekday: number, startTime: string, endTime: string) => {
    const [term] = await srv.store.timetable.listTerms(orgId);
    return srv.store.timetable.createMeeting(orgId, {
      subjectId,
      termId: term!.id,
      weekday,
      startTime,
      endTime,
      teacherId: null,
      preset: 'manual',
      location: null,
      allowedIpRanges: [],
    });
  };
  /** Ada's console on `page`; with `ready`, once that element is in the page (the panel has loaded). */
  const logInAda = async (page: Page, ready?: string) => {
    await page.goto('/teacher.html');
    await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    if (ready) await page.waitForSelector(ready, { state: 'attached' });
  };
  /** The meeting form's times, and its weekday when given. */
  const fillMeeting = async (page: Page, start: string, end: string, day?: string) => {
    if (day) await page.selectOption('#meeting-weekday', String(isoWeekday(day)));
    await page.fill('#meeting-start', start);
    await page.fill('#meeting-end', end);
  };
  /** Submits the meeting form, answers the confirm() it asks and resolves to the question. */
  const submitAnswering = async (page: Page, accept: boolean) => {
    // Answered from the handler: the click itself waits while a confirm() blocks the page.
    const asked = new Promise<string>((resolve, reject) => {
      page.once('dialog', (dialog) => {
        resolve(dialog.message());
        (accept ? dialog.accept() : dialog.dismiss()).catch(reject);
      });
    });
    await page.click('#meeting-submit');
    return asked;
  };
  /**
   * In Ada's console, already in `language`, moves CS101's 10:00–11:00 meeting to 12:00–13:00 and
   * waits for the refusal's error line; every question the page asks is dismissed and kept.
   */
  const refusedEdit = async (page: Page, cs101Id: string, language: 'en' | 'fr') => {
    const questions: string[] = [];
    page.on('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await logInAda(page);
    await page.waitForFunction((lang) => document.documentElement.lang === lang, language);
    await page.selectOption('#subject-select', cs101Id);
    await page
      .locator('#meeting-list li', { hasText: '10:00–11:00' })
      .getByRole('button', { name: language === 'fr' ? /Modifier le créneau/ : /Edit the meeting/ })
      .click();
    await fillMeeting(page, '12:00', '13:00');
    await page.click('#meeting-submit');
    await page.waitForFunction(() => (document.getElementById('timetable-error')?.textContent ?? '') !== '');
    return questions;
  };

  it("adds a weekly meeting, lists it in the next seven days, and one tap creates tomorrow's session", async () => {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const tomorrow = addDays(dayIn(org.timezone, new Date()), 1);
    const page = await context.newPage();
    await logInAda(page, '#meeting-term option');
    const subjectId = await page.inputValue('#subject-select');

    await fillMeeting(page, '09:00', '10:00', tomorrow);
    await page.click('#meeting-form button[type="submit"]');
    const row = page.locator(`#upcoming-list li[data-day="${tomorrow}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).to.equal('planned');
    expect(await page.locator('#upcoming-list li').count()).to.equal(1);
    await expectAccessible(page, 'teacher timetable');

    await row.getByRole('button', { name: /Start the session/ }).click();
    await page.waitForSelector(`#upcoming-list li[data-day="${tomorrow}"][data-state="created"]`);
    const sessions = await srv.store.sessions.list(org.id, { subjectId, fromDay: tomorrow, toDay: tomorrow, limit: 10, offset: 0 });
    expect(sessions.items.map((s) => [s.status, s.teacherId])).to.deep.equal([
      ['scheduled', (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!.id],
    ]);

    // Still there after a reload: it comes from the store, not the page.
    await page.reload();
    await page.waitForSelector(`#upcoming-list li[data-day="${tomorrow}"][data-state="created"]`);
  });

  it('asks before adding a meeting that double-books the teacher, and adds it only once confirmed', async () => {
    const { org, ada, cs101 } = await adaAndCs101();
    const tomorrow = addDays(dayIn(org.timezone, new Date()), 1);
    // Ada also teaches a club, which meets tomorrow from 11:00 to 12:00.
    const club = await srv.store.subjects.create(org.id, {
      code: 'CLUB1',
      name: 'Coding club',
      teacherIds: [ada.id],
      location: null,
      allowedIpRanges: [],
    });
    await addMeeting(org.id, club.id, isoWeekday(tomorrow), '11:00', '12:00');
    const page = await context.newPage();
    await logInAda(page, '#meeting-term option');
    await page.selectOption('#subject-select', cs101.id);

    const add = async (accept: boolean) => {
      await fillMeeting(page, '11:30', '12:30', tomorrow);
      expect(await submitAnswering(page, accept)).to.contain("already has another subject's class at that time");
    };
    await add(false);
    await page.getByText(/already has a meeting of another subject/).waitFor();
    expect(await srv.store.timetable.listMeetings(org.id, cs101.id), 'declined: nothing added').to.deep.equal([]);
    await add(true);
    await page.locator('#meeting-list li', { hasText: '11:30–12:30' }).waitFor();
    expect((await srv.store.timetable.listMeetings(org.id, cs101.id)).map((m) => [m.weekday, m.startTime])).to.deep.equal([
      [isoWeekday(tomorrow), '11:30'],
    ]);
  });

  it("saves the teacher's own session defaults from the timetable panel, and shows them again after a reload", async () => {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const teacher = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const page = await context.newPage();
    await logInAda(page, '#ts-preset option[value="manual"]');
    await page.selectOption('#ts-preset', 'manual');
    await page.fill('#ts-grace', '3');
    await page.fill('#ts-code', '45');
    await page.click('#teacher-settings-form button[type="submit"]');
    await page.getByText('Saved.').waitFor();
    expect(await srv.store.timetable.getTeacherSettings(org.id, teacher.id)).to.deep.include({
      defaultPolicy: { preset: 'manual' },
      lateGraceMinutes: 3,
      codePeriodS: 45,
    });

    await page.reload();
    await page.waitForFunction(() => (document.querySelector('#ts-code') as HTMLInputElement | null)?.value === '45');
    expect([await page.inputValue('#ts-preset'), await page.inputValue('#ts-grace')]).to.deep.equal(['manual', '3']);
  });

  it('adds a meeting in its own room, edits it from the list, and its scheduled session follows', async () => {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const day = addDays(dayIn(org.timezone, new Date()), 2);
    const own = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 1366, height: 900 }, bypassCSP: true });
    try {
      own.setDefaultTimeout(8_000);
      const page = await own.newPage();
      await logInAda(page, '#meeting-term option');
      const subjectId = await page.inputValue('#subject-select');

      await fillMeeting(page, '13:00', '14:00', day);
      await page.getByLabel('Latitude').fill('51.51');
      await page.getByLabel('Longitude').fill('-0.12');
      await page.getByLabel('Radius (m)').fill('80');
      await page.getByLabel(/Networks/).fill('10.1.0.0/16, 192.0.2.0/24');
      await page.click('#meeting-submit');
      const item = page.locator('#meeting-list li', { hasText: '13:00–14:00' });
      await item.waitFor();
      expect(await item.innerText())
        .to.contain('80 m around 51.51, -0.12')
        .and.contain('10.1.0.0/16, 192.0.2.0/24');
      const meetingId = (await item.getAttribute('data-meeting'))!;
      expect(await srv.store.timetable.getMeeting(org.id, meetingId)).to.deep.include({
        location: { lat: 51.51, lon: -0.12, radiusM: 80 },
        allowedIpRanges: ['10.1.0.0/16', '192.0.2.0/24'],
      });

      const row = page.locator(`#upcoming-list li[data-day="${day}"]`);
      await row.getByRole('button', { name: /Start the session/ }).click();
      await page.waitForSelector(`#upcoming-list li[data-day="${day}"][data-state="created"]`);
      await expectAccessible(page, 'teacher timetable with meetings');

      await item.getByRole('button', { name: /Edit the meeting/ }).click();
      expect(await page.inputValue('#meeting-lat')).to.equal('51.51');
      await fillMeeting(page, '14:00', '15:00');
      await page.getByLabel(/Networks/).fill('192.0.2.0/24');
      await page.click('#meeting-submit');
      await page.getByText('1 scheduled session moved.').waitFor();
      await page.locator('#meeting-list li', { hasText: '14:00–15:00' }).waitFor();

      const sessions = await srv.store.sessions.list(org.id, { subjectId, fromDay: day, toDay: day, limit: 10, offset: 0 });
      expect(sessions.items).to.have.length(1);
      const [session] = sessions.items;
      expect(session!.status).to.equal('scheduled');
      expect(session!.startsAt.toISOString()).to.equal(instantAt(org.timezone, day, '14:00').toISOString());
      expect(session!.meetingId).to.equal(meetingId);
      expect(session!.room).to.deep.equal({ location: { lat: 51.51, lon: -0.12, radiusM: 80 }, allowedIpRanges: ['192.0.2.0/24'] });
      const [upcoming] = (await srv.store.timetable.listOccurrences(org.id, [meetingId], day, day)).map((o) => o.sessionId);
      expect(upcoming).to.equal(session!.id);
      expect(await page.locator(`#upcoming-list li[data-day="${day}"]`).innerText()).to.contain('Session scheduled');

      // A session scheduled by hand that day from 16:00: moving the meeting onto it is asked about.
      const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
      const extra = await srv.app.attendance.sessions.open(
        { id: ada.id, orgId: org.id, role: 'teacher' },
        {
          subjectId,
          startsAt: instantAt(org.timezone, day, '16:00').toISOString(),
          closesAt: instantAt(org.timezone, day, '17:00').toISOString(),
          policy: { preset: 'manual' },
        },
      );
      const moveTo = async (accept: boolean) => {
        await page
          .locator('#meeting-list li', { hasText: '14:00–15:00' })
          .getByRole('button', { name: /Edit the meeting/ })
          .click();
        await fillMeeting(page, '16:30', '17:30');
        expect(await submitAnswering(page, accept)).to.contain('already has a session at the new time');
      };
      await moveTo(false);
      await page.getByText(/already has a session at the meeting's new time/).waitFor();
      expect((await srv.store.timetable.getMeeting(org.id, meetingId))?.startTime, 'declined: nothing changed').to.equal('14:00');
      await moveTo(true);
      await page.locator('#meeting-list li', { hasText: '16:30–17:30' }).waitFor();
      const both = await srv.store.sessions.list(org.id, { subjectId, fromDay: day, toDay: day, limit: 10, offset: 0 });
      expect(both.items.map((s) => [s.id, s.startsAt.toISOString()]).sort()).to.deep.equal(
        [
          [session!.id, instantAt(org.timezone, day, '16:30').toISOString()],
          [extra.id, instantAt(org.timezone, day, '16:00').toISOString()],
        ].sort(),
      );
    } finally {
      await own.close();
    }
  });

  it("calls off tomorrow's meeting, cancelling its session, and deletes the weekly meeting after a confirmation", async () => {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const tomorrow = addDays(dayIn(org.timezone, new Date()), 1);
    const page = await context.newPage();
    const questions: string[] = [];
    let answer = true;
    page.on('dialog', (dialog) => {
      questions.push(dialog.message());
      void (answer ? dialog.accept() : dialog.dismiss());
    });
    await logInAda(page, '#meeting-term option');
    const subjectId = await page.inputValue('#subject-select');
    await fillMeeting(page, '11:00', '12:00', tomorrow);
    await page.click('#meeting-submit');
    const row = page.locator(`#upcoming-list li[data-day="${tomorrow}"]`);
    await row.getByRole('button', { name: /Start the session/ }).click();
    await page.waitForSelector(`#upcoming-list li[data-day="${tomorrow}"][data-state="created"]`);

    await row.getByRole('button', { name: /Call off the meeting of/ }).click();
    await page.waitForSelector(`#upcoming-list li[data-day="${tomorrow}"][data-state="cancelled"]`);
    expect(questions.at(-1)).to.match(/^Call off the meeting of .*\? Its session is cancelled/);
    await page.waitForFunction(() => /is called off\./.test(document.getElementById('meeting-status')?.textContent ?? ''));
    const sessions = await srv.store.sessions.list(org.id, { subjectId, fromDay: tomorrow, toDay: tomorrow, limit: 10, offset: 0 });
    expect(sessions.items.map((s) => s.status)).to.deep.equal(['cancelled']);
    expect(await row.getByRole('button', { name: /Call off/ }).count(), 'a called-off day offers no second call-off').to.equal(0);

    const item = page.locator('#meeting-list li[data-meeting]');
    const meetingId = (await item.getAttribute('data-meeting'))!;
    // Answering "no" keeps the meeting.
    answer = false;
    await item.getByRole('button', { name: /Delete the meeting of/ }).click();
    expect(questions.at(-1)).to.match(/^Delete the weekly meeting of .*\?/);
    expect(await srv.store.timetable.getMeeting(org.id, meetingId)).to.not.equal(null);
    answer = true;
    await item.getByRole('button', { name: /Delete the meeting of/ }).click();
    await page.locator('#meeting-list li', { hasText: 'No weekly meeting yet.' }).waitFor();
    await page.waitForFunction(() => /is deleted\./.test(document.getElementById('meeting-status')?.textContent ?? ''));
    expect(await srv.store.timetable.getMeeting(org.id, meetingId)).to.equal(null);
    await expectAccessible(page, 'teacher timetable after a delete');
  });

  it('says in French what a refused edit already moved and cancelled, with their days, before and after the question', async () => {
    await ensurePagesBuilt('locale-teacher-fr.js');
    const { org, ada, cs101 } = await adaAndCs101();
    await srv.store.organisations.update(org.id, { settings: { ...org.settings, language: 'fr' } });
    await addMeeting(org.id, cs101.id, 3, '10:00', '11:00');
    const page = await context.newPage();
    // The refusal of an edit that an earlier run, paused past its locks, partly carried out
    // (the server's side: test/unit/domain/meeting-edit-partial.test.ts), as the API words it.
    await page.route('**/api/v1/meetings/*', async (route) => {
      if (route.request().method() !== 'PATCH') return route.fallback();
      await route.fulfill({
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({
          error: {
            code: 'TEACHER_DOUBLE_BOOKED',
            message:
              'The teacher already has a meeting of another subject at that time. The edit is partly applied: 1 session(s) already moved and 2 cancelled (details.partlyApplied) while the meeting is unchanged; send the edit again, as this answer asks, to finish it.',
            details: {
              teacherId: ada.id,
              meetingIds: [],
              subjectIds: [],
              field: 'teacherOverlap',
              partlyApplied: {
                rescheduled: ['s1'],
                cancelled: ['s2', 's3'],
                rescheduledDays: ['2026-03-04'],
                cancelledDays: ['2026-03-11', '2026-03-18'],
              },
            },
          },
        }),
      });
    });
    const questions = await refusedEdit(page, cs101.id, 'fr');
    const said = await page.locator('#timetable-error').innerText();
    for (const text of [questions[0] ?? '', said]) {
      expect(text).to.contain('Cette modification est en partie appliquée');
      expect(text).to.match(/1 séance déjà déplacée \([^)]*4 mars\)/);
      expect(text).to.match(/2 séances déjà annulées \([^)]*11 mars[^)]*18 mars\)/);
      expect(text, 'no English').to.not.match(/partly applied|session\(s\)|already moved/);
    }
    expect(questions).to.have.length(1);
    expect(said).to.contain('L’enseignant·e a déjà un cours d’une autre matière');
  });

  for (const [language, left] of [
    ['en', '3 sessions were left moved or cancelled by an earlier edit that was not finished.'],
    ['fr', '3 séances restent déplacées ou annulées par une modification précédente non terminée.'],
  ] as const) {
    it(`says (${language}) what a given-up edit left, on a refusal's question and error line and on the saved line`, async () => {
      if (language === 'fr') await ensurePagesBuilt('locale-teacher-fr.js');
      const { org, ada, cs101 } = await adaAndCs101();
      await srv.store.organisations.update(org.id, { settings: { ...org.settings, language } });
      const meeting = await addMeeting(org.id, cs101.id, 3, '10:00', '11:00');
      const abandoned = { rescheduled: ['s1'], cancelled: ['s2', 's3'] };
      const page = await context.newPage();
      // The API's answers when an earlier edit was refused and given up (the server's side:
      // test/unit/domain/meeting-edit-revision.test.ts and meeting-edit-trail.test.ts): this edit
      // refused first, then saved.
      let sent = 0;
      await page.route('**/api/v1/meetings/*', async (route) => {
        if (route.request().method() !== 'PATCH') return route.fallback();
        sent += 1;
        if (sent === 1) {
          return route.fulfill({
            status: 409,
            contentType: 'application/json',
            body: JSON.stringify({
              error: {
                code: 'TEACHER_DOUBLE_BOOKED',
                message:
                  'The teacher already has a meeting of another subject at that time. Another edit, given up, left 1 session(s) moved and 2 cancelled (details.abandoned); they stay so.',
                details: { teacherId: ada.id, meetingIds: [], subjectIds: [], field: 'teacherOverlap', abandoned },
              },
            }),
          });
        }
        return route.fulfill({
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({
            meeting: { ...meeting, startTime: '12:00', endTime: '13:00' },
            rescheduled: [],
            cancelled: [],
            abandoned,
          }),
        });
      });
      const questions = await refusedEdit(page, cs101.id, language);
      expect(questions).to.have.length(1);
      expect(questions[0]).to.contain(left);
      expect(await page.locator('#timetable-error').innerText()).to.contain(left);
      await page.click('#meeting-submit');
      await page.waitForFunction(() => (document.getElementById('meeting-status')?.textContent ?? '') !== '');
      expect(await page.locator('#meeting-status').innerText()).to.contain(left);
      expect(sent).to.equal(2);
    });
  }
});

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORDS } from '../../../src/domain/seed.js';
import { findOneUser, openAdminConsole, screenshotAdmin, showSection, type AdminConsole } from '../../support/admin-page.js';
import { refusal, type TestServer } from '../../support/http.js';

// The school's IT person on a normal week, from the admin console alone: a teacher locked out
// of their email gets a password set by the admin (handed over in person, changed at first
// login), and the console says it in the school's French as well as in English.

/** Finds one user by a search on the Users page and opens their row's Edit form. */
async function editUser(page: Page, query: string, edit: string): Promise<void> {
  await findOneUser(page, query);
  await page.click(`#users-body button:has-text("${edit}")`);
}

describe("admin console: the IT person's week (Chromium)", function () {
  this.timeout(60_000);

  let srv: TestServer;
  let page: Page;
  let admin: AdminConsole | undefined;

  before(async () => {
    admin = await openAdminConsole({ watch: (_ctx, tab) => tab.on('dialog', (dialog) => void dialog.accept()) });
    ({ srv, page } = admin);
  });
  after(() => admin?.close());

  it("sets a teacher's password from the Edit form: their logins end, the new one works and must be changed", async () => {
    const before = await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher);
    await editUser(page, 'ada@demo.school', 'Edit');
    expect(await page.isChecked('#uf-must-change')).to.equal(true);
    await page.fill('#uf-password', 'handed-over-1');
    await screenshotAdmin(page, 'users-set-password');
    await page.click('#user-save');
    await page.waitForFunction(() => (document.getElementById('users-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#users-status')).to.equal(
      'Saved Ada Lovelace with a new password: their logins were ended, and they must choose their own at their next login.',
    );
    // The form is empty again: the password typed is not left on the screen.
    expect(await page.inputValue('#uf-password')).to.equal('');
    expect(refusal(await srv.request('GET', '/api/v1/me', { token: before.accessToken }))[0]).to.equal(401);
    const after = await srv.request('POST', '/api/v1/auth/login', { body: { email: 'ada@demo.school', password: 'handed-over-1' } });
    expect(after.status).to.equal(200);
    expect(after.body.user.mustChangePassword).to.equal(true);
    await page.waitForSelector('#users-body td:has-text("Must change password")');
  });

  it("enrols a class by its student numbers without reading the school's whole list of students", async () => {
    const org = admin!.org;
    const leaver = (await srv.store.users.getByEmail(org.id, 'student03@demo.school'))!;
    await srv.store.users.update(org.id, leaver.id, { active: false });
    const listReads: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/v1\/users\?.*role=student/.test(r.url())) listReads.push(r.url());
    });
    await showSection(page, 'subjects');
    await page.fill('#sf-code', 'HIS2');
    await page.fill('#sf-name', 'History');
    await page.click('#subject-form button[type="submit"]');
    await page.waitForSelector('#subject-detail:not([hidden])');
    // S001 is no student's number, though ten contain it; S0003 left the school.
    await page.fill('#enrol-numbers', 'S0001 S0002 S001 S0003');
    await page.click('#enrol-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('students-caption')?.textContent === '2 enrolled students');
    await page.waitForFunction(() => (document.getElementById('enrol-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#enrol-error')).to.equal('No active student has these numbers: S001, S0003');
    expect(listReads).to.deep.equal([]);
  });

  it('names the students deactivated between their lookup and their enrolment, and enrols the others', async () => {
    const org = admin!.org;
    const enrolled = async () =>
      (await srv.store.subjects.listEnrolled(org.id, (await srv.store.subjects.getByCodes(org.id, ['HIS2']))[0]!.id)).length;
    const finished = async (caption: string) => {
      await page.waitForFunction((text) => document.getElementById('students-caption')?.textContent === text, caption);
      await page.waitForFunction(() => /^Enrolled/.test(document.getElementById('enrol-status')?.textContent ?? ''));
    };
    // Deactivated inside the store's write, after the server's check: the answer's refusedStudentIds.
    const inStore = (await srv.store.users.getByEmail(org.id, 'student05@demo.school'))!;
    const enrolMany = srv.store.subjects.enrolMany.bind(srv.store.subjects);
    srv.store.subjects.enrolMany = async (orgId, bySubject, entry) => {
      if ([...bySubject.values()].some((ids) => ids.includes(inStore.id)))
        await srv.store.users.update(orgId, inStore.id, { active: false });
      return enrolMany(orgId, bySubject, entry);
    };
    await page.fill('#enrol-numbers', 'S0004 S0005');
    await page.click('#enrol-form button[type="submit"]');
    await finished('3 enrolled students');
    srv.store.subjects.enrolMany = enrolMany;
    expect(await page.textContent('#enrol-status')).to.equal('Enrolled 1 new student; 3 in total.');
    expect(await page.textContent('#enrol-error')).to.equal(
      `Not enrolled, deactivated or erased since they were looked up: ${inStore.name} (S0005)`,
    );

    // Deactivated after the page looked the numbers up, before its request: refused by the server's
    // check (VALIDATION_FAILED naming them), sent again without them.
    const beforeRequest = (await srv.store.users.getByEmail(org.id, 'student07@demo.school'))!;
    await page.route('**/api/v1/subjects/*/enrolments', async (route) => {
      if (route.request().method() === 'POST') await srv.store.users.update(org.id, beforeRequest.id, { active: false });
      await route.continue();
    });
    await page.fill('#enrol-numbers', 'S0006 S0007 S0008');
    await page.click('#enrol-form button[type="submit"]');
    await finished('5 enrolled students');
    await page.unroute('**/api/v1/subjects/*/enrolments');
    expect(await page.textContent('#enrol-status')).to.equal('Enrolled 2 new students; 5 in total.');
    expect(await page.textContent('#enrol-error')).to.equal(
      `Not enrolled, deactivated or erased since they were looked up: ${beforeRequest.name} (S0007)`,
    );
    expect(await enrolled()).to.equal(5);
  });

  it('a password too short is refused in the form before anything is sent', async () => {
    await editUser(page, 'alan@demo.school', 'Edit');
    expect(await page.inputValue('#uf-email'), "Alan's form, not the last search's user").to.equal('alan@demo.school');
    const patches: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'PATCH') patches.push(r.url());
    });
    await page.fill('#uf-password', 'short');
    // Listening before the click: the browser's own check answers with this event instead of submitting.
    await page.$eval('#uf-password', (input) =>
      input.addEventListener('invalid', () => input.setAttribute('data-refused', ''), { once: true }),
    );
    await page.click('#user-save');
    await page.waitForSelector('#uf-password[data-refused]', { state: 'attached' });
    expect(patches).to.deep.equal([]);
    await page.click('#user-cancel');
  });
});

describe("admin console: the IT person's week, in the school's French (Chromium)", function () {
  this.timeout(60_000);

  let page: Page;
  let admin: AdminConsole | undefined;

  before(async () => {
    admin = await openAdminConsole({ language: 'fr', context: { locale: 'en-GB', timezoneId: 'UTC' } });
    ({ page } = admin);
  });
  after(() => admin?.close());

  it("words the subject's teachers form in French, its empty choice too", async () => {
    await showSection(page, 'subjects');
    await page.click('#subjects-body button[aria-label$="CS101"]');
    await page.waitForSelector('#subject-detail:not([hidden])');
    expect(await page.locator('#teachers-first option').first().textContent()).to.equal('Aucun');
  });

  it('offers to set a password in French', async () => {
    await editUser(page, 'ada@demo.school', 'Modifier');
    expect(await page.textContent('label[for="uf-password"]')).to.match(/^Nouveau mot de passe/);
    await page.fill('#uf-password', 'remis-en-main-1');
    await page.click('#user-save');
    await page.waitForFunction(() => (document.getElementById('users-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#users-status')).to.equal(
      'Ada Lovelace enregistré avec un nouveau mot de passe\u00a0: ses connexions sont fermées, et il lui faudra en choisir un autre à sa prochaine connexion.',
    );
  });
});

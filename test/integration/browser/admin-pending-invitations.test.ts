import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { NewUser } from '../../../src/domain/ports/users.js';
import { acceptingDialogs, openAdminConsole, screenshotAdmin, showSection, type AdminConsole } from '../../support/admin-page.js';
import type { TestServer } from '../../support/http.js';

// Two weeks into term, part of the school has not accepted its invitation. The IT person lists
// those who have not chosen a password (more than a page of them) and invites them again in
// one click, from the Users page: every page of them, not the one shown, and none who has a
// password or was deactivated.

const pupil = (i: number, overrides: Partial<NewUser> = {}): NewUser => ({
  name: `Late Pupil ${String(i).padStart(2, '0')}`,
  email: `late${i}@new.test`,
  role: 'student',
  studentNumber: `L${i}`,
  passwordHash: null,
  active: true,
  ...overrides,
});

describe('admin console: who has not accepted an invitation, invited again (Chromium)', function () {
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

  const invited = async () =>
    (await srv.store.outbox.list(org.id, { limit: 200, offset: 0 })).items.filter((m) => m.category === 'invitation').map((m) => m.to);

  it('lists only those without a password, over pages, and invites every one of them again', async () => {
    const pending = await srv.store.users.createMany(
      org.id,
      Array.from({ length: 30 }, (_, i) => pupil(i + 1)),
    );
    // Not to be invited: one who left (deactivated) and one who accepted (has a password).
    await srv.store.users.create(org.id, pupil(31, { active: false }));
    await srv.store.users.create(org.id, pupil(32, { passwordHash: 'chosen' }));

    await showSection(page, 'users');
    await page.selectOption('#user-password', 'false');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('users-caption')?.textContent === 'Users 1 to 25 of 30');
    const shown = await page.$$eval('#users-body tr td:nth-child(5)', (cells) => [...new Set(cells.map((c) => c.textContent))]);
    expect(shown).to.deep.equal(['No password yet (invite)']);
    await screenshotAdmin(page, 'users-pending-invitations');

    await page.click('#users-invite-pending');
    await page.waitForFunction(() => /queued/.test(document.getElementById('users-status')?.textContent ?? ''));
    expect(dialogs).to.deep.equal([
      'Email a new invitation to the 30 active users listed who have not chosen a password? The links they were sent before stop working.',
    ]);
    expect(await page.textContent('#users-status')).to.equal(
      '30 invitations queued. They are sent in the background; the Email outbox shows each one’s delivery.',
    );
    expect(await page.textContent('#users-error')).to.equal('');
    expect(await invited()).to.have.members(pending.map((u) => u.email));
  });

  it('is not offered where nobody listed could be invited', async () => {
    await page.selectOption('#user-password', 'true');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => !/of 30$/.test(document.getElementById('users-caption')?.textContent ?? ''));
    expect(await page.isVisible('#users-invite-pending')).to.equal(false);
    await page.selectOption('#user-password', 'false');
    await page.selectOption('#user-active', 'false');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('users-caption')?.textContent === 'Users 1 to 1 of 1');
    expect(await page.isVisible('#users-invite-pending')).to.equal(false);
  });
});

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { DEMO_PASSWORDS } from '../../../src/domain/seed.js';
import { openAdminConsole, showSection, type AdminConsole } from '../../support/admin-page.js';
import { expectAccessible } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';
import { sampleBundle } from '../../support/oneroster-bundle.js';
import { newSession } from '../../contract/fixtures.js';

// What the server writes and the admin console shows, in a French school (docs/languages.md):
// an import's refused rows, a OneRoster report's reasons, a disabled webhook, the audit trail's
// changed fields and the clock times, all in French, over an American English browser (whose
// habit is the 12-hour clock). The server's English reasons stay in the API for its clients.
describe('the server’s words in the admin console, in French (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;

  before(async () => {
    admin = await openAdminConsole({ language: 'fr', context: { locale: 'en-US', timezoneId: 'America/New_York' } });
    ({ srv, org, page } = admin);
  });
  after(() => admin?.close());

  const cells = (selector: string) => page.locator(selector).allTextContents();

  it('says why rows of a users CSV are refused in French; the API keeps the English reason beside the codes', async () => {
    await showSection(page, 'import');
    const csv = [
      'name,email,role,student_number',
      'Un,pas-un-email,parent,F001',
      'Deux,deux@demo.school,student,F002',
      'Trois,deux@demo.school,student,',
    ].join('\n');
    await page.setInputFiles('#import-file', { name: 'eleves.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('#import-form button[type="submit"]');
    await page.waitForSelector('#import-errors-block:not([hidden])');
    expect(await cells('#import-errors-body td:last-child')).to.deep.equal([
      'l’e-mail n’est pas valide\u00a0; rôle inconnu (admin, teacher ou student attendu)',
      'e-mail en double dans le fichier (d’abord à la ligne 3)\u00a0; le numéro d’élève manque pour un élève',
    ]);
    const { accessToken } = await srv.login('admin@demo.school', DEMO_PASSWORDS.admin);
    const api = await srv.request<{ error: { details: { rows: unknown[] } } }>('POST', '/api/v1/users/import?dryRun=true', {
      token: accessToken,
      raw: csv,
      contentType: 'text/csv',
    });
    expect(api.body.error.details.rows[0]).to.deep.equal({
      line: 2,
      email: null,
      reason: 'email is invalid; unknown role (expected admin, teacher or student)',
      problems: [
        { code: 'emailInvalid', params: {}, column: 'email' },
        { code: 'roleUnknown', params: {}, column: 'role' },
      ],
    });
    await expectAccessible(page, 'refused CSV rows in French');
  });

  it('says why rows of a guardian contacts CSV are refused in French', async () => {
    await showSection(page, 'import');
    const csv = ['student_number,name,relation,email,language', 'NOPE,Mia,mère,mia@example.test,fr', 'S0001,,mère,pas-un-email,fr'].join(
      '\n',
    );
    await page.setInputFiles('#guardians-file', { name: 'responsables.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('#guardians-form button[type="submit"]');
    await page.waitForSelector('#guardians-errors-block:not([hidden])');
    expect(await cells('#guardians-errors-body td')).to.deep.equal([
      'aucun élève ne correspond',
      'colonne name\u00a0: de 1 à 200 caractères\u00a0; l’e-mail n’est pas valide',
    ]);
  });

  it('names a refused contact’s or category’s field by its column heading, never the API’s key, in French', async () => {
    await showSection(page, 'users');
    await page.fill('#user-q', 'student03');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 1);
    await page.click('#users-body tr button[aria-label^="Responsables"]');
    await page.waitForSelector('#guardians-panel:not([hidden])');
    await page.locator('#guardian-form').evaluate((f) => ((f as HTMLFormElement).noValidate = true));
    for (const contact of [
      { name: 'Mia', relation: 'mère', email: 'mia@example.test', language: 'français' },
      { name: '', relation: 'père', email: 'pas-un-email', language: 'fr' },
    ]) {
      await page.click('#guardian-add');
      const added = page.locator('#guardian-body tr').last();
      for (const [name, value] of Object.entries(contact)) await added.locator(`input[name="${name}"]`).fill(value);
    }
    await page.click('#guardian-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('guardian-error')?.textContent ?? '') !== '');
    const rows = await page.locator('#guardian-body tr').count();
    expect(await page.textContent('#guardian-error')).to.equal(
      [
        `Ligne ${rows - 1}, Langue\u00a0: pas un code de langue (comme en ou fr-CA).`,
        `Ligne ${rows}, Nom\u00a0: au moins 1 caractère.`,
        `Ligne ${rows}, E-mail\u00a0: pas une adresse e-mail.`,
      ].join(' '),
    );
    await page.click('#guardian-close');

    await showSection(page, 'organisation');
    await page.waitForFunction(() => document.querySelectorAll('#cat-body tr').length === 3);
    await page.locator('#cat-form').evaluate((f) => ((f as HTMLFormElement).noValidate = true));
    await page
      .locator('#cat-body input[name="label"]')
      .first()
      .evaluate((e) => ((e as HTMLInputElement).value = 'x'.repeat(101)));
    await page.click('#cat-add');
    await page.locator('#cat-body tr').last().locator('input[name="code"]').fill('Sortie-1');
    await page.locator('#cat-body tr').last().locator('input[name="label"]').fill('Sortie');
    await page.click('#cat-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('cat-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#cat-error')).to.equal(
      'Ligne 1, Libellé\u00a0: au plus 100 caractères. Ligne 4, Code\u00a0: des majuscules, des chiffres et des _, en commençant par une lettre (comme MEDICAL).',
    );
    await expectAccessible(page, 'refused contacts and categories in French');
  });

  it('says the OneRoster report’s reasons and a refused bundle’s problems in French', async () => {
    await showSection(page, 'oneroster');
    const files = (bundle: Record<string, string | undefined>) =>
      Object.entries(bundle).map(([name, text]) => ({ name: `${name}.csv`, mimeType: 'text/csv', buffer: Buffer.from(text ?? '') }));
    const bundle = sampleBundle();
    await page.setInputFiles('#oneroster-files', files({ ...bundle, classes: bundle.classes!.replace('termSourcedIds', 'terms') }));
    await page.click('#oneroster-form button[type="submit"]');
    await page.waitForSelector('#oneroster-refused-block:not([hidden])');
    expect(await cells('#oneroster-refused-body td')).to.deep.equal(['classes.csv', '1', 'colonne(s) manquante(s)\u00a0: termSourcedIds']);

    await page.setInputFiles('#oneroster-files', files(bundle));
    await page.click('#oneroster-form button[type="submit"]');
    await page.waitForSelector('#oneroster-go:not([hidden])');
    const why = await cells('#oneroster-rows-body td:last-child');
    expect(why).to.include.members(['l’e-mail n’est pas valide', 'l’utilisateur s-3 n’a pas été importé (voir sa ligne)']);
    expect(why.filter((w) => /is invalid|not imported|is not imported/.test(w))).to.deep.equal([]);
    await expectAccessible(page, 'OneRoster reasons in French');
  });

  it('names a refused form’s bad fields and says what is wrong in French; the API keeps its English message beside the code', async () => {
    const cs101 = (await srv.store.subjects.list(org.id, { limit: 10, offset: 0 })).items.find((s) => s.code === 'CS101')!;
    await showSection(page, 'subjects');
    await page.click(`#subjects-body tr[data-subject-id="${cs101.id}"] button`);
    await page.waitForSelector('#subject-detail:not([hidden])');
    await page.fill('#net-range', '10.0.0.300/8');
    await page.click('#net-add');
    await page.click('#network-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('network-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#network-error')).to.equal(
      'La demande n’est pas valide\u00a0: Réseaux autorisés, élément 1\u00a0: pas une plage réseau (CIDR, comme 203.0.113.0/24) ni une adresse.',
    );
    const { accessToken } = await srv.login('admin@demo.school', DEMO_PASSWORDS.admin);
    const api = await srv.request<{ error: { details: { issues: unknown[] } } }>('PUT', `/api/v1/subjects/${cs101.id}/network`, {
      token: accessToken,
      body: { allowedIpRanges: ['10.0.0.300/8'], name: 'x'.repeat(3) },
    });
    expect(api.body.error.details.issues).to.deep.equal([
      {
        path: 'allowedIpRanges.0',
        message: 'Expected an IPv4 or IPv6 CIDR range or a bare address.',
        code: 'cidr',
        params: {},
      },
      { path: 'name', message: 'Unknown field.', code: 'unknownField', params: {} },
    ]);

    // A student without a student number: refused by the server itself (the field is optional for staff), said in French too.
    await showSection(page, 'users');
    await page.fill('#uf-name', 'Sans Numéro');
    await page.fill('#uf-email', 'sans-numero@demo.school');
    await page.selectOption('#uf-role', 'student');
    await page.uncheck('#uf-invite');
    await page.click('#user-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('user-form-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#user-form-error')).to.equal('La demande n’est pas valide\u00a0: Numéro d’élève\u00a0: obligatoire.');
    await expectAccessible(page, 'refused fields in French');
  });

  it('says why the server disabled a webhook in French, with French dates', async () => {
    const endpoint = await srv.store.webhooks.createEndpoint(
      org.id,
      { url: 'https://sis.example.org/hook', description: '', secret: 's'.repeat(32), events: ['session.opened'] },
      new Date('2026-12-01T09:00:00Z'),
    );
    const since = new Date('2026-12-01T09:30:00Z');
    await srv.store.webhooks.updateEndpoint(org.id, endpoint.id, { failingSince: since }, since);
    await srv.store.webhooks.disableEndpoint(
      org.id,
      endpoint.id,
      `every attempt failed since ${since.toISOString()}`,
      new Date('2026-12-04T09:45:00Z'),
    );
    await showSection(page, 'webhooks');
    await page.waitForSelector(`tr[data-endpoint-id="${endpoint.id}"]`);
    expect(await page.textContent(`tr[data-endpoint-id="${endpoint.id}"] .wh-state`)).to.equal(
      'Désactivé le 4 déc. 2026, 09:45\u00a0: toutes les tentatives échouent depuis le 1 déc. 2026, 09:30',
    );
  });

  it('names the audit trail’s changed fields in French', async () => {
    const user = (await srv.store.users.getByEmail(org.id, 'student05@demo.school'))!;
    await srv.store.audit.append({
      orgId: org.id,
      entityType: 'user',
      entityId: user.id,
      sessionId: null,
      actorId: null,
      action: 'user.update',
      from: { name: 'Student 05', studentNumber: 'S005' },
      to: { name: 'Élève Cinq', studentNumber: 'S055' },
      reason: null,
      ip: null,
      at: new Date(Date.now() + 60_000),
    });
    await showSection(page, 'audit');
    await page.waitForFunction(() => /Élève Cinq/.test(document.querySelector('#audit-body tr')?.textContent ?? ''));
    const changes = await page.locator('#audit-body tr').first().locator('td').allTextContents();
    expect(changes).to.include('Nom\u00a0: Student 05 → Élève Cinq\u00a0; Numéro d’élève\u00a0: S005 → S055');
  });

  it('writes clock times as French does (24-hour), not as the browser’s American habit', async () => {
    const cs101 = (await srv.store.subjects.list(org.id, { limit: 10, offset: 0 })).items.find((s) => s.code === 'CS101')!;
    await srv.store.sessions.create(
      org.id,
      newSession(cs101.id, cs101.teacherIds[0] ?? 'nobody', { startsAt: new Date('2026-12-04T13:00:00Z') }),
    );
    await showSection(page, 'class-photo');
    // The first subject's sessions load with the section: chosen after they are in, so that load cannot land last.
    await page.waitForSelector('#cp-session option', { state: 'attached' });
    await page.selectOption('#cp-subject', cs101.id);
    await page.waitForSelector('#cp-session option:text-is("13:00 à 14:00 (ouverte)")', { state: 'attached' });
    await expectAccessible(page, 'class photo times in French');
  });
});

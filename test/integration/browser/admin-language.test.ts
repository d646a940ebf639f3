import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { expectAccessible } from '../../support/browser.js';
import { openAdminConsole, showSection, type AdminConsole } from '../../support/admin-page.js';
import type { TestServer } from '../../support/http.js';

// The admin console in the school's language (docs/languages.md): the organisation's French over
// an English browser, the admin catalog fetched beside the shared and staff ones. The converted
// sections (shell, users, imports, organisation settings) read in French and still work.
describe('the admin console in the school’s language (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;
  const fetched: string[] = [];

  before(async () => {
    admin = await openAdminConsole({
      language: 'fr',
      context: { locale: 'en-GB' },
      watch: (ctx, tab) => {
        ctx.on('request', (r) => fetched.push(new URL(r.url()).pathname));
        tab.on('dialog', (dialog) => void dialog.accept());
      },
    });
    ({ srv, org, page } = admin);
  });
  after(() => admin?.close());

  it('shows the shell and the users section in French, fetching the admin catalog', async () => {
    expect(fetched).to.include.members(['/locale-fr.js', '/locale-staff-fr.js', '/locale-admin-fr.js']);
    expect(await page.title()).to.equal('Console d’administration · Présence en classe');
    expect(await page.textContent('.brand')).to.equal('Console d’administration');
    expect(await page.getAttribute('nav.tabs', 'aria-label')).to.equal('Rubriques de l’administration');
    expect(await page.locator('nav.tabs a').allTextContents()).to.include.members(['Utilisateurs', 'Import CSV', 'Établissement']);
    expect(await page.textContent('label[for="language"]')).to.equal('Langue');
    expect(await page.textContent('#users-title')).to.equal('Utilisateurs');
    await page.waitForSelector('#users-body tr');
    expect(await page.textContent('#users-caption')).to.match(/^Utilisateurs 1 à \d+ sur \d+$/);
    expect(await page.textContent('#users-body tr:first-child button')).to.equal('Modifier');
    expect(await page.textContent('#user-form-title')).to.equal('Ajouter un utilisateur');
    // The installed app's name follows the console's French, not this English browser's preference.
    expect(await page.getAttribute('link[rel="manifest"]', 'href')).to.equal('manifest.webmanifest?lang=fr');
    const manifest = await page.$eval('link[rel="manifest"]', (l) => (l as HTMLLinkElement).href);
    expect(((await (await fetch(manifest, { headers: { 'accept-language': 'en-GB' } })).json()) as { name: string }).name).to.equal(
      'Présence en classe',
    );
    await expectAccessible(page, 'admin users in French');
  });

  it('adds and invites a user, said in French; a refused email is said in the staff catalog’s French', async () => {
    await page.fill('#uf-name', 'Inès Martin');
    await page.fill('#uf-email', 'ines@demo.school');
    await page.selectOption('#uf-role', 'student');
    await page.fill('#uf-number', 'F100');
    await page.check('#uf-invite');
    await page.click('#user-save');
    await page.waitForFunction(() => (document.getElementById('users-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#users-status')).to.equal(
      'Inès Martin ajouté, invitation en file d’attente\u00a0; la boîte d’envoi montre son envoi.',
    );
    const user = (await srv.store.users.getByEmail(org.id, 'ines@demo.school'))!;
    expect(user).to.include({ name: 'Inès Martin', role: 'student' });
    const invitations = (await srv.store.outbox.list(org.id, { limit: 100, offset: 0 })).items.filter((m) => m.to === 'ines@demo.school');
    expect(invitations.map((m) => m.category)).to.deep.equal(['invitation']);

    // The same address again: EMAIL_TAKEN, worded by the staff catalog, and nothing is added.
    await page.fill('#uf-name', 'Inès Encore');
    await page.fill('#uf-email', 'ines@demo.school');
    await page.fill('#uf-number', 'F101');
    await page.click('#user-save');
    await page.waitForFunction(() => (document.getElementById('user-form-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#user-form-error')).to.equal('Un compte avec cet e-mail existe déjà.');
    expect((await srv.store.users.list(org.id, { q: 'ines@demo.school', limit: 10, offset: 0 })).total).to.equal(1);
  });

  it('edits a student’s guardian contacts in French', async () => {
    await page.fill('#user-q', 'student03');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 1);
    await page.click('#users-body button[aria-label="Responsables de Student 03"]');
    await page.waitForSelector('#guardians-panel:not([hidden])');
    expect(await page.textContent('#guardians-title')).to.equal('Responsables de Student 03');
    expect(await page.textContent('#guardian-caption')).to.equal('Aucun responsable');
    await page.click('#guardian-add');
    await page.getByLabel('Nom 1', { exact: true }).fill('Claire Dubois');
    await page.getByLabel('Lien 1', { exact: true }).fill('mère');
    await page.getByLabel('E-mail 1', { exact: true }).fill('claire@home.test');
    await page.getByLabel('Langue 1', { exact: true }).fill('fr');
    await page.click('#guardian-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('guardian-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#guardian-status')).to.equal('1 responsable de Student 03 enregistré.');
    expect(await page.textContent('#guardian-caption')).to.equal('1 responsable');
    const student = (await srv.store.users.getByEmail(org.id, 'student03@demo.school'))!;
    expect((await srv.store.guardians.get(org.id, student.id)).map((g) => g.email)).to.deep.equal(['claire@home.test']);
    await expectAccessible(page, 'admin guardian contacts in French');
    await page.click('#guardian-close');
  });

  it('shows the imports in French and checks a file, counting rows in French', async () => {
    await showSection(page, 'import');
    expect(await page.textContent('#import-title')).to.equal('Importer des utilisateurs depuis un CSV');
    expect(await page.textContent('#guardians-form h2')).to.equal('Importer les responsables');
    const csv = 'name,email,role,student_number\nUn,un@demo.school,student,F001\nDeux,deux@demo.school,student,F002\n';
    await page.setInputFiles('#import-file', { name: 'eleves.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('#import-form button[type="submit"]');
    await page.waitForSelector('#import-go:not([hidden])');
    expect(await page.textContent('#import-progress-text')).to.equal('Les 2 lignes sont correctes. Rien n’est encore importé.');
    expect(await page.textContent('#import-go')).to.equal('Importer 2 utilisateurs');
    await expectAccessible(page, 'admin imports in French');
  });

  it('adds a subject, enrols students by number and sets its networks, said in French', async () => {
    await showSection(page, 'subjects');
    await page.waitForSelector('#subjects-body tr[data-subject-id]');
    expect(await page.textContent('#subjects-title')).to.equal('Matières');
    expect(await page.textContent('#subject-form h2')).to.equal('Ajouter une matière');
    await page.fill('#sf-code', 'FR101');
    await page.fill('#sf-name', 'Littérature');
    await page.click('#subject-form button[type="submit"]');
    await page.waitForSelector('#subject-detail:not([hidden])');
    expect(await page.textContent('#enrol-title')).to.equal('Élèves');
    expect(await page.textContent('#geofence-desc')).to.equal('Pas encore de position de salle.');
    await page.fill('#enrol-numbers', 'S0001, S0002, NOBODY');
    await page.click('#enrol-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('students-caption')?.textContent === '2 élèves inscrits');
    await page.waitForFunction(() => (document.getElementById('enrol-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#enrol-status')).to.equal('2 nouveaux élèves inscrits\u00a0; 2 au total.');
    expect(await page.textContent('#enrol-error')).to.equal('Aucun élève actif n’a ces numéros\u00a0: NOBODY');
    // A student deactivated after the lookup, before the enrolment reaches the store: named, not enrolled.
    const late = (await srv.store.users.getByEmail(org.id, 'student07@demo.school'))!;
    await page.route('**/api/v1/subjects/*/enrolments', async (route) => {
      if (route.request().method() === 'POST') await srv.store.users.update(org.id, late.id, { active: false });
      await route.continue();
    });
    await page.fill('#enrol-numbers', 'S0006, S0007, NOBODY');
    await page.click('#enrol-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('students-caption')?.textContent === '3 élèves inscrits');
    await page.unroute('**/api/v1/subjects/*/enrolments');
    await page.waitForFunction(() => /inscrit/.test(document.getElementById('enrol-status')?.textContent ?? ''));
    expect(await page.textContent('#enrol-status')).to.equal('1 nouvel élève inscrit\u00a0; 3 au total.');
    expect(await page.textContent('#enrol-error')).to.equal(
      `Aucun élève actif n’a ces numéros\u00a0: NOBODY Non inscrits, désactivés ou effacés depuis la recherche\u00a0: ${late.name} (S0007)`,
    );
    await page.fill('#net-range', '203.0.113.0/24');
    await page.click('#net-add');
    await page.click('#network-form button[type="submit"]');
    await page.waitForFunction(() => /enregistrés/.test(document.getElementById('net-mine-text')?.textContent ?? ''));
    expect(await page.textContent('#net-mine-text')).to.equal('Réseaux autorisés enregistrés\u00a0: 203.0.113.0/24.');
    const subject = (await srv.store.subjects.list(org.id, { q: 'FR101', limit: 1, offset: 0 })).items[0]!;
    expect(subject.allowedIpRanges).to.deep.equal(['203.0.113.0/24']);
    expect(await srv.store.subjects.listEnrolled(org.id, subject.id)).to.have.length(3);
    await expectAccessible(page, 'admin subjects in French');
  });

  it('adds a term and alert rules, said in French', async () => {
    await showSection(page, 'calendar');
    await page.waitForSelector('#terms-body td:has-text("Pas encore de période")');
    expect(await page.textContent('#calendar-title')).to.equal('Périodes et congés');
    await page.fill('#terms-name', 'Premier trimestre');
    await page.fill('#terms-start', '2026-09-01');
    await page.fill('#terms-end', '2026-12-18');
    await page.click('#terms-form button[type="submit"]');
    await page.waitForSelector('#terms-body th:has-text("Premier trimestre")');
    expect(await page.textContent('#terms-body tr td')).to.equal('du 2026-09-01 au 2026-12-18');
    expect((await srv.store.timetable.listTerms(org.id)).map((t) => t.name)).to.deep.equal(['Premier trimestre']);

    await showSection(page, 'alerts');
    await page.waitForSelector('#alert-rules-body td:has-text("Pas encore de règle")');
    expect(await page.textContent('#ar-count-label')).to.equal('Absences consécutives');
    await page.fill('#ar-count', '3');
    await page.click('#alert-rule-form button[type="submit"]');
    await page.waitForSelector('#alert-rules-body th:text-is("3 absences consécutives")');
    await page.selectOption('#ar-kind', 'low-attendance');
    expect(await page.textContent('#ar-count-label')).to.equal('Séances tenues dans la fenêtre avant de juger la présence');
    await page.fill('#ar-count', '1');
    await page.fill('#ar-threshold', '80');
    await page.fill('#ar-window', '30');
    await page.click('#alert-rule-form button[type="submit"]');
    await page.waitForSelector('#alert-rules-body th:text-is("Présence sous 80\u00a0% sur 30 jours (dès 1 séance tenue)")');
    await expectAccessible(page, 'admin alert rules in French');
  });

  it('says in French that no face proposal waits', async () => {
    await showSection(page, 'proposals');
    await page.waitForSelector('#proposals-list li:has-text("Rien n’attend d’approbation.")');
    expect(await page.textContent('#proposals-title')).to.equal('Visages proposés en attente');
  });

  it('lists the invitation in the email outbox, in French', async () => {
    await showSection(page, 'outbox');
    await page.waitForSelector('#outbox-body tr');
    expect(await page.textContent('#outbox-title')).to.equal('Boîte d’envoi');
    expect(await page.textContent('#outbox-caption')).to.match(/^E-mails 1 à \d+ sur \d+, du plus récent au plus ancien$/);
    expect(await page.locator('#outbox-body tr td:nth-child(4)').allTextContents()).to.include('Invitation');
    await expectAccessible(page, 'admin email outbox in French');
  });

  it('shows the class photo section in French', async () => {
    await showSection(page, 'class-photo');
    await page.waitForSelector('#cp-subject option', { state: 'attached' });
    expect(await page.textContent('#class-photo-title')).to.equal('Photo de classe');
    expect(await page.textContent('#cp-form button[type="submit"]')).to.equal('Trouver les élèves sur la photo');
    await page.selectOption('#cp-subject', { label: 'FR101 · Littérature' });
    await page.waitForSelector('#cp-session option:text-is("Aucune séance ouverte\u00a0: un enseignant doit d’abord en ouvrir une")', {
      state: 'attached',
    });
    await expectAccessible(page, 'admin class photo in French');
  });

  it('shows the OneRoster import and export in French; a backwards range is refused in French', async () => {
    await showSection(page, 'oneroster');
    expect(await page.textContent('#oneroster-form button[type="submit"]')).to.equal('Vérifier l’ensemble');
    expect(await page.textContent('#oneroster-export-title')).to.equal('Exporter les présences vers le logiciel de vie scolaire');
    await page.fill('#oneroster-export-from', '2026-03-06');
    await page.fill('#oneroster-export-to', '2026-03-02');
    await page.click('#oneroster-export-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('oneroster-export-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#oneroster-export-error')).to.equal(
      'Le jour «\u00a0Du\u00a0» ne doit pas être après le jour «\u00a0Au\u00a0».',
    );
    await expectAccessible(page, 'admin OneRoster in French');
  });

  it('shows the webhooks section in French; an endpoint without events is refused in French', async () => {
    await showSection(page, 'webhooks');
    await page.waitForSelector('#wh-body td:has-text("Pas encore de point de réception")');
    expect(await page.textContent('#wh-form h2')).to.equal('Ajouter un point de réception');
    expect(await page.locator('#wh-events label').first().textContent()).to.equal('session.opened Une séance s’ouvre (ou est planifiée)');
    await page.fill('#wh-url', 'https://sis.example.org/hook');
    await page.click('#wh-form button[type="submit"]');
    expect(await page.textContent('#wh-form-error')).to.equal('Choisissez au moins un événement.');
    expect(await srv.store.webhooks.listEndpoints(org.id)).to.deep.equal([]);
    await expectAccessible(page, 'admin webhooks in French');
  });

  it('records a guardian’s consent for a face reference, said in French', async () => {
    await showSection(page, 'faces');
    expect(await page.textContent('#faces-title')).to.equal('Visages de référence');
    await page.fill('#face-q', 'student04');
    await page.click('#face-search button[type="submit"]');
    await page.click('#face-results button[aria-label="Choisir Student 04"]');
    await page.waitForFunction(() => /^Aucun consentement enregistré/.test(document.getElementById('consent-status')?.textContent ?? ''));
    expect(await page.textContent('#face-status')).to.equal(
      'Pas encore de visage de référence\u00a0: les pointages par selfie vont à l’enseignant pour examen.',
    );
    await page.fill('#consent-guardian', 'Marie Curie');
    await page.fill('#consent-version', '2026-09');
    await page.click('#consent-form button[type="submit"]');
    await page.waitForFunction(() =>
      /^Consentement en vigueur\u00a0: donné par son responsable Marie Curie le .*, version du texte 2026-09\.$/.test(
        document.getElementById('consent-status')?.textContent ?? '',
      ),
    );
    await expectAccessible(page, 'admin face references in French');
  });

  it('saves an organisation setting in French', async () => {
    await showSection(page, 'organisation');
    await page.waitForFunction(() => (document.getElementById('org-name') as HTMLInputElement).value !== '');
    expect(await page.textContent('#org-title')).to.equal('Paramètres de l’établissement');
    expect(await page.textContent('label[for="org-shared-device"]')).to.equal(
      'Quand un deuxième élève pointe depuis un appareil déjà utilisé pendant la séance',
    );
    expect(await page.textContent('#org-shared-device option[value="refuse"]')).to.equal('Refuser le pointage');
    expect(await page.textContent('#cat-title')).to.equal('Motifs d’absence');
    await page.waitForFunction(() => document.querySelectorAll('#cat-body tr').length === 3);
    await page.fill('#org-risk-threshold', '70');
    await page.click('#org-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('org-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#org-status')).to.equal('Paramètres enregistrés. Les séances ouvertes désormais les appliquent.');
    const saved = (await srv.store.organisations.get(org.id))!;
    expect(saved.settings).to.include({ riskThreshold: 70, language: 'fr' });
    const before = (await srv.store.organisations.get(org.id))!.settings.absenceCategories;
    // A code given twice: the row, the field and the server's reason (its code) said in French; nothing saved.
    await page.click('#cat-add');
    const added = page.locator('#cat-body tr').last();
    await added.locator('input[name="code"]').fill('MEDICAL');
    await added.locator('input[name="label"]').fill('Encore');
    await page.click('#cat-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('cat-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#cat-error')).to.equal('Ligne 4, Code\u00a0: MEDICAL figure deux fois.');
    await added.locator('button').click();
    // Every category removed: refused on the page, in French, and nothing is saved.
    for (const code of ['MEDICAL', 'SCHOOL_TRIP', 'UNAUTHORISED'])
      await page.click(`#cat-body button[aria-label="Retirer le motif ${code}"]`);
    await page.click('#cat-form button[type="submit"]');
    expect(await page.textContent('#cat-error')).to.equal('Gardez au moins un motif.');
    expect((await srv.store.organisations.get(org.id))!.settings.absenceCategories).to.deep.equal(before);
    await expectAccessible(page, 'admin organisation settings in French');
  });

  it('shows the audit trail in French: actions named in words, dates in French, a search by user, refusals in French; the CSV in French', async () => {
    await showSection(page, 'audit');
    await page.waitForFunction(() =>
      /^Tout l’établissement\u00a0: entrées 1 à \d+ sur \d+, de la plus récente à la plus ancienne$/.test(
        document.getElementById('audit-caption')?.textContent ?? '',
      ),
    );
    expect(await page.textContent('#audit-title')).to.equal('Journal d’audit');
    expect(await page.getAttribute('#audit-form', 'aria-label')).to.equal('Entrées du journal');
    expect(await page.textContent('label[for="audit-kind"]')).to.equal('Entrées');
    expect(await page.textContent('#audit-kind option[value="actor"]')).to.equal('Faites par un utilisateur');
    expect(await page.locator('#tab-audit thead th').allTextContents()).to.deep.equal([
      'Date',
      'Action',
      'Par',
      'Concerne',
      'Modifications',
      'Motif',
    ]);
    expect(await page.textContent('#audit-csv')).to.equal('Télécharger en CSV');
    expect(await page.getAttribute('#audit-actions optgroup:has(option[value="organisation.update"])', 'label')).to.equal('Établissement');
    expect(await page.textContent('#audit-actions option[value="organisation.update"]')).to.equal('Paramètres modifiés');
    // What this admin did in the other sections, each action in words.
    const shown = await page.locator('#audit-body td:nth-child(2)').allTextContents();
    expect(shown).to.include.members(['Utilisateur ajouté', 'Matière ajoutée', 'Paramètres modifiés']);
    expect(shown.filter((a) => /^[a-z]+\.[a-z]/.test(a))).to.deep.equal([]);
    // Times in French, in the organisation's zone.
    const zone = (await srv.store.organisations.get(org.id))!.timezone;
    const time = page.locator('#audit-body time').first();
    const at = (await time.getAttribute('datetime'))!;
    expect(await time.textContent()).to.equal(
      new Intl.DateTimeFormat('fr-FR', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }).format(new Date(at)),
    );
    await expectAccessible(page, 'admin audit trail in French');

    // What was done to one user, found by email, narrowed to one action; counted in French.
    await page.selectOption('#audit-kind', 'user');
    await page.fill('#audit-user', 'ines@demo.school');
    await page.selectOption('#audit-actions', ['user.create']);
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('audit-status')?.textContent === '1 entrée trouvée.');
    expect(await page.textContent('#audit-caption')).to.equal(
      'Modifications de Inès Martin (Utilisateur ajouté)\u00a0: entrées 1 à 1 sur 1, de la plus récente à la plus ancienne',
    );
    expect(await page.locator('#audit-body td').allTextContents()).to.deep.include.members([
      'Utilisateur ajouté',
      'Demo Admin',
      'Inès Martin',
    ]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const ines = (await srv.store.users.getByEmail(org.id, 'ines@demo.school'))!;
    const admin = (await srv.store.users.getByEmail(org.id, 'admin@demo.school'))!;
    // The file for a person, in the page's language: French words, semicolons, the byte order mark (text() would drop it).
    const api = await fetch(`${srv.baseUrl}/api/v1/reports/audit.csv?entityType=user&entityId=${ines.id}&action=user.create&lang=fr`, {
      headers: { authorization: `Bearer ${srv.app.tokenService.signAccess(admin).token}` },
    });
    expect(csv).to.equal(Buffer.from(await api.arrayBuffer()).toString('utf8'));
    expect(csv).to.match(/^\uFEFFDate;Concerne;/);
    expect(csv.split('\n')[1]).to.include(';Utilisateur;').and.include(';Utilisateur ajouté;');
    await expectAccessible(page, 'admin audit trail of a user in French');

    // An unknown user and a backwards range: refused in French, nothing shown changes.
    await page.fill('#audit-user', 'nobody@demo.school');
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('audit-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#audit-error')).to.equal('Aucun utilisateur ne correspond à «\u00a0nobody@demo.school\u00a0».');
    await page.fill('#audit-user', 'ines@demo.school');
    await page.fill('#audit-from', '2026-03-06');
    await page.fill('#audit-to', '2026-03-02');
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => /^Le jour/.test(document.getElementById('audit-error')?.textContent ?? ''));
    expect(await page.textContent('#audit-error')).to.equal('Le jour «\u00a0Du\u00a0» ne doit pas être après le jour «\u00a0Au\u00a0».');
    expect(await page.locator('#audit-body tr').count()).to.equal(1);
    await page.fill('#audit-from', '');
    await page.fill('#audit-to', '');
    await page.selectOption('#audit-actions', []);
  });

  it('the Language menu switches the console to the admin’s own English, kept as their preference', async () => {
    await page.selectOption('#language', 'en');
    await page.waitForFunction(
      () => document.documentElement.lang === 'en' && document.getElementById('org-title')?.textContent === 'Organisation settings',
    );
    expect(await page.textContent('.brand')).to.equal('Admin console');
    expect(await page.getAttribute('link[rel="manifest"]', 'href')).to.equal('manifest.webmanifest?lang=en');
    const admin = (await srv.store.users.getByEmail(org.id, 'admin@demo.school'))!;
    const res = await fetch(`${srv.baseUrl}/api/v1/me/notification-preferences`, {
      headers: { authorization: `Bearer ${srv.app.tokenService.signAccess(admin).token}` },
    });
    expect(((await res.json()) as { language: string | null }).language).to.equal('en');
  });
});

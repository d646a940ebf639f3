import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { createSelfSignedCertificate } from '../../../src/tls/self-signed.js';
import { createUser, PASSWORD } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { onFreePort } from '../../../scripts/lib/ports.js';
import { decodedMail, startSmtpServer, type TestSmtpServer } from '../../support/mail.js';
import { launchChromium, ensurePagesBuilt, logIn } from '../../support/browser.js';

// A school's first day, as docs/deploy.md and the README describe it, in one browser: the node
// serves HTTPS for its school-network name, the admin imports students from CSV and invites
// them, a student follows the link from the email on their phone, chooses a password, logs in
// and checks in with their location to the session their teacher opened.

const HOST = 'school.test';
const LAPTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
const CLASSROOM = { lat: 48.8566, lon: 2.3522, radiusM: 100 };
const PEOPLE = [
  'Ines Martin,ines@school.test,student,S001',
  'Jules Petit,jules@school.test,student,S002',
  'Rosa Parks,rosa@school.test,teacher,',
];
const CSV = ['name,email,role,student_number', ...PEOPLE, ''].join('\n');

describe('a school onboards over HTTPS (Chromium): CSV import, emailed invitation, first check-in', function () {
  this.timeout(60_000);

  let certDir: string;
  let smtp: TestSmtpServer;
  let srv: TestServer;
  let browser: Browser;
  let origin: string;
  let subject: Subject;
  const contexts: BrowserContext[] = [];

  before(async function () {
    await ensurePagesBuilt('admin.js');
    certDir = mkdtempSync(path.join(tmpdir(), 'attendance-onboard-'));
    const made = createSelfSignedCertificate({ names: [HOST] });
    writeFileSync(path.join(certDir, 'cert.pem'), made.cert);
    writeFileSync(path.join(certDir, 'key.pem'), made.key);
    smtp = await startSmtpServer();
    // PUBLIC_URL names the port before the server listens.
    srv = await onFreePort((port) => {
      origin = `https://${HOST}:${port}`;
      return startTestServer({
        PORT: String(port),
        PUBLIC_URL: origin,
        SMTP_URL: smtp.url,
        TLS_CERT_FILE: path.join(certDir, 'cert.pem'),
        TLS_KEY_FILE: path.join(certDir, 'key.pem'),
      });
    });
    const org = await srv.store.organisations.create({ name: 'Lycée Test', slug: 'lycee', timezone: 'Europe/Paris' });
    await createUser(srv.store, org.id, 'admin', { email: 'head@school.test' });
    const teacher = await createUser(srv.store, org.id, 'teacher', { email: 'grace@school.test' });
    subject = await srv.store.subjects.create(org.id, {
      code: 'MATH7',
      name: 'Mathematics 7',
      teacherIds: [teacher.id],
      location: CLASSROOM,
      allowedIpRanges: [],
    });
    // Trusted as a certificate signed by a root installed on the device would be: this one
    // certificate only, so a wrong name or an expired certificate still fails.
    const spki = createHash('sha256')
      .update(createPublicKey(made.cert).export({ type: 'spki', format: 'der' }))
      .digest('base64');
    browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`]);
  });

  after(async () => {
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
    await smtp?.close();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  async function newPage(viewport: { width: number; height: number }, located = false): Promise<Page> {
    const ctx = await browser.newContext({
      baseURL: origin,
      viewport,
      ...(located
        ? { permissions: ['geolocation'], geolocation: { latitude: CLASSROOM.lat, longitude: CLASSROOM.lon, accuracy: 15 } }
        : {}),
    });
    ctx.setDefaultTimeout(10_000);
    contexts.push(ctx);
    return ctx.newPage();
  }

  it('an admin imports and invites; a student sets a password from the emailed link, logs in and checks in', async () => {
    const admin = await newPage(LAPTOP);
    await admin.goto('/admin.html#import');
    await logIn(admin, 'head@school.test', PASSWORD);
    const file = { name: 'students.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) };
    await admin.setInputFiles('#import-file', file);
    await admin.click('#import-form button[type="submit"]');
    await admin.click('#import-go');
    await admin.click('#import-invite');
    await admin.waitForSelector('#import-progress-text:has-text("3 invitation")');

    await admin.goto('/admin.html#subjects');
    await admin.click(`#subjects-body tr:has-text("MATH7") button`);
    await admin.setInputFiles('#enrol-file', file);
    await admin.click('#enrol-form button[type="submit"]');
    await admin.waitForSelector('#enrol-status:has-text("2 in total")');

    const mail = decodedMail((await smtp.next('ines@school.test')).raw);
    const link = /https:\/\/\S+\/reset\.html#token=[A-Za-z0-9_-]{43}&invite=1\S*/.exec(mail)?.[0];
    expect(link, mail).to.be.a('string');
    expect(link!.startsWith(`${origin}/reset.html#`), 'the link leads to PUBLIC_URL').to.equal(true);
    expect(mail, "the expiry on the school's clock").to.match(/until \w+day, \d{1,2} [A-Z][a-z]+ \d{4} at \d{2}:\d{2} CES?T\./);

    const phone = await newPage(PHONE, true);
    await phone.goto(link!);
    expect(await phone.evaluate(() => window.isSecureContext)).to.equal(true);
    // The link names whose password it is, for the password manager beside the new password.
    expect(link).to.match(/&email=ines%40school\.test$/);
    expect(await phone.inputValue('#set-username')).to.equal('ines@school.test');
    expect(phone.url(), 'the link out of the address bar').to.equal(`${origin}/reset.html`);
    await phone.fill('#new-password', 'ines-first-password');
    await phone.fill('#repeat-password', 'ines-first-password');
    await phone.click('#set-form button[type="submit"]');
    await phone.waitForSelector('#done-section:not([hidden])');
    await phone.click('#done-login');
    await phone.waitForURL(`${origin}/student.html`);
    // The link named whose password it is: the login form comes filled with the email (out of the
    // address bar again), the password next, on a phone's keyboard.
    expect(await phone.inputValue('#login-email')).to.equal('ines@school.test');
    expect(await phone.evaluate(() => document.activeElement?.id)).to.equal('login-password');

    const teacher = await newPage(LAPTOP);
    await teacher.goto('/teacher.html');
    await logIn(teacher, 'grace@school.test', PASSWORD);

    // A teacher's invitation leads to the teacher console, which the student page is not.
    const rosa = await newPage(LAPTOP);
    await rosa.goto(/https:\/\/\S+/.exec(decodedMail((await smtp.next('rosa@school.test')).raw))![0]);
    await rosa.fill('#new-password', 'rosa-first-password');
    await rosa.fill('#repeat-password', 'rosa-first-password');
    await rosa.click('#set-form button[type="submit"]');
    await rosa.click('#done-login');
    await rosa.waitForURL(`${origin}/teacher.html`);
    expect(await rosa.inputValue('#login-email')).to.equal('rosa@school.test');
    await logIn(rosa, 'rosa@school.test', 'rosa-first-password');
    await teacher.waitForSelector('#subject-select option:has-text("MATH7")', { state: 'attached' });
    await teacher.uncheck('#open-form input[name="rotatingCode"]');
    await teacher.click('#open-form button[type="submit"]');
    await teacher.waitForSelector('#session-section:not([hidden])');

    await logIn(phone, 'ines@school.test', 'ines-first-password');
    await phone.click('#session-list li:has-text("MATH7") button');
    await phone.waitForSelector('#checkin-section:not([hidden])');
    await phone.click('#share-location');
    await phone.waitForSelector('#location-status[data-ready="true"]');
    await phone.click('#submit-checkin');
    await phone.waitForSelector('#decision[data-status="present"]');
    await teacher.waitForSelector('#roster-body tr[data-status="present"]:has-text("Ines Martin")');

    expect(await srv.store.subjects.listEnrolled(subject.orgId, subject.id)).to.have.length(2);
  });
});

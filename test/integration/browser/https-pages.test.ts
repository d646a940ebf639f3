import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { createSelfSignedCertificate } from '../../../src/tls/self-signed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { launchChromium, ensurePagesBuilt, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

// Phones share their location and camera only with a secure context. These pages are opened the
// way a phone on the school network opens them: by a host name that is not localhost (school.test,
// mapped to 127.0.0.1 inside Chromium), once over HTTPS (the node serving a certificate for that
// name) and once over plain HTTP.

const HOST = 'school.test';
const PHONE = { width: 390, height: 844 };
/** The demo subject CS101's classroom (see src/domain/seed.ts): radius 100 m. */
const CLASSROOM = { latitude: 51.5246, longitude: -0.134, accuracy: 10 };

describe('pages opened by a host name that is not localhost (Chromium)', function () {
  this.timeout(30_000);

  let certDir: string;
  let secure: TestServer;
  let plain: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async function () {
    await ensurePagesBuilt('student.js');
    certDir = mkdtempSync(path.join(tmpdir(), 'attendance-tls-'));
    const made = createSelfSignedCertificate({ names: [HOST] });
    writeFileSync(path.join(certDir, 'cert.pem'), made.cert);
    writeFileSync(path.join(certDir, 'key.pem'), made.key);
    secure = await startTestServer({ TLS_CERT_FILE: path.join(certDir, 'cert.pem'), TLS_KEY_FILE: path.join(certDir, 'key.pem') });
    plain = await startTestServer();
    await seedDemo(secure.store, { passwords: cheapPasswordHasher() });
    await seedDemo(plain.store, { passwords: cheapPasswordHasher() });
    browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  });

  after(async () => {
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await secure?.cleanup();
    await plain?.cleanup();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  async function newPage(origin: string): Promise<Page> {
    const ctx = await browser.newContext({
      baseURL: origin,
      viewport: PHONE,
      // The test's own certificate is trusted by no authority; a school's is (docs/deploy.md).
      ignoreHTTPSErrors: true,
      permissions: ['geolocation'],
      geolocation: CLASSROOM,
    });
    ctx.setDefaultTimeout(8_000);
    contexts.push(ctx);
    return ctx.newPage();
  }

  const origin = (srv: TestServer, scheme: 'http' | 'https') => `${scheme}://${HOST}:${new URL(srv.baseUrl).port}`;

  async function openSession(teacher: Page): Promise<string> {
    await teacher.goto('/teacher.html');
    await logIn(teacher, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await teacher.waitForSelector('#subject-select option:has-text("CS101")', { state: 'attached' });
    await teacher.uncheck('#open-form input[name="rotatingCode"]');
    await teacher.click('#open-form button[type="submit"]');
    await teacher.waitForSelector('#session-section:not([hidden])');
    const sessionId = new URL(teacher.url()).searchParams.get('session') ?? '';
    expect(sessionId).to.not.equal('');
    return sessionId;
  }

  it('over HTTPS the student page is a secure context, gets a location and checks in', async () => {
    const teacher = await newPage(origin(secure, 'https'));
    const sessionId = await openSession(teacher);
    expect(await teacher.evaluate(() => window.isSecureContext)).to.equal(true);
    expect(await teacher.isHidden('#context-warning')).to.equal(true);

    const student = await newPage(origin(secure, 'https'));
    const response = await student.goto(`/student.html?session=${sessionId}`);
    expect(response?.url()).to.match(new RegExp(`^https://${HOST}:\\d+/student\\.html`));
    expect(await student.evaluate(() => window.isSecureContext)).to.equal(true);
    expect(await student.isHidden('#context-warning')).to.equal(true);
    await logIn(student, 'student01@demo.school', DEMO_PASSWORDS.student);
    await student.waitForSelector('#checkin-section:not([hidden])');
    await student.click('#share-location');
    await student.waitForSelector('#location-status[data-ready="true"]');
    expect(await student.textContent('#location-status')).to.contain('10 m');
    await student.click('#submit-checkin');
    await student.waitForSelector('#decision[data-status="present"]');
    await teacher.waitForSelector('#roster-body tr[data-status="present"]:has-text("Student 01")');
  });

  it('over plain HTTP the teacher is warned and the student page says why check-in cannot work and what to open instead', async () => {
    const teacher = await newPage(origin(plain, 'http'));
    const sessionId = await openSession(teacher);
    expect(await teacher.isVisible('#context-warning')).to.equal(true);
    expect(await teacher.textContent('#context-warning')).to.match(/not served over HTTPS.*join link/s);

    const student = await newPage(origin(plain, 'http'));
    await student.goto(`/student.html?session=${sessionId}`);
    expect(await student.evaluate(() => window.isSecureContext)).to.equal(false);
    // Shown before the login form, so the student does not try in vain.
    await student.waitForSelector('#context-warning:not([hidden])');
    const warning = (await student.textContent('#context-warning')) ?? '';
    expect(warning).to.contain('http://');
    expect(warning).to.match(/location and camera/);
    expect(warning).to.contain(`${origin(plain, 'https')}/student.html?session=${sessionId}`);

    // Trying anyway gets the same explanation next to the buttons, not a silent failure.
    await logIn(student, 'student01@demo.school', DEMO_PASSWORDS.student);
    await student.waitForSelector('#checkin-section:not([hidden])');
    await student.click('#share-location');
    expect(await student.textContent('#location-status')).to.contain('https://');
    expect(await student.getAttribute('#location-status', 'data-ready')).to.equal(null);
    await student.click('#submit-checkin');
    expect(await student.textContent('#checkin-error')).to.contain('https://');
    expect(await student.getAttribute('#decision', 'data-status')).to.equal('none');
  });
});

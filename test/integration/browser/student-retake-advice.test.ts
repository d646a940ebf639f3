import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import type { AnalyseResult, FaceFailureReason } from '../../../src/domain/face/face-types.js';
import type { User } from '../../../src/domain/ports/users.js';
import { studentEn } from '../../../src/web/locales/student-en.js';
import studentFr from '../../../src/web/locales/student-fr.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { FakeFaceEngine, fakeAnalysis, fakeFace, fakeRefusal } from '../../support/fake-face-engine.js';

const PHONE = { width: 360, height: 740 };
const SELFIE_ONLY = { geofence: false, network: false, rotatingCode: false, selfie: true };

type RetakeKey = Extract<keyof typeof studentEn, `student.retake.${string}`>;
type Refusal = FaceFailureReason | 'FACE_MISMATCH';

/**
 * Every refusal the retake advice covers (src/web/lib/selfie-advice.ts), with its advice, in two
 * sessions: the first four in one session of 5 attempts, the last two in one of 3, each ending
 * with a selfie that passes.
 */
const PLAN: [Refusal, RetakeKey][][] = [
  [
    ['FACE_NOT_FOUND', 'student.retake.noFace'],
    ['FACE_MULTIPLE', 'student.retake.oneFace'],
    ['FACE_TOO_SMALL', 'student.retake.closer'],
    ['FACE_LOW_QUALITY', 'student.retake.light'],
  ],
  [
    ['FACE_MISMATCH', 'student.retake.ownFace'],
    ['IMAGE_UNSUPPORTED_TYPE', 'student.retake.camera'],
  ],
];

// The retake advice a refused selfie shows on the student page (docs/student-page.md, face.md
// "Known limits"), in English and French, and the retake that then succeeds: the page's own camera
// (Chromium's fake device), its buttons, the real server; only the face engine is scripted, one
// answer per selfie in the order the student takes them.
describe('student page: a refused selfie says how to retake it, and the retake passes (Chromium)', function () {
  this.timeout(90_000);

  let srv: TestServer;
  let browser: Browser;
  let teacher: ClientSocket;
  let users: User[] = [];
  let orgId = '';
  let subjectId = '';
  const contexts: BrowserContext[] = [];
  const engine = new FakeFaceEngine();
  /** What the engine answers the next selfies, in order. */
  const answers: AnalyseResult[] = [];
  engine.fallback = () => {
    const next = answers.shift();
    if (!next) throw new Error('a selfie the test did not expect');
    return next;
  };
  /** Each student's enrolled face, far from the others' (no anti-proxy flag), and a stranger's. */
  const FACES = { student01: [1, 0, 0], student02: [0, 1, 0], stranger: [0, 0, 1] };

  before(async () => {
    await ensurePagesBuilt('locale-student-fr.js');
    srv = await startTestServer({}, { face: engine });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    orgId = (await srv.store.organisations.getBySlug('demo'))!.id;
    users = (await srv.store.users.list(orgId, { limit: 1_000, offset: 0 })).items;
    subjectId = (await srv.store.subjects.list(orgId, { limit: 10, offset: 0 })).items[0]!.id;
    for (const name of ['student01', 'student02'] as const) {
      const user = byEmail(`${name}@demo.school`);
      await srv.store.faces.put({ orgId, userId: user.id, modelId: 'fake', modelVersion: '1', embeddings: [FACES[name]], photos: null });
    }
    // The second student reads the page in French, their own choice (docs/languages.md).
    await srv.store.notificationPreferences.put(orgId, byEmail('student02@demo.school').id, { language: 'fr', unsubscribed: [] });
    teacher = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(byEmail('ada@demo.school')).token);
    browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
  });

  after(async () => {
    teacher?.disconnect();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  function byEmail(email: string): User {
    return users.find((u) => u.email === email)!;
  }

  async function phone(): Promise<Page> {
    const ctx = await browser.newContext({
      baseURL: srv.baseUrl,
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      // axe is injected as an inline script, which the pages' CSP refuses.
      bypassCSP: true,
      permissions: ['camera'],
    });
    ctx.setDefaultTimeout(15_000);
    contexts.push(ctx);
    return ctx.newPage();
  }

  /** Starts the camera, takes a selfie with the page's buttons once it is on, and taps Check in. */
  async function selfieAndCheckIn(page: Page, catalog: Record<string, unknown>, taken: RegExp): Promise<void> {
    await page.tap('#selfie-start');
    await page.waitForFunction((on) => document.getElementById('selfie-status')?.textContent === on, catalog['student.cameraOn'] as string);
    await page.tap('#selfie-take');
    await page.waitForFunction((re) => new RegExp(re).test(document.getElementById('selfie-status')?.textContent ?? ''), taken.source);
    await page.tap('#submit-checkin:enabled');
  }

  async function walk(email: string, face: number[], catalog: Record<string, unknown>, taken: RegExp, tryAgain: (n: number) => string) {
    const page = await phone();
    const refusalsSeen: string[] = [];
    for (const [round, refusals] of PLAN.entries()) {
      const session = ok(
        await command(teacher, 'session:open', {
          subjectId,
          policy: { ...SELFIE_ONLY, maxAttempts: refusals.length + 1 },
          parallel: true,
        }),
      );
      await page.goto(`/student.html?session=${session.id}`);
      if (round === 0) await logIn(page, email, DEMO_PASSWORDS.student);
      await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
      for (const [i, [reason, key]] of refusals.entries()) {
        answers.push(reason === 'FACE_MISMATCH' ? fakeAnalysis([fakeFace(new Float32Array(FACES.stranger))]) : fakeRefusal(reason));
        await selfieAndCheckIn(page, catalog, taken);
        const advice = catalog[key] as string;
        expect(advice, key).to.be.a('string').and.not.equal(key);
        // This refusal's own words: the advice and the attempts now left (the previous one said one more).
        await page.waitForFunction(
          ([want, left]) =>
            document.getElementById('decision')?.dataset['status'] === 'rejected' &&
            (document.getElementById('decision-detail')?.textContent ?? '').includes(want!) &&
            (document.getElementById('decision-detail')?.textContent ?? '').includes(left!),
          [advice, tryAgain(refusals.length - i)],
        );
        const detail = (await page.textContent('#decision-detail'))!;
        expect(detail, `${reason}: the advice after the reason`).to.include(advice);
        // Only the advice of this refusal: none of the others'.
        for (const [, other] of PLAN.flat()) if (other !== key) expect(detail).to.not.include(catalog[other] as string);
        expect(await page.isEnabled('#submit-checkin'), 'a retake may be sent').to.equal(true);
        refusalsSeen.push(reason);
        if (round === 0 && i === 0) await expectAccessible(page, `student page, ${reason} refused`);
      }
      // The retake with the student's own face passes.
      answers.push(fakeAnalysis([fakeFace(new Float32Array(face))]));
      await selfieAndCheckIn(page, catalog, taken);
      await page.waitForSelector('#decision[data-status="present"]');
      const detail = (await page.textContent('#decision-detail'))!;
      for (const [, key] of PLAN.flat()) expect(detail, 'no advice once checked in').to.not.include(catalog[key] as string);
      ok(await command(teacher, 'session:close', { sessionId: session.id }));
    }
    expect(refusalsSeen).to.deep.equal(PLAN.flat().map(([reason]) => reason));
    expect(answers, 'every scripted answer was used').to.deep.equal([]);
  }

  it('in English: each refusal shows its advice and the attempts left; the retake is accepted', async () => {
    await walk('student01@demo.school', FACES.student01, studentEn, /^Selfie taken \(\d+ KB\)\.$/, (n) => `You may try again (${n} left).`);
  });

  it('in French: the same advice from the French catalog, and the retake is accepted', async () => {
    await walk('student02@demo.school', FACES.student02, studentFr, /^Selfie pris \(\d+ Ko\)\.$/, (n) =>
      n === 1 ? 'Vous pouvez réessayer (1 essai restant).' : `Vous pouvez réessayer (${n} essais restants).`,
    );
  });
});

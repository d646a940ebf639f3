import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeFaceEngine, fakeAnalysis, fakeFace, fakeRefusal } from '../support/fake-face-engine.js';
import { PASSWORD, createCodeSession, createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { runSchemathesis, schemathesisMissing } from '../support/schemathesis.js';
import { skipBecause } from '../support/skip.js';

/**
 * Schemathesis against the live server's /api/openapi.json, once per role, each on a fresh
 * server (a run may revoke its own login, deactivate users or delete the subject). It asserts
 * that no request earns a 5xx and every response matches what the document says.
 */

/**
 * Test cases per operation and phase: 3 roles × 103 operations, one to two minutes a role on a
 * quiet 2-core machine. FUZZ_EXAMPLES and FUZZ_SEED explore further; the fixed seed makes a CI
 * failure reproducible.
 */
const MAX_EXAMPLES = Number(process.env.FUZZ_EXAMPLES ?? 25);
const SEED = Number(process.env.FUZZ_SEED ?? 18_004);
/** A bound on one role's run, not its expected time: a busy machine stretches the run several-fold. */
const RUN_TIMEOUT_MS = 300_000;

/**
 * A face engine that finds one face in images whose first byte is even and refuses the others,
 * so enrolment and class-photo uploads reach both their success and refusal paths.
 */
const fuzzFaceEngine = () =>
  new FakeFaceEngine({
    answer: (image) =>
      image.length === 0 || image[0]! % 2 === 1
        ? fakeRefusal('IMAGE_INVALID', 'not an image')
        : fakeAnalysis([
            fakeFace(new Float32Array([1, 0, 0, 0]), {
              box: { x: 10, y: 10, width: 400, height: 400 },
              quality: { eyeDistancePx: 120, faceSizePx: 400, sharpness: 500, brightness: 128 },
              real: null,
              live: null,
            }),
          ]),
    status: { backend: null, maxQueue: 8, retryAfterMs: 1_000 },
  });

/** Rates high enough that fuzzing measures the API, not the limiter (429 is documented anyway). */
const ENV = {
  HTTP_RATE_PER_MINUTE: '1000000',
  HTTP_HEAVY_RATE_PER_MINUTE: '1000000',
  HTTP_PUBLIC_RATE_PER_MINUTE: '1000000',
  FACE_UPLOADS_PER_HOUR: '100000',
};

interface Seeded {
  tokens: Record<'admin' | 'teacher' | 'student', string>;
  /** Every id a path or an id list may name, so generated requests reach real objects. */
  ids: string[];
}

/** One organisation with an admin, a teacher, an enrolled student, a subject and an open session. */
async function seed(srv: TestServer): Promise<Seeded> {
  const { store } = srv;
  const org = await createOrg(store);
  const admin = await createUser(store, org.id, 'admin');
  const teacher = await createUser(store, org.id, 'teacher');
  const student = await createUser(store, org.id, 'student');
  const subject = await createSubject(store, org.id, [teacher.id], [student.id]);
  const session = await createCodeSession(store, org.id, subject.id, teacher.id);
  await store.faceProposals.put({
    orgId: org.id,
    userId: student.id,
    modelId: 'fuzz',
    modelVersion: '1',
    embeddings: [[1, 0, 0, 0]],
    photos: [Buffer.from([0xff, 0xd8, 0xff, 0xe0])],
    proposedBy: student.id,
    createdAt: new Date(),
  });
  const tokens = {
    admin: (await srv.login(admin.email, PASSWORD)).accessToken,
    teacher: (await srv.login(teacher.email, PASSWORD)).accessToken,
    student: (await srv.login(student.email, PASSWORD)).accessToken,
  };
  const logins = await Promise.all([admin, teacher, student].map((u) => store.refreshTokens.listActiveLogins(org.id, u.id, new Date())));
  const ids = [admin.id, teacher.id, student.id, subject.id, session.id, ...logins.flat().map((l) => l.familyId)];
  return { tokens, ids };
}

/** Binds path ids and id lists in bodies to the seeded ids half of the time; random the rest. */
function configToml(ids: string[]): string {
  const bind = (key: string) => `"${key}" = { dictionary = "ids", probability = 0.5 }`;
  return [
    '[dictionaries.ids]',
    `values = ${JSON.stringify(ids)}`,
    '',
    '[parameters]',
    bind('path.id'),
    bind('body.teacherIds[*]'),
    bind('body.studentIds[*]'),
    bind('body.userIds[*]'),
    '',
  ].join('\n');
}

describe('API fuzzing (Schemathesis)', function () {
  this.timeout(RUN_TIMEOUT_MS + 30_000);
  let dir: string;
  let requests = 0;

  before(async function () {
    const missing = schemathesisMissing();
    if (missing) {
      skipBecause(this, missing);
    }
    dir = await mkdtemp(path.join(tmpdir(), 'api-fuzz-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (requests > 0) console.log(`      schemathesis made ${requests} requests`);
  });

  for (const role of ['admin', 'teacher', 'student'] as const) {
    it(`finds no 5xx and no response off the document, as ${role}`, async () => {
      const srv = await startTestServer(ENV, { face: fuzzFaceEngine() });
      let served = 0;
      srv.app.httpServer.on('request', () => served++);
      try {
        const { tokens, ids } = await seed(srv);
        const configFile = path.join(dir, `${role}.toml`);
        await writeFile(configFile, configToml(ids));
        const run = await runSchemathesis({
          configFile,
          schemaUrl: `${srv.baseUrl}/api/openapi.json`,
          token: tokens[role],
          maxExamples: MAX_EXAMPLES,
          seed: SEED,
          timeoutMs: RUN_TIMEOUT_MS,
          cwd: dir,
        });
        requests += served;
        expect(run.exitCode, `schemathesis as ${role}:\n${run.output}`).to.equal(0);
      } finally {
        await srv.cleanup();
      }
    });
  }
});

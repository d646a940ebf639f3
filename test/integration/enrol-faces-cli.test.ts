import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse as parseCsv } from 'csv-parse/sync';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { User } from '../../src/domain/ports/users.js';
import { blankJpeg, FACES_DIR, SKIP_NO_FACES } from '../support/face-images.js';
import { skipBecause } from '../support/skip.js';
import { runNode, type NodeRun } from '../support/run-node.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = path.join(REPO, 'scripts', 'enrol-faces.ts');

// The script as an operator runs it, against a temporary SQLite store and a folder of
// symlinks to the shared face data (never copies), with one worker thread. Each case has its
// own folder and store, so none reads what another wrote.
describe('enrol-faces CLI', function () {
  this.timeout(180_000);
  let root: string;
  let dbPath: string;
  let photos: string;
  const users: Record<string, User> = {};
  const lfw = (name: string, n: number) => path.join(FACES_DIR!, 'lfw-devtrain', name, `${name}_${String(n).padStart(4, '0')}.jpg`);

  function run(...args: string[]): Promise<NodeRun> {
    const env: NodeJS.ProcessEnv = {};
    // The developer's own store, Redis or face settings must not leak into the run.
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(STORE|SQLITE_PATH|MONGODB_|REDIS_URL|DATA_DIR|FACE_|SEED_DEMO|NODE_ENV)/.test(k)) env[k] = v;
    }
    Object.assign(env, { DATA_DIR: path.join(root, 'data'), FACE_POOL_SIZE: '1', FACE_KEEP_PHOTOS: 'true' });
    return runNode(['--import', 'tsx', SCRIPT, ...args], { cwd: REPO, env, timeoutMs: 280_000 });
  }

  async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    const store = await createSqliteStore({ path: dbPath });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  before(function () {
    if (!FACES_DIR) {
      skipBecause(this, SKIP_NO_FACES);
    }
  });

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'enrol-faces-'));
    dbPath = path.join(root, 'data', 'attendance.db');
    await withStore(async (store) => {
      const org = await store.organisations.create({ name: 'CLI School', slug: 'cli', timezone: 'UTC' });
      const make = (key: string, role: User['role'], email: string, studentNumber: string | null) =>
        store.users.create(org.id, { name: `User ${key}`, email, role, studentNumber, passwordHash: null, active: true }).then((u) => {
          users[key] = u;
        });
      await make('teacher', 'teacher', 'teach@cli.test', null);
      await make('admin', 'admin', 'admin@cli.test', null);
      await make('A', 'student', 'ann@cli.test', 'A100');
      await make('B', 'student', 'bea@cli.test', 'B200');
      await make('C', 'student', 'cy@cli.test', 'C300');
      await make('D', 'student', 'dee@cli.test', 'D400');
      await make('N', 'student', 'ned@cli.test', 'N500');
      const subject = await store.subjects.create(org.id, {
        code: 'BIO1',
        name: 'Biology',
        teacherIds: [users.teacher!.id],
        location: null,
        allowedIpRanges: [],
      });
      await store.subjects.enrol(
        org.id,
        subject.id,
        ['A', 'B', 'C', 'D'].map((k) => users[k]!.id),
      );
      // FACE_CONSENT_REQUIRED is on (the default): the students with photos have consented.
      for (const k of ['A', 'B', 'C']) {
        await store.consents.create({
          orgId: org.id,
          userId: users[k]!.id,
          purpose: 'face',
          textVersion: 'v1',
          givenBy: 'student',
          guardianName: null,
          recordedBy: users[k]!.id,
          givenAt: new Date(),
        });
      }
    });

    photos = path.join(root, 'photos');
    mkdirSync(path.join(photos, 'bea@cli.test'), { recursive: true });
    symlinkSync(lfw('Aaron_Peirsol', 1), path.join(photos, 'A100.jpg'));
    symlinkSync(lfw('Aaron_Peirsol', 2), path.join(photos, 'a100_2.jpg'));
    symlinkSync(lfw('Aaron_Peirsol', 1), path.join(photos, 'A100-3.jpg'));
    symlinkSync(lfw('Aaron_Sorkin', 1), path.join(photos, 'bea@cli.test', 'front.jpg'));
    symlinkSync(lfw('Aaron_Peirsol', 3), path.join(photos, 'N500.jpg'));
    symlinkSync(lfw('Aaron_Peirsol', 4), path.join(photos, 'Z999.jpg'));
    // Generated, not face data: the one photo without a face.
    writeFileSync(path.join(photos, 'C300.jpg'), await blankJpeg());
    writeFileSync(path.join(photos, 'notes.txt'), 'not a photo');
  });

  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('prints its help and refuses bad usage with exit code 2', async () => {
    const help = await run('--help');
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('usage: enrol-faces --subject CODE|ID --dir DIR');

    const missing = await run('--dir', photos, '--by', 'teach@cli.test');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('--subject is required');
  });

  it('refuses to act as a student', async () => {
    const r = await run('--subject', 'BIO1', '--dir', photos, '--org', 'cli', '--by', 'ann@cli.test');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('neither an admin nor a teacher of BIO1');
  });

  it('matches files to students on a dry run and stores nothing', async () => {
    const r = await run('--subject', 'bio1', '--dir', photos, '--org', 'cli', '--dry-run', '--no-progress');
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^A100\.jpg\s+A100 \(User A\)\s+would enrol$/m);
    expect(r.stdout).to.match(/^bea@cli\.test\/front\.jpg\s+B200 \(User B\)\s+would enrol$/m);
    expect(r.stdout).to.match(/^Z999\.jpg\s+-\s+unknown key$/m);
    expect(r.stdout).not.to.contain('notes.txt');
    const stored = await withStore((s) =>
      s.faces.getMany(
        users.A!.orgId,
        Object.values(users).map((u) => u.id),
      ),
    );
    expect(stored).to.deep.equal([]);
  });

  it("acting as a teacher, proposes each student's photos for an admin's approval and changes no reference", async () => {
    const r = await run('--subject', 'BIO1', '--dir', photos, '--by', 'teach@cli.test', '--threads', '1', '--no-progress');
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^A100\.jpg\s+A100 \(User A\)\s+proposed for admin approval$/m);
    expect(r.stdout).to.contain('2 of 3 students with photos enrolled or proposed');
    await withStore(async (store) => {
      const orgId = users.A!.orgId;
      expect(await store.faces.get(orgId, users.A!.id)).to.equal(null);
      expect((await store.faceProposals.get(orgId, users.A!.id))?.embeddings).to.have.length(2);
      expect((await store.faceProposals.list(orgId, { limit: 10, offset: 0 })).total).to.equal(2);
      const audit = await store.audit.listForEntity(orgId, 'user', users.A!.id);
      expect(audit.map((e) => [e.action, e.actorId])).to.deep.equal([['face.propose', users.teacher!.id]]);
    });
  });

  it('acting as an admin, enrols each student through the service and reports every file', async () => {
    const report = path.join(root, 'report.csv');
    const r = await run(
      '--subject',
      'BIO1',
      '--dir',
      photos,
      '--by',
      'admin@cli.test',
      '--threads',
      '1',
      '--no-progress',
      '--report',
      report,
    );
    expect(r.code, r.stderr).to.equal(1);

    const rows = parseCsv(readFileSync(report, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const byFile = Object.fromEntries(rows.map((row) => [row.file, `${row.outcome} ${row.detail}`.trim()]));
    expect(byFile).to.deep.equal({
      'A100.jpg': 'enrolled',
      'a100_2.jpg': 'enrolled',
      'A100-3.jpg': 'duplicate A100.jpg',
      'bea@cli.test/front.jpg': 'enrolled',
      'C300.jpg': 'refused FACE_NOT_FOUND',
      'N500.jpg': 'not-enrolled',
      'Z999.jpg': 'unknown-key',
    });
    expect(r.stdout).to.match(/^C300\.jpg\s+C300 \(User C\)\s+refused FACE_NOT_FOUND$/m);
    expect(r.stdout).to.contain('2 of 3 students with photos enrolled or proposed');
    expect(r.stdout).to.contain('1 students of the subject without a usable photo: D400 (User D)');

    await withStore(async (store) => {
      const orgId = users.A!.orgId;
      const a = await store.faces.get(orgId, users.A!.id);
      const b = await store.faces.get(orgId, users.B!.id);
      expect(a?.embeddings).to.have.length(2);
      expect(b?.embeddings).to.have.length(1);
      expect(await store.faces.get(orgId, users.C!.id)).to.equal(null);
      expect(await store.faces.get(orgId, users.N!.id)).to.equal(null);
      // FACE_KEEP_PHOTOS applies, with the photos' full bytes.
      expect(a?.photos?.map((p) => p.length)).to.deep.equal([
        statSync(path.join(photos, 'A100.jpg')).size,
        statSync(path.join(photos, 'a100_2.jpg')).size,
      ]);
      expect((await store.faceProposals.list(orgId, { limit: 10, offset: 0 })).total).to.equal(0);
      const audit = await store.audit.listForEntity(orgId, 'user', users.A!.id);
      expect(audit.map((e) => [e.action, e.actorId])).to.deep.equal([['face.enrol', users.admin!.id]]);
    });
  });
});

import { expect } from 'chai';
import { JwtTokenSigner } from '../../src/adapters/jwt-token-signer.js';
import { loadConfig } from '../../src/config.js';
import type { Store } from '../../src/domain/ports/store.js';
import { createMongoStore } from '../../src/store/mongo/mongo-store.js';
import { seedClass, startBenchNode, type BenchNode, type SeededClass } from '../../scripts/lib/bench-node.js';
import { testMongoStoreConfig, useMongo } from '../support/ferretdb.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { REPO_ROOT } from '../support/run-node.js';
import { command, connectClient, ok, waitFor, type ClientSocket } from '../support/sockets.js';

const STUDENTS = 150;
const SECRET = 'close-crash-secret-0123456789abcdef0123456';

// A teacher's close now answers before its absents are written when they take long (a large
// class on FerretDB), and goes on in the background. A node killed (SIGKILL, no shutdown) in the
// middle of that leaves the session closing: its lease expires and another node's scheduler
// finishes the close, to the state a close that was never interrupted leaves.
describe('a large close on the MongoDB store, its node killed mid-way', function () {
  this.timeout(180_000);
  const server = useMongo();
  let seedStore: Store | null = null;
  let node: BenchNode | null = null;
  let other: TestServer | null = null;
  const sockets: ClientSocket[] = [];

  after(async () => {
    for (const s of sockets) s.disconnect();
    await node?.stop();
    await other?.cleanup();
    // Its database goes with the server (useMongo), or is dropped by it on MONGODB_URI's.
    await seedStore?.close();
  });

  it('is finished by another node: every student absent once, one session.close, the summary counted', async () => {
    const dbUri = server.mongo.databaseUri('attendance_close_crash');
    seedStore = await createMongoStore(testMongoStoreConfig(dbUri));
    const seeded: SeededClass = await seedClass(seedStore, STUDENTS);
    const { org, teacher, subject } = seeded;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      MONGODB_URI: dbUri,
      SEED_DEMO: 'false',
      JWT_SECRET: SECRET,
      FACE_ENABLED: 'false',
      NODE_ID: 'killed',
      // Answer at once: the close is surely still writing when the node dies.
      CLOSE_ANSWER_WAIT_MS: '0',
    };
    delete env['REDIS_URL'];
    node = await startBenchNode(REPO_ROOT, env);
    const token = new JwtTokenSigner(loadConfig(env).jwt).signAccess(teacher).token;
    const staff = await connectClient(node.url, token);
    sockets.push(staff);
    const sessionId = ok(await command(staff, 'session:open', { subjectId: subject.id })).id;
    ok(await command(staff, 'session:watch', { sessionId }));
    let stored = 0;
    staff.on('roster:updates', (b) => (stored += b.updates.length));

    const answer = ok(await command(staff, 'session:close', { sessionId }, 20_000));
    expect(answer.session.status).to.equal('closing');
    // Some absents stored and announced, not all: then the node dies.
    await waitFor(() => stored > 0, 60_000);
    node.child.kill('SIGKILL');
    await node.stop();
    const left = (await seedStore.sessions.get(org.id, sessionId))!;
    expect(left.status, 'left mid-close').to.equal('closing');
    expect((await seedStore.records.listBySession(org.id, sessionId)).length).to.be.below(STUDENTS);

    other = await startTestServer(
      { NODE_ID: 'other', SCHEDULER_INTERVAL_MS: '200' },
      { openStore: () => createMongoStore(testMongoStoreConfig(dbUri)) },
    );
    await waitFor(async () => (await seedStore!.sessions.get(org.id, sessionId))!.status === 'closed', 120_000, 500);

    const records = await seedStore.records.listBySession(org.id, sessionId);
    expect(records).to.have.length(STUDENTS);
    expect(new Set(records.map((r) => r.studentId)).size).to.equal(STUDENTS);
    expect(new Set(records.map((r) => r.status))).to.deep.equal(new Set(['absent']));
    // Versions are handed out once each: none repeats (a record left unstamped by the kill reads 0).
    const versions = records.map((r) => r.rosterVersion).filter((v) => v > 0);
    expect(new Set(versions).size).to.equal(versions.length);
    const closes = (await seedStore.audit.listForEntity(org.id, 'session', sessionId)).filter((e) => e.action === 'session.close');
    expect(closes).to.have.length(1);
    const summary = await seedStore.summaries.get(org.id, subject.id, left.day);
    expect(summary).to.deep.include({ absent: STUDENTS, total: STUDENTS });
  });
});

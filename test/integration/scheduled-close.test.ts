import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApplication, type Application } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/domain/ports/store.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { testMongoStoreConfig, useMongo } from '../support/ferretdb.js';
import { testConfig } from '../support/http.js';
import { command, connectClient, ok, waitFor } from '../support/sockets.js';

/** Over the store a location names: a SQLite file, or a MongoDB database (its URI). */
function scheduledClose(title: string, location: (dir: string) => string): void {
  describe(title, function () {
    this.timeout(20_000);
    let dir: string;
    const running: { app: Application; store: Store }[] = [];

    async function start(where: string) {
      const storeConfig = where.startsWith('mongodb://') ? testMongoStoreConfig(where) : { kind: 'sqlite' as const, path: where };
      const store = await createStore(storeConfig);
      const config = {
        ...testConfig({ SCHEDULER_INTERVAL_MS: '100', JWT_SECRET: 'restart-test-secret-0123456789abcdef' }),
        store: storeConfig,
      };
      const app = createApplication({ config, store, logger: createLogger('silent') });
      const address = await app.listen();
      const node = { app, store, url: `http://127.0.0.1:${address.port}` };
      running.push(node);
      return node;
    }

    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'attendance-restart-'));
    });
    after(async () => {
      for (const n of running) await n.app.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a new instance on the same store closes the session at close-at', async () => {
      const db = location(dir);
      const first = await start(db);
      const org = await createOrg(first.store);
      const teacher = await createUser(first.store, org.id, 'teacher');
      const student = await createUser(first.store, org.id, 'student');
      const subject = await first.store.subjects.create(org.id, {
        code: 'RST',
        name: 'Restart',
        teacherIds: [teacher.id],
        location: null,
        allowedIpRanges: [],
      });
      await first.store.subjects.enrol(org.id, subject.id, [student.id]);
      const socket = await connectClient(first.url, first.app.tokenService.signAccess(teacher).token);
      const closesAt = new Date(Date.now() + 2_500);
      const session = ok(
        await command(socket, 'session:open', {
          subjectId: subject.id,
          lateAfter: new Date(Date.now() + 1_000).toISOString(),
          closesAt: closesAt.toISOString(),
          policy: { rotatingCode: false, geofence: false },
        }),
      );
      socket.disconnect();
      await first.app.close();
      running.splice(running.indexOf(first), 1);

      const second = await start(db);
      await waitFor(async () => (await second.store.sessions.get(org.id, session.id))?.status === 'closed', 8_000, 50);
      const closed = await second.store.sessions.get(org.id, session.id);
      expect(closed!.closedAt!.getTime()).to.be.at.least(closesAt.getTime());
      expect(closed!.closedBy).to.equal(null);
      const records = await second.store.records.listBySession(org.id, session.id);
      expect(records.map((r) => [r.studentId, r.status])).to.deep.equal([[student.id, 'absent']]);
      expect(await second.store.summaries.get(org.id, subject.id, closed!.day)).to.include({ absent: 1, total: 1 });
    });
  });
}

scheduledClose('scheduled close survives a restart', (dir) => path.join(dir, 'store.db'));

describe('on the MongoDB store', function () {
  const server = useMongo();
  scheduledClose('scheduled close survives a restart (MongoDB store)', () => server.mongo.databaseUri('attendance_restart'));
});

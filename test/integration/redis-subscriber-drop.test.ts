import { expect } from 'chai';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { RosterUpdate } from '../../src/shared/events.js';
import type { User } from '../../src/domain/ports/users.js';
import { createClass } from '../support/fixtures.js';
import { startNodes, type StartedNodes, type TestNode } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, connectClient, nextEvent, nextRosterUpdate, ok, waitFor, type ClientSocket } from '../support/sockets.js';

/**
 * Only the adapter's subscriber connection of one node dropped (CLIENT KILL, an idle timeout of a
 * proxy in front of Redis, a Redis `client-output-buffer-limit pubsub` cut), its command
 * connections staying up: the node must notice, subscribe again, and have its screens resync,
 * since what its peers published meanwhile is lost.
 */
describe('the Redis subscriber connection of one node dropped alone', function () {
  this.timeout(30_000);
  const suite = useRedis('redis-sub-drop');
  let fileNo = 0;
  let cluster: StartedNodes | null = null;
  let admin: Redis | null = null;
  const sockets: ClientSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await cluster?.cleanup();
    cluster = null;
    admin?.disconnect();
    admin = null;
  });

  /** CLIENT KILL of the node's connection named `attendance:<node>:<role>`; resolves with how many were killed. */
  async function killConnection(node: TestNode, role: 'sub' | 'pub'): Promise<number> {
    const list = (await admin!.call('CLIENT', 'LIST')) as string;
    const name = `attendance:${node.name}:${role}`;
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    for (const id of ids) await admin!.call('CLIENT', 'KILL', 'ID', id);
    return ids.length;
  }

  for (const adapter of ['sharded', 'classic'] as const) {
    it(`${adapter} adapter: the node resubscribes, tells its screens to resync, and receives its peers' broadcasts again`, async () => {
      fileNo += 1;
      cluster = await startNodes(2, {
        redisUrl: suite.redis.url,
        sqlitePath: path.join(suite.dir, `sub-drop-${fileNo}.db`),
        env: { REDIS_ADAPTER: adapter },
      });
      admin = new Redis(suite.redis.url);
      const [a, b] = cluster.nodes as [TestNode, TestNode];
      const made = await createClass(a.store, 4);
      const token = (u: User) => a.app.tokenService.signAccess(u).token;
      const client = async (node: TestNode, u: User) => {
        const s = await connectClient(node.url, token(u));
        sockets.push(s);
        return s;
      };
      const projector = await client(a, made.teacher);
      const teacherB = await client(b, made.teacher);
      const sessionId = ok(
        await command(projector, 'session:open', {
          subjectId: made.subject.id,
          policy: { geofence: false, rotatingCode: false, network: false },
        }),
      ).id;
      ok(await command(projector, 'session:watch', { sessionId }));
      const mark = (i: number, status: 'present' | 'excused' = 'present') =>
        command(teacherB, 'checkin:mark', { sessionId, studentId: made.students[i]!.id, status });
      const seen = (i: number) => nextRosterUpdate(projector, (u: RosterUpdate) => u.entry.studentId === made.students[i]!.id, 5_000);

      // Fan-out works before the drop.
      const first = seen(0);
      ok(await mark(0));
      await first;

      // The drop: A's subscriber only. Its publisher and data connections stay up.
      const resync = nextEvent(projector, 'roster:resync', () => true, 10_000);
      expect(await killConnection(a, 'sub')).to.equal(1);
      // Published by B while A is not subscribed: lost to A's screen, which must be told to resync.
      ok(await mark(1));
      expect(await resync).to.deep.equal([{ sessionId }]);
      const snapshot = ok(await command(projector, 'session:watch', { sessionId }));
      const present = snapshot.entries.filter((e) => e.status === 'present').map((e) => e.studentId);
      expect(present).to.include.members([made.students[0]!.id, made.students[1]!.id]);

      // Subscribed again: B's next broadcast reaches A's screen as an update.
      let marks = 0;
      await waitFor(async () => {
        marks += 1;
        const next = seen(2).then(
          () => true,
          () => false,
        );
        ok(await mark(2, marks % 2 === 1 ? 'present' : 'excused'));
        return next;
      }, 10_000);
      // A's readiness and its link agree that the link is up.
      expect(a.cluster.fanoutLink.up).to.equal(true);
    });
  }
});

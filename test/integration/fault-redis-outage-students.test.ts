import { expect } from 'chai';
import path from 'node:path';
import { createClass } from '../support/fixtures.js';
import { NO_CHECKS } from '../support/live-class.js';
import { useRedis } from '../support/redis-server.js';
import { command, nextEvent, ok, waitFor } from '../support/sockets.js';
import { skipBecause } from '../support/skip.js';
import { useNodes } from '../support/use-nodes.js';

// Redis stopped while a class is live on two nodes: the teacher (on A) marks a student and
// closes the session meanwhile; the students' phones are on B. A's broadcasts reach only A's
// sockets during the outage. Once Redis is back, the screens resync (roster:resync, tested in
// multi-node.test.ts); the students' phones must learn what changed too, by themselves, without
// a reload: their own record (checkin:decision) and the session's end (session:status).
describe('fault: Redis away while a teacher decides, students on another node', function () {
  this.timeout(60_000);
  const suite = useRedis('fault-redis-outage-students');
  const nodes = useNodes(suite);

  it("tells the students on the other node their record and the session's end once Redis is back", async function () {
    if (!suite.redis.owned) skipBecause(this, 'stops and restarts Redis: needs its own redis-server, not REDIS_URL');
    const [a, b] = await nodes.start(2, { sqlitePath: path.join(suite.dir, 'attendance.db') });
    const { teacher, students, subject } = await createClass(a!.store, 2);
    const [marked, untouched] = students as [(typeof students)[0], (typeof students)[0]];

    const console = await nodes.client(a!, teacher);
    const session = ok(await command(console, 'session:open', { subjectId: subject.id, policy: NO_CHECKS }));
    const phone = await nodes.client(b!, marked);
    const other = await nodes.client(b!, untouched);
    for (const p of [phone, other]) ok(await command(p, 'session:join', { sessionId: session.id }));
    const early = ok(await command(other, 'checkin:submit', { sessionId: session.id }));
    expect(early.status).to.equal('present');

    const ready = async (url: string) => (await fetch(`${url}/readyz`)).status;
    await suite.redis.kill();
    await waitFor(async () => (await ready(a!.url)) === 503 && (await ready(b!.url)) === 503, 10_000, 100);

    // Stored on A and acknowledged, but A's broadcasts reach only A's sockets now.
    ok(await command(console, 'checkin:mark', { sessionId: session.id, studentId: marked.id, status: 'excused' }));
    ok(await command(console, 'session:close', { sessionId: session.id }));

    const decision = nextEvent(phone, 'checkin:decision', (v) => v.sessionId === session.id && v.status === 'excused', 20_000);
    const ended = nextEvent(phone, 'session:status', (v) => v.id === session.id && v.status === 'closed', 20_000);
    const endedOther = nextEvent(other, 'session:status', (v) => v.id === session.id && v.status === 'closed', 20_000);
    await suite.redis.start();

    const [view] = await decision;
    expect(view).to.include({ status: 'excused' });
    await ended;
    await endedOther;
    // What the phones were told is what the store holds.
    const joined = ok(await command(phone, 'session:join', { sessionId: session.id }));
    expect(joined.session.status).to.equal('closed');
    expect(joined.checkin).to.include({ status: 'excused', recordVersion: view.recordVersion });
  });
});

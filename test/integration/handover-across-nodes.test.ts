import { expect } from 'chai';
import { createOrg, createUser } from '../support/fixtures.js';
import type { TestNode } from '../support/nodes.js';
import { useMongo } from '../support/ferretdb.js';
import { useRedis } from '../support/redis-server.js';
import { useNodes } from '../support/use-nodes.js';

// One hand-over at a time per teacher, whichever nodes two admins send theirs to in the same
// instant: the check and the writes run under the teacher's hand-over lock, a store lease. On
// the production shape, one MongoDB database (FerretDB here): two nodes in one test process on
// one SQLite file do not interleave (each request's store calls answer at once, so one request
// runs to its end before the other's starts), where separate processes would.
describe('teacher hand-overs sent at once to two nodes on one MongoDB database', function () {
  this.timeout(120_000);
  const suite = useRedis('handover-nodes');
  const server = useMongo();
  const nodes = useNodes(suite);

  it('lets one hand-over of each teacher through and refuses the other with CONFLICT, nothing of it written', async () => {
    const [a, b] = (await nodes.start(2, { sqlitePath: '', mongoUri: server.mongo.databaseUri('handover_nodes') })) as [TestNode, TestNode];
    const org = await createOrg(a.store);
    const admin = await createUser(a.store, org.id, 'admin');
    const token = a.app.tokenService.signAccess(admin).token;
    const post = (node: TestNode, teacherId: string, body: object) =>
      fetch(`${node.url}/api/v1/users/${teacherId}/handover`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Three absent teachers, each with two subjects: one admin hands the first to a colleague on
    // node A while another hands the second to someone else on node B (different subjects, so
    // nothing but the lock keeps both from going through).
    const absent = [];
    for (let i = 0; i < 3; i += 1) {
      const teacher = await createUser(a.store, org.id, 'teacher');
      const [coverA, coverB] = [await createUser(a.store, org.id, 'teacher'), await createUser(a.store, org.id, 'teacher')];
      const subject = (code: string) =>
        a.store.subjects.create(org.id, { code, name: code, teacherIds: [teacher.id], location: null, allowedIpRanges: [] });
      absent.push({ teacher, coverA, coverB, first: await subject(`ART-${i}`), second: await subject(`BIO-${i}`) });
    }
    const answers = await Promise.all(
      absent.flatMap(({ teacher, coverA, coverB, first, second }) => [
        post(a, teacher.id, { toTeacherId: coverA.id, subjectIds: [first.id] }),
        post(b, teacher.id, { toTeacherId: coverB.id, subjectIds: [second.id] }),
      ]),
    );
    for (const [i, { teacher, first, second }] of absent.entries()) {
      const pair = answers.slice(2 * i, 2 * i + 2);
      const bodies = await Promise.all(pair.map((r) => r.json() as Promise<{ error?: { code: string } }>));
      expect(pair.map((r) => r.status).sort(), JSON.stringify(bodies)).to.deep.equal([200, 409]);
      expect(bodies.find((x) => x.error)?.error?.code).to.equal('CONFLICT');
      const trail = await b.store.audit.listForEntity(org.id, 'user', teacher.id);
      expect(trail.map((e) => e.action)).to.deep.equal(['user.handover']);
      // Only the subject of the hand-over let through left the absent teacher.
      const kept = (await b.store.subjects.getMany(org.id, [first.id, second.id])).filter((s) => s.teacherIds.includes(teacher.id));
      expect(kept).to.have.length(1);
    }
  });
});

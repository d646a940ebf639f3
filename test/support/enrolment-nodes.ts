import path from 'node:path';
import { expect } from 'chai';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser } from './fixtures.js';
import { NO_CHECKS } from './live-class.js';
import { startNodes, type StartedNodes, type TestNode } from './nodes.js';
import type { RedisSuite } from './redis-server.js';
import { command, connectClient, ok, type ClientSocket } from './sockets.js';

/** Two nodes on one SQLite file, an organisation with its admin, a teacher, a student and their subject. */
export interface EnrolmentNodes {
  a: TestNode;
  b: TestNode;
  admin: User;
  teacher: User;
  /** Not enrolled: each test enrols them as it needs. */
  student: User;
  subject: Subject;
  /** A socket of `u` on `node`, disconnected after the test. */
  client(node: TestNode, u: User): Promise<ClientSocket>;
  /** Enrols (POST) or unenrols (DELETE) one student through node A's API, as the admin. */
  enrolments(method: 'POST' | 'DELETE', studentId: string, subjectId?: string): Promise<void>;
  /** Opens a session of the subject from a teacher's socket (parallel: a test may open a second); its id. */
  open(staff: ClientSocket): Promise<string>;
}

export interface EnrolmentNodesOptions {
  env?: Record<string, string>;
  /** Node B's Redis instead of the suite's (a relay to it); node A stays on the suite's. */
  redisUrlB?: string;
}

/**
 * Starts the two nodes of a test about how a student's socket follows their enrolments
 * (test/integration/enrolment-*.test.ts), behind the suite's Redis, a new SQLite file and subject
 * `<code><n>` a start; after each test every socket is disconnected and every node closed.
 */
export function useEnrolmentNodes(
  suite: RedisSuite,
  subjectOf: { code: string; name: string },
): (opts?: EnrolmentNodesOptions) => Promise<EnrolmentNodes> {
  const clusters: StartedNodes[] = [];
  const sockets: ClientSocket[] = [];
  let fileNo = 0;
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const c of clusters.splice(0)) await c.cleanup();
  });
  return async ({ env = {}, redisUrlB } = {}) => {
    fileNo += 1;
    const sqlitePath = path.join(suite.dir, `attendance-${fileNo}.db`);
    let a: TestNode;
    let b: TestNode;
    if (redisUrlB) {
      // Two starts, so that node B alone goes through the relay; one key, as every node has.
      const first = await startNodes(1, { redisUrl: suite.redis.url, sqlitePath, env });
      clusters.push(first);
      const second = await startNodes(1, {
        redisUrl: redisUrlB,
        sqlitePath,
        env: { ...env, NODE_ID: 'node-B', JWT_SECRET: first.jwtSecret },
      });
      clusters.push(second);
      a = first.nodes[0]!;
      b = second.nodes[0]!;
    } else {
      const both = await startNodes(2, { redisUrl: suite.redis.url, sqlitePath, env });
      clusters.push(both);
      [a, b] = both.nodes as [TestNode, TestNode];
    }
    const org = await createOrg(a.store);
    const admin = await createUser(a.store, org.id, 'admin');
    const teacher = await createUser(a.store, org.id, 'teacher');
    const student = await createUser(a.store, org.id, 'student');
    const subject = await a.store.subjects.create(org.id, {
      code: `${subjectOf.code}${fileNo}`,
      name: subjectOf.name,
      teacherIds: [teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    const token = (node: TestNode, u: User) => node.app.tokenService.signAccess(u).token;
    return {
      a,
      b,
      admin,
      teacher,
      student,
      subject,
      async client(node, u) {
        const s = await connectClient(node.url, token(node, u));
        sockets.push(s);
        return s;
      },
      async enrolments(method, studentId, subjectId = subject.id) {
        const res = await fetch(`${a.url}/api/v1/subjects/${subjectId}/enrolments`, {
          method,
          headers: { authorization: `Bearer ${token(a, admin)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ studentIds: [studentId] }),
        });
        expect(res.status, await res.clone().text()).to.equal(200);
      },
      async open(staff) {
        return ok(await command(staff, 'session:open', { subjectId: subject.id, policy: NO_CHECKS, parallel: true })).id;
      },
    };
  };
}

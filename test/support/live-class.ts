import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser } from './fixtures.js';
import type { TestServer } from './http.js';
import { command, connectClient, ok, type ClientSocket } from './sockets.js';

/** A policy with every check off: a check-in is taken on the student's word. */
export const NO_CHECKS = { geofence: false, rotatingCode: false, network: false, selfie: false };

export interface LiveClass {
  org: Organisation;
  teacher: User;
  students: User[];
  subject: Subject;
  /** The teacher's socket, which opened the session. */
  staff: ClientSocket;
  sessionId: string;
  /** One connected socket per student, in the order of `students`. */
  phones: ClientSocket[];
}

/**
 * A class live on `srv` through its sockets: an organisation, a teacher with a session open
 * (no checks) and `students` enrolled students, each connected. Every socket is pushed to
 * `sockets` for the test to disconnect.
 */
export async function openLiveClass(srv: TestServer, sockets: ClientSocket[], students: number): Promise<LiveClass> {
  const org = await createOrg(srv.store);
  const teacher = await createUser(srv.store, org.id, 'teacher');
  const enrolled = await Promise.all(Array.from({ length: students }, () => createUser(srv.store, org.id, 'student')));
  const subject = await createSubject(
    srv.store,
    org.id,
    [teacher.id],
    enrolled.map((s) => s.id),
  );
  const connect = async (user: User) => {
    const socket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(user).token);
    sockets.push(socket);
    return socket;
  };
  const staff = await connect(teacher);
  const sessionId = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: NO_CHECKS })).id;
  const phones = await Promise.all(enrolled.map(connect));
  return { org, teacher, students: enrolled, subject, staff, sessionId, phones };
}

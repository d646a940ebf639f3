import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { AppError } from '../../../src/shared/app-error.js';
import { StandingSweep } from '../../../src/realtime/standing-sweep.js';
import type { CurrentActors } from '../../../src/realtime/current-actor.js';
import type { AppServer, AppSocket } from '../../../src/realtime/types.js';
import type { Logger } from '../../../src/logger.js';

// The socket re-check reads a session and a subject for every staff room a socket is in, every
// SOCKET_RECHECK_MS. A user's sockets are not counted: one teacher opening many sockets, each
// watching the same sessions (60 watches a minute), made every pass read as many times more.

/** The part of a socket the sweep uses. */
class FakeSocket {
  readonly sent: string[] = [];
  disconnected = false;
  constructor(
    readonly data: { userId: string; orgId: string; role: 'teacher' | 'student' },
    readonly rooms: Set<string>,
  ) {}
  emit(event: string, payload?: { sessionId?: string }): boolean {
    this.sent.push(payload?.sessionId === undefined ? event : `${event} ${payload.sessionId}`);
    return true;
  }
  leave(room: string): void {
    this.rooms.delete(room);
  }
  join(rooms: string[]): void {
    for (const room of rooms) this.rooms.add(room);
  }
  disconnect(): void {
    this.disconnected = true;
  }
}

const silent = { warn() {}, info() {}, error() {} } as unknown as Logger;

describe('StandingSweep: staff rooms', () => {
  it("checks each of a user's watched sessions once a pass, however many of their sockets watch it", async () => {
    const teacher: Actor = { id: 't1', orgId: 'o1', role: 'teacher', ip: null };
    const sessions = ['s1', 's2', 's3'];
    const sockets = Array.from(
      { length: 20 },
      () =>
        new FakeSocket({ userId: 't1', orgId: 'o1', role: 'teacher' }, new Set(['user:t1', ...sessions.map((s) => `session:${s}:staff`)])),
    );
    const io = { of: () => ({ sockets: new Map(sockets.map((s, i) => [String(i), s])) }) } as unknown as AppServer;
    const actors = { of: async () => teacher } as unknown as CurrentActors;
    const checked: string[] = [];
    const sweep = new StandingSweep(io, actors, silent, 0, async (_actor, sessionId) => {
      checked.push(sessionId);
      // Taken off s2's subject: every socket leaves its staff room.
      if (sessionId === 's2') throw new AppError('NOT_SUBJECT_TEACHER');
    });
    for (const s of sockets) sweep.track(s as unknown as AppSocket);
    await sweep.sweep();
    expect(checked.sort()).to.deep.equal(sessions);
    for (const s of sockets) {
      expect([...s.rooms]).to.deep.equal(['user:t1', 'session:s1:staff', 'session:s3:staff']);
      expect(s.sent).to.deep.equal(['session:access-lost s2']);
    }
    // The next pass reads afresh.
    await sweep.sweep();
    expect(checked).to.have.length(sessions.length + 2);
    sweep.close();
  });
});

describe('StandingSweep: student rooms', () => {
  it("reads each subject's enrolments, sessions and each joined session's subject once a pass; an unenrolled student leaves both rooms, told of each session once", async () => {
    const rooms = ['subject:x:students', 'session:s1:students', 'subject:y:students'];
    const sockets = ['a', 'b', 'c'].flatMap((id) =>
      Array.from({ length: 5 }, () => new FakeSocket({ userId: id, orgId: 'o1', role: 'student' }, new Set([`user:${id}`, ...rooms]))),
    );
    const io = { of: () => ({ sockets: new Map(sockets.map((s, i) => [String(i), s])) }) } as unknown as AppServer;
    const actors = {
      of: async (socket: FakeSocket): Promise<Actor> => ({ id: socket.data.userId, orgId: 'o1', role: 'student', ip: null }),
    } as unknown as CurrentActors;
    const reads: string[] = [];
    const confirmations: string[] = [];
    const sweep = new StandingSweep(io, actors, silent, 0, undefined, {
      async enrolledIn(_orgId, subjectId) {
        reads.push(`enrolled ${subjectId}`);
        // c was unenrolled from x (the announcement missed this node); y still has everyone.
        return new Set(subjectId === 'x' ? ['a', 'b'] : ['a', 'b', 'c']);
      },
      async subjectOfSession(_orgId, sessionId) {
        reads.push(`subject of ${sessionId}`);
        return 'x';
      },
      async roomSessionsOf(_orgId, subjectId) {
        reads.push(`sessions of ${subjectId}`);
        // s2 is live and listed, not joined: no longer joinable, the page is told so too.
        return ['s1', 's2'];
      },
      async isEnrolled(_orgId, subjectId, studentId) {
        confirmations.push(`${studentId} in ${subjectId}`);
        return false;
      },
    });
    for (const s of sockets) sweep.track(s as unknown as AppSocket);
    await sweep.sweep();
    expect(reads.sort()).to.deep.equal(['enrolled x', 'enrolled y', 'sessions of x', 'subject of s1']);
    // Each removal is confirmed once per socket and subject, after the socket left its rooms.
    expect(confirmations).to.deep.equal(Array.from({ length: 5 }, () => 'c in x'));
    for (const s of sockets) {
      const still = s.data.userId === 'c' ? ['user:c', 'subject:y:students'] : [`user:${s.data.userId}`, ...rooms];
      expect([...s.rooms]).to.deep.equal(still);
      expect(s.sent).to.deep.equal(s.data.userId === 'c' ? ['session:access-lost s1', 'session:access-lost s2'] : []);
    }
    sweep.close();
  });

  it('keeps a student enrolled again after the pass read the enrolments in the rooms, told to list again, not that access was lost', async () => {
    const rooms = ['user:c', 'subject:x:students', 'session:s1:students'];
    const socket = new FakeSocket({ userId: 'c', orgId: 'o1', role: 'student' }, new Set(rooms));
    const io = { of: () => ({ sockets: new Map([['0', socket]]) }) } as unknown as AppServer;
    const actors = { of: async (): Promise<Actor> => ({ id: 'c', orgId: 'o1', role: 'student', ip: null }) } as unknown as CurrentActors;
    const seenOutside: string[][] = [];
    const sweep = new StandingSweep(io, actors, silent, 0, undefined, {
      // The pass's read predates the student's new enrolment.
      enrolledIn: async () => new Set<string>(),
      subjectOfSession: async () => 'x',
      roomSessionsOf: async () => ['s1'],
      async isEnrolled() {
        seenOutside.push([...socket.rooms]);
        return true;
      },
    });
    sweep.track(socket as unknown as AppSocket);
    await sweep.sweep();
    // Confirmed after leaving: an enrolment written later announces itself after the leave.
    expect(seenOutside).to.deep.equal([['user:c']]);
    expect([...socket.rooms].sort()).to.deep.equal([...rooms].sort());
    expect(socket.sent).to.deep.equal(['subject:enrolled']);
    sweep.close();
  });
});

import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { AppError } from '../../../src/shared/app-error.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { StandingSweep, WORK_PER_TURN, type RoomReads } from '../../../src/realtime/standing-sweep.js';
import type { CurrentActors } from '../../../src/realtime/current-actor.js';
import type { AppServer, AppSocket } from '../../../src/realtime/types.js';
import type { Logger } from '../../../src/logger.js';

// The socket re-check reads a session and a subject for every staff room a socket is in, every
// SOCKET_RECHECK_MS. A user's sockets are not counted: one teacher opening many sockets, each
// watching the same sessions (60 watches a minute), made every pass read as many times more.
// Nor are its users: each session's subject and each subject is read once a pass.

/** The part of a socket the sweep uses. */
class FakeSocket {
  readonly sent: string[] = [];
  disconnected = false;
  constructor(
    readonly data: { userId: string; orgId: string; role: 'teacher' | 'student' },
    readonly rooms: Set<string>,
  ) {}
  emit(event: string, payload?: { sessionId?: string; code?: string }): boolean {
    const about = payload?.sessionId ?? payload?.code;
    this.sent.push(about === undefined ? event : `${event} ${about}`);
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

const silent = { warn() {}, info() {}, error() {}, debug() {}, isLevelEnabled: () => false } as unknown as Logger;

/** A subject `id` taught by `teacherIds`. */
function subjectOf(id: string, teacherIds: string[]): Subject {
  return { id, teacherIds } as unknown as Subject;
}

/** Reads that fail the test if a check makes them (a student's rooms are not under test). */
const noEnrolmentReads: Omit<RoomReads, 'staffSubject' | 'subjectOfSession'> = {
  enrolledIn: () => Promise.reject(new Error('not read here')),
  roomSessionsOf: () => Promise.reject(new Error('not read here')),
  isEnrolled: () => Promise.reject(new Error('not read here')),
};

describe('StandingSweep: staff rooms', () => {
  it("reads each watched session's subject and each subject once a pass, however many users and sockets watch it", async () => {
    const sessions = ['s1', 's2', 's3'];
    const teachers = ['t1', 't2'];
    const sockets = teachers.flatMap((userId) =>
      Array.from(
        { length: 10 },
        () =>
          new FakeSocket(
            { userId, orgId: 'o1', role: 'teacher' },
            new Set([`user:${userId}`, ...sessions.map((s) => `session:${s}:staff`)]),
          ),
      ),
    );
    const io = { of: () => ({ sockets: new Map(sockets.map((s, i) => [String(i), s])) }) } as unknown as AppServer;
    const actors = {
      current: () => null,
      of: async (socket: FakeSocket): Promise<Actor> => ({ id: socket.data.userId, orgId: 'o1', role: 'teacher', ip: null }),
    } as unknown as CurrentActors;
    const reads: string[] = [];
    const sweep = new StandingSweep(io, actors, silent, 0, {
      ...noEnrolmentReads,
      async subjectOfSession(_orgId, sessionId) {
        reads.push(`subject of ${sessionId}`);
        return sessionId === 's2' ? 'y' : 'x';
      },
      async staffSubject(_orgId, subjectId) {
        reads.push(`subject ${subjectId}`);
        // t1 was taken off y: every one of their sockets leaves s2's staff room.
        return subjectOf(subjectId, subjectId === 'y' ? ['t2'] : ['t1', 't2']);
      },
    });
    for (const s of sockets) sweep.track(s as unknown as AppSocket);
    await sweep.sweep();
    // Once each for the pass; then, before each of t1's ten sockets leaves s2's room, a fresh
    // read confirms the refusal (the pass's read may be seconds old).
    const shared = ['subject of s1', 'subject of s2', 'subject of s3', 'subject x', 'subject y'];
    const confirmations = Array.from({ length: 10 }, () => ['subject of s2', 'subject y']).flat();
    expect(reads.sort()).to.deep.equal([...shared, ...confirmations].sort());
    for (const s of sockets) {
      if (s.data.userId === 't1') {
        expect([...s.rooms]).to.deep.equal(['user:t1', 'session:s1:staff', 'session:s3:staff']);
        expect(s.sent).to.deep.equal(['session:access-lost s2']);
      } else {
        expect([...s.rooms]).to.deep.equal(['user:t2', ...sessions.map((id) => `session:${id}:staff`)]);
        expect(s.sent).to.deep.equal([]);
      }
    }
    // The next pass reads afresh (t1's sockets have left: no confirmation).
    await sweep.sweep();
    expect(reads).to.have.length(shared.length + confirmations.length + shared.length);
    sweep.close();
  });

  it("keeps a teacher given the subject after the pass's read of it, who joined its room meanwhile", async () => {
    // t1's socket is checked first and reads subject x as taught by t1 alone; an admin then hands
    // x to t2 too, whose screen joins the room; t2's socket is checked later in the same pass.
    const first = new FakeSocket({ userId: 't1', orgId: 'o1', role: 'teacher' }, new Set(['session:s1:staff']));
    const second = new FakeSocket({ userId: 't2', orgId: 'o1', role: 'teacher' }, new Set(['session:s1:staff']));
    const io = {
      of: () => ({
        sockets: new Map([
          ['0', first],
          ['1', second],
        ]),
      }),
    } as unknown as AppServer;
    const actors = {
      current: () => null,
      of: async (socket: FakeSocket): Promise<Actor> => ({ id: socket.data.userId, orgId: 'o1', role: 'teacher', ip: null }),
    } as unknown as CurrentActors;
    let subjectReads = 0;
    const sweep = new StandingSweep(io, actors, silent, 0, {
      ...noEnrolmentReads,
      subjectOfSession: async () => 'x',
      staffSubject: async () => subjectOf('x', (subjectReads += 1) === 1 ? ['t1'] : ['t1', 't2']),
    });
    await sweep.sweep();
    expect([...second.rooms]).to.deep.equal(['session:s1:staff']);
    expect(second.sent).to.deep.equal([]);
    expect([...first.rooms]).to.deep.equal(['session:s1:staff']);
    sweep.close();
  });

  it('takes a teacher out of the staff room of a session gone with its subject', async () => {
    const socket = new FakeSocket(
      { userId: 't1', orgId: 'o1', role: 'teacher' },
      new Set(['user:t1', 'session:s1:staff', 'session:s2:staff']),
    );
    const io = { of: () => ({ sockets: new Map([['0', socket]]) }) } as unknown as AppServer;
    const actors = { current: () => null, of: async (): Promise<Actor> => ({ id: 't1', orgId: 'o1', role: 'teacher', ip: null }) };
    const sweep = new StandingSweep(io, actors as unknown as CurrentActors, silent, 0, {
      ...noEnrolmentReads,
      // s1's subject was deleted; s2 is gone.
      subjectOfSession: async (_orgId, sessionId) => (sessionId === 's1' ? 'x' : null),
      staffSubject: async () => null,
    });
    await sweep.sweep();
    expect([...socket.rooms]).to.deep.equal(['user:t1']);
    expect(socket.sent).to.deep.equal(['session:access-lost s1', 'session:access-lost s2']);
    sweep.close();
  });

  it('lets I/O in between the rooms of a socket in more rooms than a turn holds', async () => {
    const sessions = Array.from({ length: 5 * WORK_PER_TURN }, (_, i) => `s${i}`);
    const socket = new FakeSocket({ userId: 't1', orgId: 'o1', role: 'teacher' }, new Set(sessions.map((s) => `session:${s}:staff`)));
    const io = { of: () => ({ sockets: new Map([['0', socket]]) }) } as unknown as AppServer;
    const actors = { current: () => null, of: async (): Promise<Actor> => ({ id: 't1', orgId: 'o1', role: 'teacher', ip: null }) };
    let read = 0;
    const sweep = new StandingSweep(io, actors as unknown as CurrentActors, silent, 0, {
      ...noEnrolmentReads,
      subjectOfSession: async () => {
        read += 1;
        return 'x';
      },
      staffSubject: async () => subjectOf('x', ['t1']),
    });
    let readWhenIoRan = -1;
    setImmediate(() => (readWhenIoRan = read));
    await sweep.sweep();
    expect(read).to.equal(sessions.length);
    expect(readWhenIoRan).to.be.within(1, WORK_PER_TURN);
    expect(socket.rooms.size).to.equal(sessions.length);
    sweep.close();
  });
});

describe('StandingSweep: a pass in slices', () => {
  /** `n` students' sockets, each in its user room; `revoked` among them no longer may act. */
  function students(n: number, revoked: ReadonlySet<number>) {
    const sockets = Array.from(
      { length: n },
      (_, i) => new FakeSocket({ userId: `u${i}`, orgId: 'o1', role: 'student' }, new Set([`user:u${i}`])),
    );
    const io = { of: () => ({ sockets: new Map(sockets.map((s, i) => [String(i), s])) }) } as unknown as AppServer;
    const checked: string[] = [];
    // Answers as a kept user does: without waiting for I/O.
    const actors = {
      current: () => null,
      of: async (socket: FakeSocket): Promise<Actor> => {
        checked.push(socket.data.userId);
        if (revoked.has(Number(socket.data.userId.slice(1)))) throw new AppError('TOKEN_REVOKED');
        return { id: socket.data.userId, orgId: 'o1', role: 'student', ip: null };
      },
    } as unknown as CurrentActors;
    return { sockets, io, actors, checked };
  }

  it('handles the I/O that arrives during a pass between two slices, not after the whole pass', async () => {
    const { io, actors, checked } = students(2_000, new Set());
    const sweep = new StandingSweep(io, actors, silent, 0);
    let checkedWhenIoRan = -1;
    setImmediate(() => (checkedWhenIoRan = checked.length));
    await sweep.sweep();
    expect(checked).to.have.length(2_000);
    expect(checkedWhenIoRan).to.be.within(1, WORK_PER_TURN);
    sweep.close();
  });

  it('still cuts a revoked socket in the last slice of a pass, and only it', async () => {
    const { sockets, io, actors } = students(1_000, new Set([999]));
    const sweep = new StandingSweep(io, actors, silent, 0);
    await sweep.sweep();
    expect(sockets.filter((s) => s.disconnected).map((s) => s.data.userId)).to.deep.equal(['u999']);
    expect(sockets[999]!.sent).to.deep.equal(['auth:revoked TOKEN_REVOKED']);
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
      current: () => null,
      of: async (socket: FakeSocket): Promise<Actor> => ({ id: socket.data.userId, orgId: 'o1', role: 'student', ip: null }),
    } as unknown as CurrentActors;
    const reads: string[] = [];
    const confirmations: string[] = [];
    const sweep = new StandingSweep(io, actors, silent, 0, {
      staffSubject: () => Promise.reject(new Error('not read here')),
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
    const actors = { current: () => null, of: async (): Promise<Actor> => ({ id: 'c', orgId: 'o1', role: 'student', ip: null }) };
    const seenOutside: string[][] = [];
    const sweep = new StandingSweep(io, actors as unknown as CurrentActors, silent, 0, {
      staffSubject: () => Promise.reject(new Error('not read here')),
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

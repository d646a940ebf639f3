import type { Actor } from '../domain/actor.js';
import type { Subject } from '../domain/ports/subjects.js';
import { assertStaffOf } from '../domain/sessions/access.js';
import { AppError } from '../shared/app-error.js';
import { ACCESS_END_CODES, staffRoomSession, studentRoomSession, subjectRoomSubject, type AccessEndCode } from '../shared/events.js';
import type { Logger } from '../logger.js';
import type { CurrentActors } from './current-actor.js';
import type { AppServer, AppSocket } from './types.js';

/**
 * The work of one turn of the event loop: a socket counts one and each of its rooms one. A pass
 * over 2,040 sockets in turns of 500 sockets held the loop ~100 ms every SOCKET_RECHECK_MS (each
 * slice's store reads answer synchronously on SQLite, so a slice runs as one turn), and every
 * check-in, roster and phone on the node waited; in turns of this size a pass lets I/O in every
 * few milliseconds. The users of one turn are still read together (one query per organisation).
 */
export const WORK_PER_TURN = 64;
/** What CurrentActors answers for a socket that may no longer act; anything else is not a verdict. */
const REFUSALS: ReadonlySet<string> = new Set(['TOKEN_REVOKED', 'ACCOUNT_DISABLED', 'ORGANISATION_DISABLED', 'PASSWORD_CHANGE_REQUIRED']);
/** What a session's staff check answers someone who may no longer read its roster (the session gone too). */
const NOT_STAFF: ReadonlySet<string> = new Set(['NOT_SUBJECT_TEACHER', 'FORBIDDEN', 'SESSION_NOT_FOUND', 'NOT_FOUND']);

/** The reads of one pass: subjects, enrolments, sessions by subject, subjects by session. */
interface PassReads {
  subjects: Map<string, Promise<Subject | null>>;
  enrolled: Map<string, Promise<ReadonlySet<string>>>;
  roomSessions: Map<string, Promise<string[]>>;
  subjectOf: Map<string, Promise<string | null>>;
}

/** What the checks of a socket's rooms read (SessionService.enrolledIn, subjectOfSession, ...). */
export interface RoomReads {
  /** The subject whose staff may watch its sessions (assertStaffOf); null once deleted. */
  staffSubject(orgId: string, subjectId: string): Promise<Subject | null>;
  enrolledIn(orgId: string, subjectId: string): Promise<ReadonlySet<string>>;
  /** Null when the session is gone. */
  subjectOfSession(orgId: string, sessionId: string): Promise<string | null>;
  /** The subject's sessions someone who loses it is told of (SessionService.roomSessionsOf). */
  roomSessionsOf(orgId: string, subjectId: string): Promise<string[]>;
  /** Read afresh, after a removal: the pass's own read may predate a new enrolment. */
  isEnrolled(orgId: string, subjectId: string, studentId: string): Promise<boolean>;
}

/**
 * Re-checks, every `intervalMs`, the standing of every socket connected to this node, including
 * those that send no command. Logouts, deactivations and role changes are announced to every
 * node and cut sockets at once; this is the backstop for the changes nobody can announce (the
 * admin CLI's `admin reset` runs in another process) and for an announcement a node missed (a
 * Redis outage), so that an idle socket does not hear its rooms until its token expires. The
 * same goes for a teacher taken off a subject: a socket still in a staff room of one of its
 * sessions leaves it (`session:access-lost`), as the announcement would have made it, since
 * the roster names every student. A student unenrolled from a subject leaves its room and those
 * of its sessions they joined, and is told `session:access-lost` for each of its sessions the
 * announcement names: their statuses are the subject's timetable, no longer theirs to follow.
 */
export class StandingSweep {
  private readonly timer: NodeJS.Timeout | null;
  /** The role each socket connected in: its rooms were joined as that role. */
  private readonly connectedAs = new WeakMap<AppSocket, AppSocket['data']['role']>();
  private running: Promise<void> | null = null;

  constructor(
    private readonly io: AppServer,
    private readonly actors: CurrentActors,
    private readonly logger: Logger,
    intervalMs: number,
    private readonly roomReads?: RoomReads,
  ) {
    this.timer = intervalMs > 0 ? setInterval(() => void this.sweep(), intervalMs) : null;
    this.timer?.unref();
  }

  track(socket: AppSocket): void {
    this.connectedAs.set(socket, socket.data.role);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Judges a socket just connected once more when its organisation's standing moved on since the
   * handshake read its user (`version`, read before that). A deactivation, role change or logout
   * stored in between was announced to the user's room and the node's sockets while this one was
   * in neither as a connected socket (a broadcast reaches only those): without this it stayed
   * until the next pass. Called from the connection listener, once the socket is where every later
   * announcement finds it, so a change is either announced to it or seen here.
   */
  async checkConnected(socket: AppSocket, version: number): Promise<void> {
    const { orgId, userId } = socket.data;
    let err: unknown;
    try {
      if (!(await this.actors.movedSince(orgId, version))) return;
      // What this node kept of the user, or a read of it on its way, may predate the change.
      this.actors.forget(userId);
      err = await this.check(socket, { subjects: new Map(), enrolled: new Map(), roomSessions: new Map(), subjectOf: new Map() });
    } catch (caught) {
      err = caught;
    }
    // The store out of reach: the socket stays, the next pass judges it.
    if (err !== null) this.logger.warn({ err, userId }, 'standing of a socket just connected not checked');
  }

  /** One pass over this node's sockets; a pass still running is not started twice. Public so a test can drive it. */
  sweep(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const sockets = [...this.io.of('/').sockets.values()];
    const reads: PassReads = { subjects: new Map(), enrolled: new Map(), roomSessions: new Map(), subjectOf: new Map() };
    let unchecked = 0;
    let firstErr: unknown;
    // Measured only for the debug line; CPU, not wall time: a loaded machine stretches the latter.
    const timed = this.logger.isLevelEnabled('debug');
    const started = performance.now();
    const startedCpu = timed ? process.cpuUsage() : null;
    let longestSliceCpuMs = 0;
    for (let i = 0; i < sockets.length;) {
      const sliceCpu = timed ? process.cpuUsage() : null;
      // A slice of sockets whose work fills a turn (one socket at least), then I/O goes first.
      const slice: AppSocket[] = [];
      for (let work = 0; i < sockets.length && work < WORK_PER_TURN; i += 1) {
        slice.push(sockets[i]!);
        work += 1 + sockets[i]!.rooms.size;
      }
      const results = await Promise.all(slice.map((s) => this.check(s, reads)));
      for (const err of results) {
        if (err === null) continue;
        unchecked += 1;
        firstErr ??= err;
      }
      if (sliceCpu) longestSliceCpuMs = Math.max(longestSliceCpuMs, cpuMs(process.cpuUsage(sliceCpu)));
      await nextTurn();
    }
    // Read by scripts/bench-standing-sweep.ts: a pass's length, its CPU, and its costliest slice's
    // (on SQLite a slice runs in one turn: the longest the loop waited on the pass).
    if (startedCpu) {
      this.logger.debug(
        {
          sockets: sockets.length,
          passMs: Math.round(performance.now() - started),
          passCpuMs: Math.round(cpuMs(process.cpuUsage(startedCpu))),
          longestSliceCpuMs: Math.round(longestSliceCpuMs * 10) / 10,
        },
        'socket standings checked',
      );
    }
    // The store out of reach: the sockets stay, the next pass tries again. One line per pass.
    if (unchecked > 0) this.logger.warn({ err: firstErr, unchecked, sockets: sockets.length }, 'socket standings not checked');
  }

  /** Cuts the socket when it may no longer act; answers the error when its standing could not be read. */
  private async check(socket: AppSocket, reads: PassReads): Promise<unknown> {
    if (socket.disconnected) return null;
    let code: string;
    try {
      // Kept and current (the organisation's version unchanged): no promise, no read.
      const actor = this.actors.current(socket) ?? (await this.actors.of(socket));
      const role = this.connectedAs.get(socket);
      if (role === undefined || role === socket.data.role) {
        return actor.role === 'student'
          ? await this.checkStudentRooms(socket, actor, reads)
          : await this.checkStaffRooms(socket, actor, reads);
      }
      code = 'ROLE_CHANGED';
    } catch (err) {
      if (!(err instanceof AppError) || !REFUSALS.has(err.code)) return err;
      code = err.code;
    }
    if (socket.disconnected) return null;
    // The other refusals (a disabled organisation, a new password required) are told by the
    // handshake of the reconnect that follows, as for a command answered with them.
    if (isAccessEndCode(code)) socket.emit('auth:revoked', { code });
    socket.disconnect(true);
    return null;
  }

  /**
   * Takes the socket out of each staff room whose session its user may no longer watch; answers
   * the error of a check that could not be made (the socket stays in, the next pass tries again).
   * One read of each session's subject and of each subject a pass, however many users and
   * sockets watch it: a teacher's screens stay in the rooms of the day's sessions.
   */
  private async checkStaffRooms(socket: AppSocket, actor: Actor, reads: PassReads): Promise<unknown> {
    const { roomReads } = this;
    if (!roomReads) return null;
    let work = 0;
    for (const room of [...socket.rooms]) {
      const sessionId = staffRoomSession(room);
      if (sessionId === undefined) continue;
      // A socket in more rooms than a turn holds lets I/O in between its rooms too.
      if (++work % WORK_PER_TURN === 0) await nextTurn();
      const staffCheck = async (fresh: boolean) => {
        const subjectOfSession = () => roomReads.subjectOfSession(actor.orgId, sessionId);
        const subjectId = fresh ? await subjectOfSession() : await once(reads.subjectOf, `${actor.orgId}\n${sessionId}`, subjectOfSession);
        const staffSubject = (id: string) => () => roomReads.staffSubject(actor.orgId, id);
        const subject =
          subjectId === null
            ? null
            : fresh
              ? await staffSubject(subjectId)()
              : await once(reads.subjects, `${actor.orgId}\n${subjectId}`, staffSubject(subjectId));
        // A session whose subject was deleted is as good as gone (loadSession).
        if (subject === null) throw new AppError('SESSION_NOT_FOUND');
        assertStaffOf(actor, subject);
      };
      try {
        try {
          await staffCheck(false);
        } catch (err) {
          // The pass's read may be seconds old (it runs in turns): a teacher given the subject
          // since, who then joined its room, must not be taken out by it. Read again before leaving.
          if (!(err instanceof AppError) || !NOT_STAFF.has(err.code)) throw err;
          await staffCheck(true);
        }
      } catch (err) {
        if (!(err instanceof AppError) || !NOT_STAFF.has(err.code)) return err;
        if (socket.disconnected) return null;
        await socket.leave(room);
        socket.emit('session:access-lost', { sessionId, code: 'NOT_SUBJECT_TEACHER' });
      }
    }
    return null;
  }

  /**
   * Takes a student's socket out of the rooms of each subject they are no longer enrolled in,
   * and of those subjects' sessions they joined (a session gone too), and tells it
   * `session:access-lost` once for each of those sessions and each of the subject's sessions
   * the announcement would have named, joined or not: the page lists them, and one not joined
   * yet is no longer joinable. Answers the error of a read that could not be made (the socket
   * stays in, the next pass tries again). One read of each kind per subject and per joined
   * session a pass, however many students' sockets are in their rooms.
   *
   * The pass's enrolments may be older than an enrolment made since (the student enrolled
   * again, its announcement already heard: the socket is in the room and would be taken out
   * for good). So each removal is confirmed by a read of that student's enrolment made after
   * the socket left: enrolled by then, it joins the rooms again and is told `subject:enrolled`
   * (the page lists again what it may have missed meanwhile); an enrolment written after that
   * read announces itself after the socket left, and its join is the last word. Checking before
   * leaving instead would not do: on MongoDB the announcement can arrive while the read's
   * answer is on its way, and the leave that follows would undo its join.
   */
  private async checkStudentRooms(socket: AppSocket, actor: Actor, reads: PassReads): Promise<unknown> {
    const enrolments = this.roomReads;
    if (!enrolments) return null;
    const enrolled = async (subjectId: string) =>
      (await once(reads.enrolled, `${actor.orgId}\n${subjectId}`, () => enrolments.enrolledIn(actor.orgId, subjectId))).has(actor.id);
    const told = new Set<string>();
    const tell = (sessionId: string) => {
      if (told.has(sessionId) || socket.disconnected) return;
      told.add(sessionId);
      socket.emit('session:access-lost', { sessionId, code: 'NOT_ENROLLED' });
    };
    /** By subject: the rooms this socket left, and the sessions to tell of unless the removal is undone. */
    const left = new Map<string, { rooms: string[]; sessions: string[] }>();
    const leave = async (subjectId: string, room: string, sessions: readonly string[]) => {
      await socket.leave(room);
      let entry = left.get(subjectId);
      if (!entry) left.set(subjectId, (entry = { rooms: [], sessions: [] }));
      entry.rooms.push(room);
      entry.sessions.push(...sessions);
    };
    try {
      for (const room of [...socket.rooms]) {
        const subjectId = subjectRoomSubject(room);
        const sessionId = studentRoomSession(room);
        if (subjectId !== undefined) {
          if ((await enrolled(subjectId)) || socket.disconnected) continue;
          const lost = await once(reads.roomSessions, `${actor.orgId}\n${subjectId}`, () =>
            enrolments.roomSessionsOf(actor.orgId, subjectId),
          );
          if (socket.disconnected) continue;
          await leave(subjectId, room, lost);
        } else if (sessionId !== undefined) {
          const of = await once(reads.subjectOf, `${actor.orgId}\n${sessionId}`, () => enrolments.subjectOfSession(actor.orgId, sessionId));
          if ((of !== null && (await enrolled(of))) || socket.disconnected) continue;
          if (of !== null) {
            await leave(of, room, [sessionId]);
            continue;
          }
          // The session is gone: nothing to enrol in again.
          await socket.leave(room);
          tell(sessionId);
        }
      }
      for (const [subjectId, { rooms, sessions }] of left) {
        const again = await enrolments.isEnrolled(actor.orgId, subjectId, actor.id);
        if (socket.disconnected) continue;
        if (!again) {
          sessions.forEach(tell);
          continue;
        }
        await socket.join(rooms);
        socket.emit('subject:enrolled', { subjectId });
      }
    } catch (err) {
      return err;
    }
    return null;
  }
}

/** The pass's read of `key`, made by the first socket that needs it. */
function once<T>(map: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let found = map.get(key);
  if (!found) map.set(key, (found = read()));
  return found;
}

/** The process's CPU (user and system) in a cpuUsage() difference, in milliseconds. */
function cpuMs(used: NodeJS.CpuUsage): number {
  return (used.user + used.system) / 1000;
}

/** Resolves after the I/O waiting now (setImmediate, not a timer: no clamp, no burst). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isAccessEndCode(code: string): code is AccessEndCode {
  return (ACCESS_END_CODES as readonly string[]).includes(code);
}

import type { Logger } from '../logger.js';
import { CLOCK_SKEW_LIMIT_MS } from '../cluster/node-registry.js';
import { rooms, studentRoomSession, type CheckinView, type SessionView } from '../shared/events.js';
import type { FanoutLink, LinkOutage } from '../shared/fanout-link.js';
import type { AppServer, AppSocket } from './types.js';

/** How long a catch-up the store could not answer waits before it tries again. */
export const CATCH_UP_RETRY_MS = 5_000;
/** How long a request of another node waits for others arriving with it, so that they make one pass. */
export const CATCH_UP_GATHER_MS = 200;
/**
 * How long this node's own catch-up waits once its link is back. After a Redis restart every node
 * comes back, each at its next reconnection attempt, at most 2 s apart (retryDelay's cap,
 * cluster/redis.ts), and each asks the others (peer-catch-up.ts): their requests, and the answers
 * to this node's, arrive within this wait and make one pass with its own, where each arriving
 * after a pass began would make one more.
 */
export const CATCH_UP_SETTLE_MS = 2_500;

/**
 * What the catch-up reads (SessionService): by student, the subjects they are enrolled in now;
 * and what changed in a session since a time, for some of its students.
 */
export interface StudentEnrolmentReads {
  enrolmentsOf(orgId: string, studentIds: readonly string[]): Promise<ReadonlyMap<string, ReadonlySet<string>>>;
  changedForStudents(
    orgId: string,
    sessionId: string,
    studentIds: readonly string[],
    since: Date,
  ): Promise<{ session: SessionView | null; checkins: { studentId: string; view: CheckinView }[] }>;
}

/** A node's student sockets, by organisation, then by student. */
type Students = Map<string, Map<string, AppSocket[]>>;

/**
 * Puts this node's student sockets back in the rooms of the subjects they were enrolled in
 * while the node could not hear it. An enrolment is announced through the adapter (its
 * sockets join the subject's room on every node, then `subject:enrolled`); announced while a
 * node's subscriber was down (Redis restarted, or that connection alone dropped), it is lost to
 * that node, and the student's socket there would miss the subject's sessions opening until the
 * page listed again. The periodic re-check does not look for it: it only takes sockets out,
 * and looking for additions each pass would read every local student's enrolments every
 * SOCKET_RECHECK_MS for an event that needs an outage. So once the link is back (FanoutLink),
 * this node reads the enrolments of its students, a few hundred a query, joins what is
 * missing and tells the page `subject:enrolled` (it lists again what opened meanwhile).
 * (An enrolment announced by a node whose own link was down waits in its publisher's queue and
 * reaches the others once it is back; after a Redis restart they may not be subscribed again
 * by then, but their links were down too, and they catch up.)
 *
 * Each join is confirmed by a read made after it, as the re-check confirms a removal: an
 * unenrolment written between the first read and the join was announced while the socket was
 * not yet in the room, so the socket leaves again and is told nothing. *
 * The same pass, without the enrolment read, tells this node's students what another node
 * changed during an outage of that node's own link (tellSince, asked by peer-catch-up.ts).
 */
export class EnrolmentCatchUp {
  private running: Promise<void> | null = null;
  private again = false;
  /** The start of the earliest outage whose missed pushes are not yet caught up; null when none. */
  private since: Date | null = null;
  /** Whether the next pass reads the enrolments too: after this node's own outage, not another's. */
  private rejoin = false;
  private retry: NodeJS.Timeout | null = null;
  /** The pass waiting for requests arriving with the one that set it, and when it starts (ms since the epoch). */
  private gather: { timer: NodeJS.Timeout; at: number } | null = null;
  private readonly stop: () => void;

  constructor(
    private readonly io: AppServer,
    link: FanoutLink | undefined,
    private readonly reads: StudentEnrolmentReads,
    private readonly logger: Logger,
  ) {
    this.stop = link ? link.onRestored((outage) => this.restored(outage)) : () => undefined;
  }

  /** This node's link is back: one pass, once the other nodes' requests of the same outage are in (CATCH_UP_SETTLE_MS). */
  private restored(outage: LinkOutage): void {
    this.missedSince(outage.since);
    this.rejoin = true;
    this.startIn(CATCH_UP_SETTLE_MS);
  }

  /**
   * One pass over this node's student sockets; asked while one runs, another follows it (its
   * reads may predate what the new request is about). Public so a test can drive it.
   */
  run(outage?: LinkOutage): Promise<void> {
    if (outage) this.missedSince(outage.since);
    this.rejoin = true;
    return this.start();
  }

  /**
   * Another node's outage ended (peer-catch-up.ts): what it changed from `since` (its clock)
   * reached none of this node's sockets. Tells this node's students the changes of their
   * sessions since then, without reading enrolments (that node's announcements waited in its
   * publisher's queue). Requests arriving within CATCH_UP_GATHER_MS make one pass, from the
   * earliest of them; one arriving during a pass makes one more after it.
   */
  tellSince(since: Date): void {
    this.missedSince(since);
    this.startIn(CATCH_UP_GATHER_MS);
  }

  /** A pass in `ms`, or when the one already waiting starts if that is later: what arrives meanwhile joins it. */
  private startIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.gather) {
      if (this.gather.at >= at) return;
      clearTimeout(this.gather.timer);
    }
    const timer = setTimeout(() => {
      this.gather = null;
      void this.start();
    }, ms);
    timer.unref();
    this.gather = { timer, at };
  }

  private start(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.passes().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  close(): void {
    this.stop();
    if (this.retry) clearTimeout(this.retry);
    if (this.gather) clearTimeout(this.gather.timer);
    this.retry = null;
    this.gather = null;
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      await this.pass();
    } while (this.again);
  }

  private missedSince(since: Date): void {
    if (this.since === null || since < this.since) this.since = since;
  }

  private async pass(): Promise<void> {
    // Another node's clock may be up to the skew limit behind this one's: its writes of the
    // outage's first moments carry times that much earlier.
    const missed = this.since && new Date(this.since.getTime() - CLOCK_SKEW_LIMIT_MS);
    const since = this.since;
    const rejoin = this.rejoin;
    this.since = null;
    this.rejoin = false;
    if (!rejoin && !missed) return;
    const byOrg: Students = new Map();
    for (const socket of this.io.of('/').sockets.values()) {
      if (socket.data.role !== 'student' || socket.disconnected) continue;
      let students = byOrg.get(socket.data.orgId);
      if (!students) byOrg.set(socket.data.orgId, (students = new Map()));
      const sockets = students.get(socket.data.userId);
      if (sockets) sockets.push(socket);
      else students.set(socket.data.userId, [socket]);
    }
    let failed = 0;
    let firstErr: unknown;
    let joined = 0;
    let told = 0;
    // One organisation at a time: a catch-up is a few queries in a row, never a burst of them.
    for (const [orgId, students] of byOrg) {
      try {
        if (rejoin) joined += await this.catchUp(orgId, students);
        if (missed) told += await this.tellChanges(orgId, students, missed);
      } catch (err) {
        failed += 1;
        firstErr ??= err;
      }
    }
    if (joined > 0) this.logger.info({ joined }, 'sockets joined the rooms of enrolments missed during a Redis outage');
    if (told > 0) this.logger.info({ told }, 'students told the changes of their sessions missed during a Redis outage');
    if (failed === 0) return;
    if (since) this.missedSince(since);
    if (rejoin) this.rejoin = true;
    // The store out of reach as well: what was missed is still missed, so try again later.
    this.logger.warn({ err: firstErr, organisations: failed }, 'enrolments missed during a Redis outage not caught up; trying again');
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.start();
    }, CATCH_UP_RETRY_MS);
    this.retry.unref();
  }

  /**
   * The pushes another node made during the outage reached none of this node's sockets: for
   * each session they joined, the session (`session:status`) when it changed since, and each
   * student's own record (`checkin:decision`) when it changed since, read from the store, sent
   * to this node's sockets in the session's room only. One read of records per session.
   * Answers how many pushes were sent.
   */
  private async tellChanges(orgId: string, students: Map<string, AppSocket[]>, since: Date): Promise<number> {
    const bySession = new Map<string, Map<string, AppSocket[]>>();
    for (const [studentId, sockets] of students) {
      for (const socket of sockets) {
        for (const room of socket.rooms) {
          const sessionId = studentRoomSession(room);
          if (sessionId === undefined) continue;
          let joined = bySession.get(sessionId);
          if (!joined) bySession.set(sessionId, (joined = new Map()));
          const theirs = joined.get(studentId);
          if (theirs) theirs.push(socket);
          else joined.set(studentId, [socket]);
        }
      }
    }
    let told = 0;
    for (const [sessionId, joined] of bySession) {
      const changed = await this.reads.changedForStudents(orgId, sessionId, [...joined.keys()], since);
      for (const { studentId, view } of changed.checkins) {
        for (const socket of joined.get(studentId) ?? []) {
          if (socket.disconnected) continue;
          socket.emit('checkin:decision', view);
          told += 1;
        }
      }
      if (!changed.session) continue;
      for (const sockets of joined.values()) {
        for (const socket of sockets) {
          if (socket.disconnected) continue;
          socket.emit('session:status', changed.session);
          told += 1;
        }
      }
    }
    return told;
  }

  /** Joins one organisation's student sockets to the rooms they miss; answers how many joins stood. */
  private async catchUp(orgId: string, students: Map<string, AppSocket[]>): Promise<number> {
    const enrolled = await this.reads.enrolmentsOf(orgId, [...students.keys()]);
    const joins: { socket: AppSocket; studentId: string; subjectId: string }[] = [];
    const pending: Promise<void>[] = [];
    for (const [studentId, sockets] of students) {
      for (const subjectId of enrolled.get(studentId) ?? []) {
        const room = rooms.subjectStudents(subjectId);
        for (const socket of sockets) {
          if (socket.disconnected || socket.rooms.has(room)) continue;
          joins.push({ socket, studentId, subjectId });
          const done = socket.join(room);
          if (done) pending.push(done);
        }
      }
    }
    if (joins.length === 0) return 0;
    await Promise.all(pending);
    const confirmed = await this.reads.enrolmentsOf(orgId, [...new Set(joins.map((j) => j.studentId))]);
    let stood = 0;
    for (const { socket, studentId, subjectId } of joins) {
      if (socket.disconnected) continue;
      if (confirmed.get(studentId)?.has(subjectId)) {
        stood += 1;
        socket.emit('subject:enrolled', { subjectId });
      } else {
        await socket.leave(rooms.subjectStudents(subjectId));
      }
    }
    return stood;
  }
}

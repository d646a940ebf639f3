import { randomUUID } from 'node:crypto';
import { AppError } from '../../shared/app-error.js';
import type { DomainDeps } from '../deps.js';
import { CloseLeaseLost, holdCloseLease, type HeldCloseLease } from './close-lease.js';
import { publishRecordChange, recordWithoutCheckin } from '../checkins/record-change.js';
import { recomputeDailySummary } from '../summaries/summary-service.js';
import { excusedFields } from '../excuses/excuse-service.js';
import { newTombstoneId, personOf } from '../privacy/erasure-rules.js';
import { applyTransition, assertTransition } from './lifecycle.js';
import { loadRosterEntries } from './roster-entries.js';
import { countRoster, toSessionView } from './views.js';
import type { Excuse } from '../ports/excuses.js';
import type { RecordPatch, RecordWrite } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import type { User } from '../ports/users.js';
import type { CloseResult } from '../../shared/events.js';
import type { ReasonCode } from '../../shared/reasons.js';

/**
 * Record writes per store call at closing: one transaction, or one bulk write, each. Small
 * enough for FerretDB 1.24, which stalled past a minute on the roster-version bulk of a batch of
 * 100 (scripts/bench-bulk.ts --store mongo), where batches of 50 each took 0.5 to 2.5 s.
 */
const CLOSE_WRITE_BATCH = 50;
/**
 * How soon a close waiting for another's lease looks again, doubling to the most (wall time: a
 * person waits on it, and a close on a slow store takes tens of seconds).
 */
const LEASE_WAIT_MS = 250;
const LEASE_WAIT_MAX_MS = 2_000;

/** Step 5's outcome: the session it closed (null: another close did), and the closer as read before it. */
interface ClosedBy {
  finished: AttendanceSession | null;
  closer: User | null;
}

/**
 * Closing is a sequence of idempotent steps, so a crash part-way is finished by whichever node
 * next sees the session in 'closing':
 *   1. open|scheduled -> closing (compare-and-set; only one caller wins the transition);
 *   2. every enrolled student without a record gets an 'absent' record (insert-if-absent);
 *   3. settlement rule: 'pending' becomes 'absent' (reason PENDING_AT_CLOSE, flagged
 *      UNRESOLVED_AT_CLOSE so the teacher can correct it), 'rejected' becomes 'absent'
 *      keeping the rejection reason; in steps 2 and 3 a student with an approved excuse
 *      covering the session becomes 'excused' instead (reason EXCUSED, with its category);
 *   4. the subject's daily summary is recomputed;
 *   5. closing -> closed.
 * Steps 2 to 5 run under the session's close lease, and each write step first renews it in the
 * store and checks it again in its write (its fence): a close that lost it stops there, even one
 * paused between the renewal and the write. A close runs CLOSE_MAX_MS at most.
 */
export interface SessionCloserOptions {
  /** This node's name in leases. */
  owner: string;
  /** The close lease's length, renewed while a close runs (the schedulers' own, 30 s). */
  leaseMs?: number;
  /**
   * How long closeAnswering waits for the close to finish before answering with the session
   * still closing (CLOSE_ANSWER_WAIT_MS, 3 s).
   */
  answerWithinMs?: number;
  /**
   * The longest a close may run (CLOSE_MAX_MS, 10 minutes), wall time: past it the close fails
   * CLOSE_TIMED_OUT and releases its lease, so that a close stuck in a store call does not keep
   * the session closing for ever.
   */
  maxMs?: number;
  /** The timer behind `maxMs` (`AbortSignal.timeout`): tests pass deadlines they expire themselves. */
  deadline?: (ms: number) => AbortSignal;
}

/** A close running on this node: who asked, its end, and when its session became closing. */
interface Close {
  by: string | null;
  running: Promise<CloseResult>;
  begun: Promise<void>;
}

export class SessionCloser {
  private readonly leaseMs: number;
  private readonly answerWithinMs: number;
  private readonly maxMs: number;
  /** The closes running on this node (not a scheduler's), by organisation and session. */
  private readonly running = new Map<string, Close>();

  constructor(
    private readonly deps: DomainDeps,
    private readonly options: SessionCloserOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.answerWithinMs = options.answerWithinMs ?? 3_000;
    this.maxMs = options.maxMs ?? 600_000;
  }

  /**
   * A teacher's close: answered with the closed session when the close finishes within
   * `answerWithinMs`, else then with the session as it stands, still `closing`, and the counts
   * stored so far. The close goes on in the background under its lease (a job of this node,
   * waited for at shutdown): its records reach the screens as roster updates as they are stored,
   * and `session:status` says `closed` when it is done. A node that dies meanwhile leaves the
   * session closing; its lease expires and a close scheduler on any node finishes it. A 300-student
   * close on FerretDB took 25 s, past the teacher page's 10 s wait for an answer.
   */
  async closeAnswering(orgId: string, sessionId: string, by: string): Promise<CloseResult> {
    const { running, begun } = this.start(orgId, sessionId, by);
    let timer: NodeJS.Timeout | undefined;
    // Wall time, not the domain clock: this bounds how long a person waits for an answer. It
    // starts once the session is closing: an answer read before that (a slow store, a wait of 0)
    // would tell the teacher the session is still open.
    const late = begun.then(
      () =>
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), this.answerWithinMs);
        }),
    );
    try {
      const finished = await Promise.race([running, late]);
      if (finished) return finished;
    } finally {
      clearTimeout(timer);
    }
    this.deps.jobs.run('session.close', async () => {
      await running;
    });
    return this.result(orgId, sessionId);
  }

  /**
   * Closes a session, or finishes a close left half-done. `held`: the caller (a close scheduler)
   * holds the session's lease already; otherwise (a teacher's close) the close takes it, so that
   * no scheduler runs the same close beside it. A close whose lease another holds (a scheduler
   * reached close-at at that moment, a close still running) waits for that one and answers what
   * it came to (leaseOf). A close that runs past its bound (CLOSE_MAX_MS) fails CLOSE_TIMED_OUT,
   * its lease released for another close to finish the session.
   */
  async close(orgId: string, sessionId: string, by: string | null, held?: HeldCloseLease): Promise<CloseResult> {
    if (held) return this.run(orgId, sessionId, by, held, () => {});
    return this.start(orgId, sessionId, by).running;
  }

  /**
   * A close without a held lease, or the one of this node it joins. Closes of one session on
   * this node while one runs share it, as they would wait for it: a teacher tapping close again
   * and again adds no waiter, nor its store calls, per tap.
   */
  private start(orgId: string, sessionId: string, by: string | null): Close {
    const key = `${orgId}\n${sessionId}`;
    const joined = this.running.get(key);
    if (!joined) {
      let began = (): void => {};
      const begun = new Promise<void>((resolve) => (began = resolve));
      const running = this.run(orgId, sessionId, by, null, began).finally(() => this.running.delete(key));
      const close = { by, running, begun };
      this.running.set(key, close);
      return close;
    }
    if (joined.by === by) return joined;
    // Another's close refused for its closer having gone (erased meanwhile) is no answer to this
    // caller, whose account is fine: it closes the session itself once that one has stopped.
    const running = joined.running.catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'ACCOUNT_DISABLED') return this.close(orgId, sessionId, by);
      throw err;
    });
    return { by, running, begun: joined.begun };
  }

  /** The session's close lease for a close scheduler, bounded as a teacher's close is. */
  holdLease(session: { orgId: string; id: string }, owner: string, leaseMs: number): Promise<HeldCloseLease | null> {
    return holdCloseLease(this.deps, session, owner, leaseMs, this.maxMs, this.options.deadline);
  }

  /** `closing`: called once the session is closing (or closed), before the steps that follow. */
  private async run(
    orgId: string,
    sessionId: string,
    by: string | null,
    held: HeldCloseLease | null,
    closing: () => void,
  ): Promise<CloseResult> {
    const { store, now } = this.deps;
    const transitioned = await applyTransition(store, { orgId, id: sessionId }, 'close');
    const began = transitioned !== null;
    let session: AttendanceSession;
    if (transitioned) session = transitioned;
    else {
      const current = await store.sessions.get(orgId, sessionId);
      if (!current) throw new AppError('SESSION_NOT_FOUND');
      // Closing or closed already: the steps below finish it, or answer what it came to.
      if (current.status !== 'closing' && current.status !== 'closed') assertTransition('close', current.status);
      session = current;
    }
    closing();
    const subject = await store.subjects.get(orgId, session.subjectId);
    // Every screen of the session hears that it is closing (check-ins are refused from now), not
    // only the teacher who closed: a co-teacher's console, the classroom screen, its students.
    // Once, from the close that made the transition; `closed` follows when the close is done.
    if (began && subject && session.status === 'closing') {
      this.deps.events.publish({ type: 'session.changed', orgId, session: toSessionView(session, subject, now()) });
    }
    let finished: AttendanceSession | null = null;
    let closer: User | null = null;
    let ran = false;
    while (session.status === 'closing') {
      const taken: { session: AttendanceSession; lease: HeldCloseLease | null } = held
        ? { session, lease: held }
        : await this.leaseOf(session);
      session = taken.session;
      if (!taken.lease) break;
      try {
        ({ finished, closer } = await this.bounded(session, this.steps(session, by, taken.lease), taken.lease));
        ran = true;
        break;
      } catch (err) {
        // Paused past its lease, this close was taken over: the other close finishes the session,
        // and this one waits for it (leaseOf) as a close arriving now would. A scheduler's moves on.
        if (held || !(err instanceof CloseLeaseLost)) throw err;
        this.deps.logger.warn({ sessionId }, 'close lease lost mid-close; waiting for the close that took it over');
      } finally {
        if (!held) await taken.lease.release();
      }
    }
    // Steps run but not the one to finish it: another close did, and the session is as it left it.
    if (finished) session = finished;
    else if (ran) session = (await store.sessions.get(orgId, sessionId)) ?? session;
    // Only the close that made it closed says so: one audit entry and one status push per close.
    if (subject && finished) {
      await store.audit.append({
        orgId,
        entityType: 'session',
        entityId: sessionId,
        sessionId,
        actorId: by,
        action: 'session.close',
        from: { status: 'closing' },
        to: { status: 'closed' },
        reason: by ? null : 'SCHEDULED_CLOSE',
        ip: null,
        at: now(),
      });
      if (closer) await this.takeBackErasedCloser(closer, sessionId);
      this.deps.events.publish({ type: 'session.changed', orgId, session: toSessionView(session, subject, now()) });
    }
    if (!subject) throw new AppError('SESSION_NOT_FOUND');
    return this.resultOf(session, subject);
  }

  /**
   * Steps 2 to 5, each write step behind the lease's fence: a close that lost its lease (paused
   * past it while another close took the session over) stops before its next write.
   */
  private async steps(session: AttendanceSession, by: string | null, lease: HeldCloseLease): Promise<ClosedBy> {
    const { store, now } = this.deps;
    // Two passes: a check-in that read 'open' just before the transition may land after the
    // first pass; the second settles it.
    await this.settle(session, by, lease);
    await this.settle(session, by, lease);
    await lease.write((fence) => recomputeDailySummary(store, session.orgId, session.subjectId, session.day, fence));
    // A closer erased during the close is not named as its closer (records.writeBatch refuses
    // their record writes the same way); the scheduler's close finishes it, by nobody.
    const closer = by === null ? null : await store.users.get(session.orgId, by);
    if (by !== null && !closer) throw new AppError('ACCOUNT_DISABLED');
    const finished = await lease.write((fence) =>
      applyTransition(store, session, 'finishClose', { closedAt: now(), closedBy: by }, undefined, fence),
    );
    return { finished, closer };
  }

  /**
   * The closer read again once the session names them (closedBy, the audit entry): one erased
   * since the check before step 5 had their erasure sweep the sessions and the trail before
   * these were written, so the erasure's store step runs again under a tombstone of its own, as
   * for an invitation written while its user was erased (account-service takeBackErased).
   */
  private async takeBackErasedCloser(closer: User, sessionId: string): Promise<void> {
    const { store } = this.deps;
    if (await store.users.get(closer.orgId, closer.id)) return;
    await store.privacy.erase(personOf(closer), newTombstoneId());
    this.deps.logger.warn({ sessionId }, 'the closer was erased during the close; the erasure ran again over it');
  }

  /**
   * The steps, or CLOSE_TIMED_OUT once the lease's bound passes (the lease is then released):
   * a store call that never answers does not hold the session closing for ever. The screens are
   * told; the steps left behind stop at their next fence if their call ever answers.
   */
  private async bounded(session: AttendanceSession, steps: Promise<ClosedBy>, lease: HeldCloseLease): Promise<ClosedBy> {
    let settled = false;
    const done = steps.finally(() => {
      settled = true;
    });
    const overdue = lease.overdue.then((): ClosedBy => {
      if (settled) return { finished: null, closer: null };
      this.deps.logger.error({ sessionId: session.id, maxMs: this.maxMs }, 'close ran past CLOSE_MAX_MS; its lease is released');
      this.deps.events.publish({ type: 'session.close-failed', orgId: session.orgId, sessionId: session.id, code: 'CLOSE_TIMED_OUT' });
      // The steps left running end in CloseLeaseLost at their next fence (or never): no answer is owed.
      done.catch(() => {});
      throw new AppError('CLOSE_TIMED_OUT');
    });
    return Promise.race([done, overdue]);
  }

  /**
   * The session's close lease, and the session read again under it. Only the lease's holder
   * runs the steps: a close that finds another holding it (the teacher's close still writing, a
   * second tap, another node) waits for that close instead of writing beside it. One writing
   * beside it had read the records before the other wrote them, and its absents could land after
   * that close finished and the teacher reopened the session: absent in an open session, with
   * the student's tap answered by that absent. A holder that dies leaves the lease to expire,
   * and the waiter (or a scheduler) finishes the close. No lease when the session is closing no more.
   */
  private async leaseOf(session: AttendanceSession): Promise<{ session: AttendanceSession; lease: HeldCloseLease | null }> {
    const owner = `${this.options.owner}:${randomUUID()}`;
    for (let pause = LEASE_WAIT_MS; ; pause = Math.min(pause * 2, LEASE_WAIT_MAX_MS)) {
      const lease = await holdCloseLease(this.deps, session, owner, this.leaseMs, this.maxMs, this.options.deadline);
      // Under the lease: a close that finished meanwhile (and a reopening after it) is not redone.
      const current = await this.deps.store.sessions.get(session.orgId, session.id);
      if (!current) {
        await lease?.release();
        throw new AppError('SESSION_NOT_FOUND');
      }
      if (current.status !== 'closing') {
        await lease?.release();
        return { session: current, lease: null };
      }
      if (lease) return { session: current, lease };
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** The session and its counts as stored now. */
  private async result(orgId: string, sessionId: string): Promise<CloseResult> {
    const { store } = this.deps;
    const session = await store.sessions.get(orgId, sessionId);
    const subject = session && (await store.subjects.get(orgId, session.subjectId));
    if (!session || !subject) throw new AppError('SESSION_NOT_FOUND');
    return this.resultOf(session, subject);
  }

  private async resultOf(session: AttendanceSession, subject: Subject): Promise<CloseResult> {
    const entries = await loadRosterEntries(this.deps.store, session, true);
    return { session: toSessionView(session, subject, this.deps.now()), counts: countRoster(entries) };
  }

  private async settle(session: AttendanceSession, by: string | null, lease: HeldCloseLease): Promise<void> {
    const { store, now } = this.deps;
    const { orgId } = session;
    const [enrolled, records] = await Promise.all([
      store.subjects.listEnrolled(orgId, session.subjectId),
      store.records.listBySession(orgId, session.id),
    ]);
    const withRecord = new Set(records.map((r) => r.studentId));
    const missing = enrolled.filter((id) => !withRecord.has(id));
    const unsettled = records.filter((r) => r.status === 'pending' || r.status === 'rejected');
    if (missing.length === 0 && unsettled.length === 0) return;
    const students = new Map<string, User>(
      (await store.users.getMany(orgId, [...missing, ...unsettled.map((r) => r.studentId)])).map((u) => [u.id, u]),
    );
    const at = now();
    const excuses = new Map<string, Excuse>();
    for (const e of await store.excuses.listApprovedCovering(orgId, [...students.keys()], session.id, session.subjectId, session.day)) {
      if (!excuses.has(e.studentId)) excuses.set(e.studentId, e);
    }
    const writes: RecordWrite[] = [];
    for (const studentId of missing) {
      const excuse = excuses.get(studentId);
      const decision = excuse
        ? { ...excusedFields(excuse, at, by), note: null }
        : { status: 'absent' as const, reason: 'NO_CHECKIN' as const, decidedAt: at, decidedBy: by, note: null };
      writes.push({
        kind: 'insert',
        orgId,
        input: { ...recordWithoutCheckin(session, studentId, decision), ...(excuse ? decision : {}) },
        audit: { actorId: by, action: excuse ? 'close.excused' : 'close.absent', reason: decision.reason, ip: null },
      });
    }
    for (const record of unsettled) {
      const excuse = excuses.get(record.studentId);
      const patch: RecordPatch = excuse
        ? excusedFields(excuse, at, by)
        : record.status === 'pending'
          ? {
              status: 'absent',
              reason: 'PENDING_AT_CLOSE',
              flags: [...new Set<ReasonCode>([...record.flags, 'UNRESOLVED_AT_CLOSE'])],
              decidedAt: at,
              decidedBy: by,
            }
          : { status: 'absent', decidedAt: at, decidedBy: by };
      writes.push({
        kind: 'update',
        orgId,
        id: record.id,
        expectedVersion: record.version,
        patch,
        audit: { actorId: by, action: 'close.settle', reason: patch.reason ?? record.reason, ip: null },
      });
    }
    // The writes and their audit entries in batches (one transaction each on SQLite, bulk writes
    // on MongoDB) rather than a few round trips per student one after another: a 300-student
    // close on a loaded MongoDB took minutes that way. Each write keeps its own rule: an insert
    // where a record exists (a check-in that won the race) and an update of a record changed
    // meanwhile (someone decided it; the next pass sees their decision) are not written.
    let failure: unknown = null;
    for (let from = 0; from < writes.length; from += CLOSE_WRITE_BATCH) {
      const batch = writes.slice(from, from + CLOSE_WRITE_BATCH);
      for (const result of await lease.write((fence) => store.records.writeBatch(batch, fence))) {
        if ('error' in result) failure ??= result.error;
        else if (result.written) {
          const student = students.get(result.record.studentId);
          if (student) publishRecordChange(this.deps, session, student, result.record);
        }
      }
    }
    // A write refused alone (its audit entry failed, a key held in another organisation) fails
    // the close as it did one write at a time; the session stays closing, and the next close
    // or scheduler pass finishes it.
    if (failure !== null) throw failure;
  }
}

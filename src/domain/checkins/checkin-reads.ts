import { AppError } from '../../shared/app-error.js';
import type { AttendanceRecord } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';
import type { UserName } from '../ports/users.js';

export type Student = UserName;

/** What one check-in reads before it is evaluated. */
export interface CheckinContext {
  session: AttendanceSession;
  subject: Subject;
  enrolled: boolean;
  /** The student's record of the session, if any. */
  existing: AttendanceRecord | null;
  /** The name the roster shows (the id when the account is gone). */
  student: Student;
}

interface Waiter {
  studentId: string;
  resolve: (ctx: CheckinContext) => void;
  reject: (err: unknown) => void;
}

/** Runs `fn` once the current turn of the event loop is over (after I/O callbacks); injected for tests. */
export type Defer = (fn: () => void) => void;

const nextTurn: Defer = (fn) => setImmediate(fn);

/**
 * The reads of a check-in, shared by every check-in of the same session that arrives in the same
 * turn of the event loop: one read of the session and its subject, and one query each for the
 * students' enrolments, their existing records and their names (those columns alone), instead of six queries per
 * check-in. Nothing is kept once the turn's reads are answered, so there is nothing to
 * invalidate: each check-in sees the store as it was at most one turn before it was read, as a
 * read of its own would (a role, an unenrolment or a closing that lands later is caught exactly
 * as before: by the current actor's check, and by the group commit's unique key and versions).
 */
export class CheckinReads {
  /** Waiting for the next turn, by organisation and session. */
  private groups = new Map<string, { orgId: string; sessionId: string; waiters: Waiter[] }>();

  constructor(
    private readonly store: Store,
    private readonly defer: Defer = nextTurn,
  ) {}

  read(orgId: string, sessionId: string, studentId: string): Promise<CheckinContext> {
    return new Promise((resolve, reject) => {
      if (this.groups.size === 0) this.defer(() => this.flush());
      const key = `${orgId}\n${sessionId}`;
      let group = this.groups.get(key);
      if (!group) {
        group = { orgId, sessionId, waiters: [] };
        this.groups.set(key, group);
      }
      group.waiters.push({ studentId, resolve, reject });
    });
  }

  private flush(): void {
    const groups = [...this.groups.values()];
    this.groups = new Map();
    for (const g of groups) {
      this.readGroup(g.orgId, g.sessionId, g.waiters).catch((err: unknown) => {
        for (const w of g.waiters) w.reject(err);
      });
    }
  }

  private async readGroup(orgId: string, sessionId: string, waiters: readonly Waiter[]): Promise<void> {
    const { store } = this;
    const session = await store.sessions.get(orgId, sessionId);
    // A session whose subject was deleted is as good as gone.
    const subject = session ? await store.subjects.get(orgId, session.subjectId) : null;
    if (!session || !subject) {
      for (const w of waiters) w.reject(new AppError('SESSION_NOT_FOUND'));
      return;
    }
    const ids = [...new Set(waiters.map((w) => w.studentId))];
    const [enrolled, records, users] = await Promise.all([
      store.subjects.enrolledAmong(orgId, subject.id, ids),
      store.records.getForStudents(orgId, session.id, ids),
      store.users.getNames(orgId, ids),
    ]);
    const enrolledIds = new Set(enrolled);
    const recordOf = new Map(records.map((r) => [r.studentId, r]));
    const userOf = new Map(users.map((u) => [u.id, u]));
    for (const w of waiters) {
      const user = userOf.get(w.studentId);
      w.resolve({
        session,
        subject,
        enrolled: enrolledIds.has(w.studentId),
        existing: recordOf.get(w.studentId) ?? null,
        // A deleted account still has records; show its id rather than failing the write.
        student: user ?? { id: w.studentId, name: w.studentId, studentNumber: null },
      });
    }
  }
}

import { AppError } from '../../shared/app-error.js';
import type { AttendanceRecord } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';
import type { ReadVersions } from '../ports/read-versions.js';
import type { Subject } from '../ports/subjects.js';
import type { UserName } from '../ports/users.js';

export type Student = UserName;

/** What one check-in reads before it is evaluated. */
export interface CheckinContext {
  /**
   * Its roster counter and the scheduler's lease may be older than the store's (a kept read
   * does not follow them: see CheckinReads); nothing of a check-in reads them.
   */
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

interface Group {
  orgId: string;
  sessionId: string;
  waiters: Waiter[];
}

/** Runs `fn` once the current turn of the event loop is over (after I/O callbacks); injected for tests. */
export type Defer = (fn: () => void) => void;

const nextTurn: Defer = (fn) => setImmediate(fn);

/**
 * What a node keeps of an organisation's reads, each map as long as the store's read version of
 * its kind (ports/read-versions.ts) is the one read before it was filled.
 */
interface Kept {
  versions: ReadVersions;
  /** Sessions with their subjects (both versions); null: no such session, or its subject is gone. */
  sessions: Map<string, { session: AttendanceSession; subject: Subject } | null>;
  /** By subject, then student: enrolled or not. */
  enrolled: Map<string, Map<string, boolean>>;
  /** null: no such user in the organisation. */
  names: Map<string, UserName | null>;
}

/** Bounds of what is kept: entries of one map (it starts over beyond), and organisations. */
export const KEPT_READ_LIMITS = { entries: 50_000, organisations: 100 } as const;

const NO_VERSIONS: ReadVersions = { users: 0, subjects: 0, enrolments: 0, sessions: 0 };

/**
 * The reads of a check-in, shared by every check-in of the same session that arrives in the same
 * turn of the event loop: one read of the session and its subject, and one query each for the
 * students' enrolments, their existing records and their names (those columns alone), instead
 * of six queries per check-in.
 *
 * On a store with read versions (SQLite), sessions, subjects, enrolments and names are also
 * kept across turns: each turn first reads the organisation's versions (one statement), and
 * what was read under the same version of its kind is used again; a different one drops that
 * kind (sessions with subjects). Every change of those rows moves its version on (triggers,
 * whoever writes), and a kept read is tagged with the version read before it, so nothing kept
 * is ever older than the store at the turn's version read: a rename, an erasure, an unenrolment or a closing applies to the
 * next check-in on every node, as when each turn read them afresh (which the MongoDB store, which
 * has no read versions, still does). The student's existing record is read every turn (records
 * change with every check-in); a role or a deactivation is the current actor's check.
 */
export class CheckinReads {
  /** Waiting for the next turn, by organisation, then session (nested maps: no key string per check-in). */
  private groups = new Map<string, Map<string, Group>>();
  /** By organisation, in least recently used order (a use re-inserts). */
  private readonly kept = new Map<string, Kept>();

  constructor(
    private readonly store: Store,
    private readonly defer: Defer = nextTurn,
    private readonly limits: { readonly entries: number; readonly organisations: number } = KEPT_READ_LIMITS,
  ) {}

  read(orgId: string, sessionId: string, studentId: string): Promise<CheckinContext> {
    return new Promise((resolve, reject) => {
      if (this.groups.size === 0) this.defer(() => this.flush());
      let ofOrg = this.groups.get(orgId);
      if (!ofOrg) this.groups.set(orgId, (ofOrg = new Map()));
      let group = ofOrg.get(sessionId);
      if (!group) {
        group = { orgId, sessionId, waiters: [] };
        ofOrg.set(sessionId, group);
      }
      group.waiters.push({ studentId, resolve, reject });
    });
  }

  /** How many organisations' reads are kept (for tests and the bounds). */
  get keptOrganisations(): number {
    return this.kept.size;
  }

  private flush(): void {
    const byOrg = this.groups;
    this.groups = new Map();
    for (const [orgId, ofOrg] of byOrg) {
      const groups = [...ofOrg.values()];
      this.readOrganisation(orgId, groups).catch((err: unknown) => {
        for (const g of groups) for (const w of g.waiters) w.reject(err);
      });
    }
  }

  private async readOrganisation(orgId: string, groups: readonly Group[]): Promise<void> {
    const kept = await this.keptFor(orgId);
    const ready: { group: Group; session: AttendanceSession; subject: Subject; ids: string[] }[] = [];
    // Side by side (on MongoDB each is a round trip); one failing (a store error) fails its own check-ins only.
    const sessions = await Promise.all(
      groups.map((group) =>
        this.sessionOf(kept, group).catch((err: unknown) => {
          for (const w of group.waiters) w.reject(err);
          return undefined;
        }),
      ),
    );
    groups.forEach((group, i) => {
      const found = sessions[i];
      if (found === null) for (const w of group.waiters) w.reject(new AppError('SESSION_NOT_FOUND'));
      if (found) ready.push({ group, ...found, ids: [...new Set(group.waiters.map((w) => w.studentId))] });
    });
    if (ready.length === 0) return;
    const { store } = this;
    const unknownNames = [...new Set(ready.flatMap((r) => r.ids.filter((id) => !kept.names.has(id))))];
    // The records of every session of the turn in one query; enrolments by subject, names by
    // organisation, only those not kept (one query each at most).
    const [records, users, enrolled] = await Promise.all([
      store.records.getForSessionStudents(
        orgId,
        ready.flatMap((r) => r.ids.map((studentId) => ({ sessionId: r.session.id, studentId }))),
      ),
      unknownNames.length > 0 ? store.users.getNames(orgId, unknownNames) : [],
      Promise.all(ready.map((r) => this.enrolmentsOf(kept, orgId, r.subject.id, r.ids))),
    ]);
    for (const id of unknownNames) kept.names.set(id, null);
    for (const u of users) kept.names.set(u.id, u);
    // By session, then student: a key string per check-in, built twice, was garbage of each.
    const recordOf = new Map<string, Map<string, AttendanceRecord>>();
    for (const r of records) {
      let ofSession = recordOf.get(r.sessionId);
      if (!ofSession) recordOf.set(r.sessionId, (ofSession = new Map()));
      ofSession.set(r.studentId, r);
    }
    ready.forEach(({ group, session, subject }, i) => {
      const enrolment = enrolled[i]!;
      const recordsOfSession = recordOf.get(session.id);
      for (const w of group.waiters) {
        w.resolve({
          session,
          subject,
          enrolled: enrolment.get(w.studentId) === true,
          existing: recordsOfSession?.get(w.studentId) ?? null,
          // A deleted account still has records; show its id rather than failing the write.
          student: kept.names.get(w.studentId) ?? { id: w.studentId, name: w.studentId, studentNumber: null },
        });
      }
    });
  }

  /** The session with its subject, kept or read; null when either is gone. */
  private async sessionOf(kept: Kept, { orgId, sessionId }: Group): Promise<{ session: AttendanceSession; subject: Subject } | null> {
    let found = kept.sessions.get(sessionId);
    if (found === undefined) {
      const session = await this.store.sessions.get(orgId, sessionId);
      // A session whose subject was deleted is as good as gone.
      const subject = session ? await this.store.subjects.get(orgId, session.subjectId) : null;
      found = session && subject ? { session, subject } : null;
      kept.sessions.set(sessionId, found);
    }
    return found;
  }

  /** Whether each of the students is enrolled in the subject, from what is kept and one read of the rest. */
  private async enrolmentsOf(kept: Kept, orgId: string, subjectId: string, ids: readonly string[]): Promise<Map<string, boolean>> {
    let ofSubject = kept.enrolled.get(subjectId);
    if (!ofSubject) kept.enrolled.set(subjectId, (ofSubject = new Map()));
    const known = ofSubject;
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      // Kept only once read: a failed read keeps nothing.
      const enrolled = new Set(await this.store.subjects.enrolledAmong(orgId, subjectId, unknown));
      for (const id of unknown) known.set(id, enrolled.has(id));
    }
    return known;
  }

  /** The organisation's kept reads as of its versions now; a throwaway for one turn without versions. */
  private async keptFor(orgId: string): Promise<Kept> {
    const store = this.store.readVersions;
    if (!store) return { versions: NO_VERSIONS, sessions: new Map(), enrolled: new Map(), names: new Map() };
    // Read before anything it tags: a change committed after this read moves a version on, so
    // the next turn drops what this one reads, even if that already saw the change.
    const versions = await store.current(orgId);
    const was = this.kept.get(orgId);
    this.kept.delete(orgId);
    const { entries } = this.limits;
    const keep = <M extends Map<string, unknown>>(map: M | undefined, same: boolean, size = map?.size ?? 0): M | null =>
      map && same && size <= entries ? map : null;
    let enrolments = 0;
    for (const ofSubject of was?.enrolled.values() ?? []) enrolments += ofSubject.size;
    // A new object, each map carried over only while its versions stand.
    const kept: Kept = {
      versions,
      sessions:
        keep(was?.sessions, was?.versions.sessions === versions.sessions && was.versions.subjects === versions.subjects) ?? new Map(),
      enrolled: keep(was?.enrolled, was?.versions.enrolments === versions.enrolments, enrolments) ?? new Map(),
      names: keep(was?.names, was?.versions.users === versions.users) ?? new Map(),
    };
    this.kept.set(orgId, kept);
    for (const key of this.kept.keys()) {
      if (this.kept.size <= this.limits.organisations) break;
      this.kept.delete(key);
    }
    return kept;
  }
}

import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import { audit, auditEntry } from '../audit-log.js';
import { publishRecordChange, recordWithoutCheckin, updateRecord, writeRecord, writeRefusal } from '../checkins/record-change.js';
import type { DomainDeps } from '../deps.js';
import { recomputeDailySummary } from '../summaries/summary-service.js';
import { type Page } from '../ports/common.js';
import { pendingScopeKey, type Excuse, type ExcuseKey, type ExcuseStatus } from '../ports/excuses.js';
import { absenceCategoriesOf } from '../ports/organisations.js';
import { type AttendanceRecord, type RecordPatch } from '../ports/records.js';
import { type AttendanceSession } from '../ports/sessions.js';
import { type Subject } from '../ports/subjects.js';
import { type User } from '../ports/users.js';
import { checkDocument } from './excuse-document.js';
import { issue, type IssueCode } from '../../shared/validation-issues.js';

/** Longest day range one excuse may cover. */
export const MAX_EXCUSE_DAYS = 92;
/**
 * Excuses of one student waiting for a decision, and documents among them. Without a bound one
 * student, at the routes' rates (600 excuses and 30 documents of 5 MB a minute), filled the
 * store's disk: 9 GB of documents an hour that no one had to decide.
 */
export const MAX_PENDING_EXCUSES = 20;
/** Pending excuses read to judge the bound: more than it, for those sent at the same moment. */
const PENDING_READ = 1_000;
/** Sessions of one subject an approval reads at most (a term's worth of a range). */
const SESSIONS_PER_SUBJECT = 1_000;
/** Attempts at one record that keeps changing under the approval (a teacher marking it meanwhile). */
const RECORD_RETRIES = 3;
/** Submissions of a scope whose pending excuse was decided just as the student's edit reached it. */
const EDIT_ATTEMPTS = 3;

export interface SubmitExcuseInput {
  /** One session; otherwise fromDay..toDay, of one subject or (subjectId absent) of all. */
  sessionId?: string | undefined;
  subjectId?: string | undefined;
  fromDay?: string | undefined;
  toDay?: string | undefined;
  category: string;
  text: string;
}

export interface ExcuseView extends Omit<Excuse, 'orgId'> {
  studentName: string;
  studentNumber: string | null;
}

export interface DecisionResult {
  excuse: ExcuseView;
  /** Records of settled sessions the approval turned into excused (0 for a decline). */
  recordsChanged: number;
}

/**
 * Excuse requests: a student asks that a session or a range of days be excused, with a
 * category of the organisation, a text and optionally a document; the subject's teachers or an
 * admin approve or decline. Approval turns the student's absences in settled sessions into
 * `excused` through the audited record path, and sessions still to close apply it when they
 * settle (SessionCloser). A decline changes no record.
 */
export class ExcuseService {
  constructor(private readonly deps: DomainDeps) {}

  /**
   * A new pending excuse (`created`), or the student's pending one of the same scope (the same
   * session, or the same subject or all and days): unchanged when sent again as it stands (a
   * double tap, a retry), else with the category and text just sent (the student's edit, audited
   * `excuse.edit`). A decision frees the scope: the next submission of it is a new excuse.
   */
  async submit(actor: Actor, input: SubmitExcuseInput): Promise<{ excuse: ExcuseView; created: boolean }> {
    if (actor.role !== 'student') throw new AppError('FORBIDDEN', 'Students submit excuses for themselves.');
    const { store } = this.deps;
    const org = await store.organisations.get(actor.orgId);
    if (!org) throw new AppError('NOT_FOUND');
    const category = input.category.trim().toUpperCase();
    if (!absenceCategoriesOf(org.settings).some((c) => c.code === category)) throw new AppError('ABSENCE_CATEGORY_UNKNOWN');

    let scope: Pick<Excuse, 'sessionId' | 'subjectId' | 'fromDay' | 'toDay'>;
    if (input.sessionId !== undefined) {
      const session = await store.sessions.get(actor.orgId, input.sessionId);
      if (!session || !(await this.belongs(actor, session.subjectId, session.id))) throw new AppError('SESSION_NOT_FOUND');
      scope = { sessionId: session.id, subjectId: session.subjectId, fromDay: session.day, toDay: session.day };
    } else {
      if (input.fromDay === undefined || input.toDay === undefined) {
        throw invalid('fromDay', 'give a sessionId, or fromDay and toDay', 'required');
      }
      const days = (Date.parse(`${input.toDay}T00:00:00Z`) - Date.parse(`${input.fromDay}T00:00:00Z`)) / 86_400_000;
      if (!(days >= 0)) throw invalid('toDay', 'not before fromDay', 'endBeforeStart');
      if (days >= MAX_EXCUSE_DAYS)
        throw invalid('toDay', `a range covers at most ${MAX_EXCUSE_DAYS} days`, 'rangeTooLong', { maximum: MAX_EXCUSE_DAYS });
      if (input.subjectId !== undefined && !(await store.subjects.isEnrolled(actor.orgId, input.subjectId, actor.id))) {
        throw new AppError('NOT_ENROLLED');
      }
      scope = { sessionId: null, subjectId: input.subjectId ?? null, fromDay: input.fromDay, toDay: input.toDay };
    }
    await this.assertRoomToWait(actor, scope);
    const fields = { category, text: input.text.trim() };
    for (let attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
      const { excuse, created } = await store.excuses.create(actor.orgId, {
        studentId: actor.id,
        submittedBy: actor.id,
        ...scope,
        ...fields,
      });
      if (created) return { excuse: await this.submitted(actor, excuse), created };
      // The one pending excuse of the scope, so staff decide it once: as it stands when sent again
      // unchanged, with what the student changed otherwise.
      if (excuse.category === fields.category && excuse.text === fields.text) return { excuse: await this.view(excuse), created };
      const edited = await store.excuses.edit(actor.orgId, excuse.id, fields);
      // Decided between the read and the edit: the scope is free, and this submission a new excuse.
      if (!edited) continue;
      await audit(store, actor, this.deps.now(), {
        entityType: 'excuse',
        entityId: excuse.id,
        action: 'excuse.edit',
        from: { ...auditState(excuse), textLength: excuse.text.length },
        to: { ...auditState(edited), textLength: edited.text.length },
      });
      return { excuse: await this.view(edited), created };
    }
    throw new AppError('CONFLICT', 'Your pending excuse for these days kept being decided as you changed it: send it again.');
  }

  private async submitted(actor: Actor, excuse: Excuse): Promise<ExcuseView> {
    const { store } = this.deps;
    await audit(store, actor, this.deps.now(), {
      entityType: 'excuse',
      entityId: excuse.id,
      action: 'excuse.submit',
      from: null,
      to: auditState(excuse),
    });
    return this.view(excuse);
  }

  /** Students see their own; teachers those of subjects they teach; admins all. */
  /**
   * A page, newest first, after `after` when given (keyset paging: a decision taken meanwhile
   * shifts nothing); `next` is the key to ask the following page after, null on the last one.
   */
  async list(
    actor: Actor,
    q: { status?: ExcuseStatus | undefined; studentId?: string | undefined; limit: number; offset: number; after?: ExcuseKey | undefined },
  ): Promise<Page<ExcuseView> & { next: ExcuseKey | null }> {
    const { store } = this.deps;
    // One more than the page: whether another page follows, without a count from here on.
    const filter = {
      limit: q.limit + 1,
      offset: q.offset,
      ...(q.status ? { status: q.status } : {}),
      ...(q.after ? { after: q.after } : {}),
    };
    let page: Page<Excuse>;
    if (actor.role === 'student') {
      page = await store.excuses.list(actor.orgId, { ...filter, studentId: actor.id });
    } else if (actor.role === 'teacher') {
      const taught = await store.subjects.list(actor.orgId, { teacherId: actor.id, limit: 10_000, offset: 0 });
      page = await store.excuses.list(actor.orgId, {
        ...filter,
        subjectIds: taught.items.map((s) => s.id),
        ...(q.studentId ? { studentId: q.studentId } : {}),
      });
    } else {
      page = await store.excuses.list(actor.orgId, { ...filter, ...(q.studentId ? { studentId: q.studentId } : {}) });
    }
    const items = page.items.slice(0, q.limit);
    const last = items.at(-1);
    const students = await this.students(
      actor.orgId,
      items.map((e) => e.studentId),
    );
    return {
      items: items.map((e) => toView(e, students.get(e.studentId))),
      total: page.total,
      next: page.items.length > q.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
    };
  }

  async get(actor: Actor, id: string): Promise<ExcuseView> {
    return this.view(await this.visible(actor, id));
  }

  /** The student attaches (or replaces) the document of their excuse while it is pending. */
  async assertMayAttach(actor: Actor, id: string): Promise<Excuse> {
    const excuse = await this.visible(actor, id);
    if (excuse.studentId !== actor.id) throw new AppError('FORBIDDEN', 'Only the student who submitted the excuse attaches its document.');
    if (excuse.status !== 'pending') throw new AppError('EXCUSE_DECIDED');
    // Run twice: at admission, before the upload is read, and in attachDocument once it is, just
    // before storing it, counting any document stored during the upload. A student's uploads
    // pass one at a time on a node (UPLOADS_MAX_PER_USER, 1 by default), so there the count holds;
    // uploads on several nodes (or with more slots) that each count before any stores may each
    // pass, one document over per extra upload at once (docs/absences.md).
    const withDocuments = (await this.pendingOf(actor)).filter((e) => e.document !== null && e.id !== excuse.id);
    if (withDocuments.length >= MAX_PENDING_EXCUSES) {
      throw new AppError(
        'EXCUSES_PENDING_LIMIT',
        `At most ${MAX_PENDING_EXCUSES} of your excuses waiting for a decision carry a document.`,
        {
          maxPending: MAX_PENDING_EXCUSES,
        },
      );
    }
    return excuse;
  }

  /**
   * A new scope only while the student has fewer than MAX_PENDING_EXCUSES waiting; one of a scope
   * already pending is answered by it (submit), as before.
   */
  private async assertRoomToWait(actor: Actor, scope: Pick<Excuse, 'sessionId' | 'subjectId' | 'fromDay' | 'toDay'>): Promise<void> {
    const pending = await this.pendingOf(actor);
    if (pending.length < MAX_PENDING_EXCUSES) return;
    const key = pendingScopeKey({ studentId: actor.id, ...scope });
    if (pending.some((e) => pendingScopeKey(e) === key)) return;
    throw new AppError('EXCUSES_PENDING_LIMIT', `At most ${MAX_PENDING_EXCUSES} of your excuses wait for a decision at once.`, {
      maxPending: MAX_PENDING_EXCUSES,
    });
  }

  private async pendingOf(actor: Actor): Promise<Excuse[]> {
    return (await this.deps.store.excuses.list(actor.orgId, { studentId: actor.id, status: 'pending', limit: PENDING_READ, offset: 0 }))
      .items;
  }

  async attachDocument(actor: Actor, id: string, bytes: Buffer): Promise<ExcuseView> {
    const excuse = await this.assertMayAttach(actor, id);
    const { contentType, fileName } = checkDocument(excuse.id, bytes);
    const updated = await this.deps.store.excuses.putDocument(actor.orgId, excuse.id, { contentType, fileName, size: bytes.length }, bytes);
    if (!updated) throw new AppError('EXCUSE_DECIDED');
    await audit(this.deps.store, actor, this.deps.now(), {
      entityType: 'excuse',
      entityId: excuse.id,
      action: 'excuse.document',
      from: excuse.document,
      to: updated.document,
    });
    return this.view(updated);
  }

  /** The document for whoever may see the excuse: its student and the staff of its subject. */
  async document(actor: Actor, id: string): Promise<{ fileName: string; contentType: string; bytes: Buffer }> {
    const excuse = await this.visible(actor, id);
    const doc = await this.deps.store.excuses.getDocument(actor.orgId, excuse.id);
    if (!doc) throw new AppError('NOT_FOUND', 'The excuse has no document.');
    return { fileName: doc.info.fileName, contentType: doc.info.contentType, bytes: doc.bytes };
  }

  /**
   * Decides the excuse as the decider saw it: `seenUpdatedAt`, the revision their page showed,
   * when given, else the one read here. A student's edit since (or a document) refuses it with
   * RECORD_CHANGED and the excuse as it now stands, nothing written: approving, the stored
   * category would go to records, and the audit say what was decided, unseen.
   */
  async decide(
    actor: Actor,
    id: string,
    decision: 'approve' | 'decline',
    note: string | null,
    seenUpdatedAt?: Date,
  ): Promise<DecisionResult> {
    const { store, now } = this.deps;
    const excuse = await this.visible(actor, id);
    await this.assertMayDecide(actor, excuse);
    if (excuse.status !== 'pending') throw new AppError('EXCUSE_DECIDED');
    if (seenUpdatedAt !== undefined && seenUpdatedAt.getTime() !== excuse.updatedAt.getTime()) throw await this.changed(excuse);
    const at = now();
    const fields = {
      status: decision === 'approve' ? 'approved' : 'declined',
      decidedBy: actor.id,
      decidedAt: at,
      decisionNote: note,
    } as const;
    // Its audit entry with it; a decider erased meanwhile is refused (ACCOUNT_DISABLED), the
    // excuse left pending and nothing of them written.
    const decided = await store.excuses
      .decide(
        actor.orgId,
        excuse.id,
        fields,
        auditEntry(actor, at, {
          entityType: 'excuse',
          entityId: excuse.id,
          action: `excuse.${decision}`,
          from: auditState(excuse),
          to: auditState({ ...excuse, ...fields }),
        }),
        { updatedAt: excuse.updatedAt, category: excuse.category, text: excuse.text },
      )
      .catch((err: unknown) => {
        throw writeRefusal(err);
      });
    if (!decided) {
      const current = await store.excuses.get(actor.orgId, excuse.id);
      if (current?.status === 'pending') throw await this.changed(current);
      throw new AppError(current ? 'EXCUSE_DECIDED' : 'EXCUSE_NOT_FOUND');
    }
    const recordsChanged = decision === 'approve' ? await this.applyToSettled(actor, decided) : 0;
    return { excuse: await this.view(decided), recordsChanged };
  }

  private async changed(current: Excuse): Promise<AppError> {
    return new AppError('RECORD_CHANGED', 'The excuse changed since it was read: see it as it stands now and decide again.', {
      excuse: await this.view(current),
    });
  }

  /**
   * Sessions already settled (closing or closed) in the excuse's scope: the student's absence
   * (or a record left pending or rejected) becomes excused with the category; present and late
   * stay. Each change is audited, then the day's summary is recomputed.
   */
  private async applyToSettled(actor: Actor, excuse: Excuse): Promise<number> {
    const { store } = this.deps;
    const sessions = await this.settledSessions(excuse);
    const student = (await store.users.get(actor.orgId, excuse.studentId)) ?? {
      id: excuse.studentId,
      name: excuse.studentId,
      studentNumber: null,
    };
    const days = new Map<string, { subjectId: string; day: string }>();
    let changed = 0;
    for (const session of sessions) {
      if (await this.excuseRecord(actor, session, student, excuse)) {
        changed++;
        days.set(`${session.subjectId}|${session.day}`, { subjectId: session.subjectId, day: session.day });
      }
    }
    for (const { subjectId, day } of days.values()) await recomputeDailySummary(store, actor.orgId, subjectId, day);
    return changed;
  }

  private async excuseRecord(
    actor: Actor,
    session: AttendanceSession,
    student: Pick<User, 'id' | 'name' | 'studentNumber'>,
    excuse: Excuse,
  ): Promise<boolean> {
    const { store, now } = this.deps;
    const fields = excusedFields(excuse, now(), actor.id);
    const auditCtx = {
      actorId: actor.id,
      action: 'record.excuse' as const,
      reason: `excuse ${excuse.id} (${excuse.category})`,
      ip: actor.ip ?? null,
    };
    for (let attempt = 0; attempt < RECORD_RETRIES; attempt++) {
      const record = await store.records.getForStudent(actor.orgId, session.id, excuse.studentId);
      if (!record) {
        if (!(await store.subjects.isEnrolled(actor.orgId, session.subjectId, excuse.studentId))) return false;
        const input = {
          ...recordWithoutCheckin(session, excuse.studentId, { ...fields, note: null }),
          absenceCategory: fields.absenceCategory,
          correctionReason: fields.correctionReason,
        };
        const inserted = await writeRecord(this.deps, { kind: 'insert', orgId: actor.orgId, input, audit: auditCtx });
        // Erased since the enrolment was read: nothing to excuse.
        if (!inserted.written && !inserted.record) return false;
        if (!inserted.written) continue;
        publishRecordChange(this.deps, session, student, inserted.record);
        return true;
      }
      if (!EXCUSABLE.has(record.status)) return false;
      const updated = await updateRecord(this.deps, record, fields, auditCtx);
      if (!updated.written) continue;
      publishRecordChange(this.deps, session, student, updated.record);
      return true;
    }
    throw new AppError(
      'RECORD_CHANGED',
      'A record kept changing while the excuse was applied; the approval stands, retry is not needed for sessions still to close.',
    );
  }

  private async settledSessions(excuse: Excuse): Promise<AttendanceSession[]> {
    const { store } = this.deps;
    if (excuse.sessionId) {
      const s = await store.sessions.get(excuse.orgId, excuse.sessionId);
      return s && (s.status === 'closed' || s.status === 'closing') ? [s] : [];
    }
    const subjectIds = excuse.subjectId
      ? [excuse.subjectId]
      : (await store.subjects.list(excuse.orgId, { studentId: excuse.studentId, limit: 10_000, offset: 0 })).items.map((s) => s.id);
    const out: AttendanceSession[] = [];
    for (const subjectId of subjectIds) {
      const page = await store.sessions.list(excuse.orgId, {
        subjectId,
        status: ['closing', 'closed'],
        fromDay: excuse.fromDay,
        toDay: excuse.toDay,
        limit: SESSIONS_PER_SUBJECT,
        offset: 0,
      });
      out.push(...page.items);
    }
    return out;
  }

  /** Admins; teachers of the excuse's subject (an excuse for all subjects is the admins'). */
  private async assertMayDecide(actor: Actor, excuse: Excuse): Promise<void> {
    if (actor.role === 'admin') return;
    if (actor.role !== 'teacher') throw new AppError('FORBIDDEN');
    const subject = excuse.subjectId ? await this.deps.store.subjects.get(actor.orgId, excuse.subjectId) : null;
    if (!subject) throw new AppError('FORBIDDEN', 'An excuse for all subjects is decided by an admin.');
    if (!subject.teacherIds.includes(actor.id)) throw new AppError('NOT_SUBJECT_TEACHER');
  }

  /** The excuse if the actor may see it; another student's answers EXCUSE_NOT_FOUND as a missing one does. */
  private async visible(actor: Actor, id: string): Promise<Excuse> {
    const excuse = await this.deps.store.excuses.get(actor.orgId, id);
    if (!excuse) throw new AppError('EXCUSE_NOT_FOUND');
    if (actor.role === 'admin') return excuse;
    if (actor.role === 'student') {
      if (excuse.studentId !== actor.id) throw new AppError('EXCUSE_NOT_FOUND');
      return excuse;
    }
    const subject: Subject | null = excuse.subjectId ? await this.deps.store.subjects.get(actor.orgId, excuse.subjectId) : null;
    if (!subject) throw new AppError('FORBIDDEN', 'An excuse for all subjects is seen by admins.');
    if (!subject.teacherIds.includes(actor.id)) throw new AppError('NOT_SUBJECT_TEACHER');
    return excuse;
  }

  /** Enrolled in the subject, or with a record in the session (unenrolled since). */
  private async belongs(actor: Actor, subjectId: string, sessionId: string): Promise<boolean> {
    const { store } = this.deps;
    return (
      (await store.subjects.isEnrolled(actor.orgId, subjectId, actor.id)) ||
      (await store.records.getForStudent(actor.orgId, sessionId, actor.id)) !== null
    );
  }

  private async students(orgId: string, ids: string[]): Promise<Map<string, User>> {
    const users = ids.length ? await this.deps.store.users.getMany(orgId, [...new Set(ids)]) : [];
    return new Map(users.map((u) => [u.id, u]));
  }

  private async view(excuse: Excuse): Promise<ExcuseView> {
    return toView(excuse, (await this.deps.store.users.get(excuse.orgId, excuse.studentId)) ?? undefined);
  }
}

/** Statuses an approved excuse replaces; present and late are attendance and stay. */
const EXCUSABLE = new Set<AttendanceRecord['status']>(['absent', 'pending', 'rejected']);

/** What an approved excuse makes of a record (approval now, or a session settling later). */
export function excusedFields(excuse: Excuse, at: Date, by: string | null) {
  return {
    status: 'excused',
    reason: 'EXCUSED',
    absenceCategory: excuse.category,
    correctionReason: `excuse ${excuse.category}`,
    decidedAt: at,
    decidedBy: by,
  } satisfies RecordPatch;
}

function toView(e: Excuse, student: User | undefined): ExcuseView {
  const { orgId: _orgId, ...rest } = e;
  return { ...rest, studentName: student?.name ?? e.studentId, studentNumber: student?.studentNumber ?? null };
}

function auditState(e: Excuse): Record<string, unknown> {
  return {
    status: e.status,
    category: e.category,
    sessionId: e.sessionId,
    subjectId: e.subjectId,
    fromDay: e.fromDay,
    toDay: e.toDay,
    decisionNote: e.decisionNote,
  };
}

function invalid(path: string, message: string, code: IssueCode, params: Record<string, number> = {}): AppError {
  return new AppError('VALIDATION_FAILED', `${path}: ${message}.`, { issues: [issue(path, message, code, params)] });
}

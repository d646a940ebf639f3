import { assignFaces, type Candidate } from './face-assignment.js';
import type { FaceBox } from './face-types.js';
import type { ErrorCode } from '../../shared/errors.js';
import { ATTENDED_STATUSES, type RosterStatus } from '../../shared/events.js';
import type { AttendanceRecord, RecordPatch, RecordWrite } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { User } from '../ports/users.js';
import type { Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { publishRecordChange, recordWithoutCheckin, writeRefusal, type AuditContext } from '../checkins/record-change.js';
import { DEFAULT_FACE_SETTINGS } from '../checkins/selfie-verifier.js';
import type { DomainDeps } from '../deps.js';
import { evaluateTime } from '../checks/time-window.js';
import { consumeFaceUpload } from './upload-limit.js';
import { loadSessionForStaff } from '../sessions/access.js';
import { effectiveStatus } from '../sessions/views.js';

/** Most students one confirmation may mark. */
export const MAX_CONFIRM_STUDENTS = 500;

/** A concurrent write (a check-in, another teacher) can bump a record's version; re-read this many times. */
const MAX_MARK_TRIES = 3;

/** Why a face has no student: too small to match reliably, or nobody within the uncertain band. */
export type UnmatchedReason = 'too-small' | 'no-match';

/** One detected face: where it is and whom it is proposed as. Never a distance or an embedding. */
export interface ProposedFace {
  /** In pixels of the analysed image (`ClassPhotoProposal.image`), which may be a downscaled copy. */
  box: FaceBox;
  band: 'confident' | 'uncertain' | null;
  studentId: string | null;
  name: string | null;
  studentNumber: string | null;
  /** The student's status in the session now; 'not-yet' without a record, null for an unmatched face. */
  currentStatus: RosterStatus | null;
  unmatchedReason: UnmatchedReason | null;
}

export interface ClassPhotoProposal {
  sessionId: string;
  image: { width: number; height: number };
  /** In the engine's order: largest face first. */
  faces: ProposedFace[];
  summary: {
    faces: number;
    matched: number;
    confident: number;
    uncertain: number;
    unmatched: number;
    /** Unmatched because the face is below the configured minimum size (FACE_MIN_FACE_PX). */
    tooSmall: number;
    /** Students enrolled in the subject. */
    students: number;
    /** Enrolled students with no usable face enrolment: they can never be matched. */
    withoutEnrolment: number;
    /** Matched students already present or late: confirming them changes nothing. */
    alreadyPresent: number;
    /** As many faces as FACE_MAX_FACES were found: the detector stopped there, some may be missing. */
    truncated: boolean;
  };
}

/** What a confirmation marks the chosen students as. */
export type ConfirmStatus = (typeof ATTENDED_STATUSES)[number];

export interface ConfirmedStudent {
  studentId: string;
  /** marked: now present or late, as confirmed; unchanged: already present or late; refused: see `code`. */
  result: 'marked' | 'unchanged' | 'refused';
  /** The student's status after the confirmation; null when refused. */
  status: RosterStatus | null;
  /** NOT_ENROLLED, or RECORD_CHANGED when the record kept changing under concurrent writes. */
  code: ErrorCode | null;
}

export interface ClassPhotoConfirmation {
  sessionId: string;
  /** One per distinct id, in the order sent. */
  results: ConfirmedStudent[];
  summary: { marked: number; unchanged: number; refused: number };
}

export interface ClassPhotoOptions {
  /** Faces whose aligned crop is smaller than this (px) are not matched (FACE_MIN_FACE_PX). */
  minFacePx: number;
  /** The most faces the engine returns for one photo (FACE_MAX_FACES). */
  maxFaces: number;
}

type Student = Pick<User, 'id' | 'name' | 'studentNumber'>;

const ATTENDED: ReadonlySet<RosterStatus> = new Set(ATTENDED_STATUSES);

/**
 * Class photo attendance: a teacher uploads a photo of the room, every face is matched 1:N
 * against the subject's enrolled students, and the answer is a proposal that changes no
 * record. Confirming is a separate, stateless call with the student ids the teacher kept
 * (the teacher may mark anyone by hand anyway, so nothing of the proposal is held between
 * the two calls).
 */
export class ClassPhotoService {
  constructor(
    private readonly deps: DomainDeps,
    private readonly options: ClassPhotoOptions,
  ) {}

  /**
   * What a class photo is refused for before it is read (access, the session's state, the
   * engine), then counts it against the caller's upload budget; transports call it first.
   */
  async admit(actor: Actor, sessionId: string): Promise<void> {
    await this.liveSession(actor, sessionId);
    if (!this.deps.face) throw new AppError('UNAVAILABLE', 'Face matching is not available on this server.');
    await consumeFaceUpload(this.deps.faceUploadLimiter, actor);
  }

  async propose(actor: Actor, sessionId: string, image: Uint8Array): Promise<ClassPhotoProposal> {
    const session = await this.liveSession(actor, sessionId);
    const engine = this.deps.face;
    if (!engine) throw new AppError('UNAVAILABLE', 'Face matching is not available on this server.');
    // A full queue or a stopped pool rejects with BUSY/UNAVAILABLE and its retry hint.
    const analysis = await engine.analyse(image, 'all');
    if (!analysis.ok) {
      throw new AppError('PHOTO_REFUSED', analysis.message, { ...analysis.details, reason: analysis.reason });
    }

    const { store } = this.deps;
    const enrolled = await store.subjects.listEnrolled(actor.orgId, session.subjectId);
    // Embeddings of another model are not comparable: such an enrolment counts as none.
    const candidates: Candidate[] = (await store.faces.getMany(actor.orgId, enrolled))
      .filter((e) => e.modelId === analysis.modelId && e.embeddings.length > 0)
      .map((e) => ({ id: e.userId, embeddings: e.embeddings }));
    const thresholds = this.deps.faceSettings ?? DEFAULT_FACE_SETTINGS;
    const tooSmall = analysis.faces.map((f) => f.quality.faceSizePx < this.options.minFacePx);
    const assignments = assignFaces(
      analysis.faces.map((f, i) => (tooSmall[i] ? null : f.embedding)),
      candidates,
      thresholds,
    );

    const matchedIds = assignments.map((a) => a.candidateId);
    const students = new Map((await store.users.getMany(actor.orgId, matchedIds)).map((u) => [u.id, u]));
    const statuses = new Map((await store.records.listBySession(actor.orgId, session.id)).map((r) => [r.studentId, r.status]));
    const byFace = new Map(assignments.map((a) => [a.face, a]));

    const faces: ProposedFace[] = analysis.faces.map((f, i) => {
      const a = byFace.get(i);
      if (!a) {
        return {
          box: f.box,
          band: null,
          studentId: null,
          name: null,
          studentNumber: null,
          currentStatus: null,
          unmatchedReason: tooSmall[i] ? 'too-small' : 'no-match',
        };
      }
      const student = students.get(a.candidateId);
      return {
        box: f.box,
        band: a.band,
        studentId: a.candidateId,
        // An account gone from the store while its face rows remain: show its id rather than fail.
        name: student?.name ?? a.candidateId,
        studentNumber: student?.studentNumber ?? null,
        currentStatus: statuses.get(a.candidateId) ?? 'not-yet',
        unmatchedReason: null,
      };
    });

    return {
      sessionId: session.id,
      image: analysis.image,
      faces,
      summary: {
        faces: faces.length,
        matched: assignments.length,
        confident: assignments.filter((a) => a.band === 'confident').length,
        uncertain: assignments.filter((a) => a.band === 'uncertain').length,
        unmatched: faces.length - assignments.length,
        tooSmall: tooSmall.filter(Boolean).length,
        students: enrolled.length,
        withoutEnrolment: enrolled.length - candidates.length,
        alreadyPresent: faces.filter((f) => f.currentStatus !== null && ATTENDED.has(f.currentStatus)).length,
        truncated: faces.length >= this.options.maxFaces,
      },
    };
  }

  /**
   * Marks the chosen students `status` (reason MARKED_FROM_CLASS_PHOTO) through the same path
   * as every record change: audit entry, roster update, decision to the student. Without a
   * status: late once the session's lateAfter has passed, else present. Students already
   * present or late are left unchanged; a student not enrolled in the subject is refused on
   * their own line, so one stale id does not block the rest of the class.
   */
  async confirm(actor: Actor, sessionId: string, studentIds: readonly string[], status?: ConfirmStatus): Promise<ClassPhotoConfirmation> {
    const ids = [...new Set(studentIds)];
    if (ids.length > MAX_CONFIRM_STUDENTS) {
      throw new AppError('VALIDATION_FAILED', `Confirm at most ${MAX_CONFIRM_STUDENTS} students at once.`, { max: MAX_CONFIRM_STUDENTS });
    }
    const session = await this.liveSession(actor, sessionId);
    const mark = status ?? (evaluateTime(session, this.deps.now()) === 'late' ? 'late' : 'present');
    const { store } = this.deps;
    const enrolled = new Set(await store.subjects.listEnrolled(actor.orgId, session.subjectId));
    const records = new Map((await store.records.listBySession(actor.orgId, session.id)).map((r) => [r.studentId, r]));
    const users = new Map(
      (
        await store.users.getMany(
          actor.orgId,
          ids.filter((id) => enrolled.has(id)),
        )
      ).map((u) => [u.id, u]),
    );

    const outcome = new Map<string, ConfirmedStudent>();
    const pending = new Map<string, { student: Student; record: AttendanceRecord | null }>();
    for (const studentId of ids) {
      if (!enrolled.has(studentId)) outcome.set(studentId, { studentId, result: 'refused', status: null, code: 'NOT_ENROLLED' });
      else {
        const student = users.get(studentId) ?? { id: studentId, name: studentId, studentNumber: null };
        pending.set(studentId, { student, record: records.get(studentId) ?? null });
      }
    }
    await this.markAttended(actor, session, pending, mark, outcome);
    const results = ids.map((id) => outcome.get(id)!);
    const count = (r: ConfirmedStudent['result']) => results.filter((x) => x.result === r).length;
    return {
      sessionId: session.id,
      results,
      summary: { marked: count('marked'), unchanged: count('unchanged'), refused: count('refused') },
    };
  }

  // Staff of the session's subject, on a session that is not closing or closed.
  private async liveSession(actor: Actor, sessionId: string): Promise<AttendanceSession> {
    const { session } = await loadSessionForStaff(this.deps.store, actor, sessionId);
    const status = effectiveStatus(session, this.deps.now());
    if (status === 'cancelled') throw new AppError('SESSION_CANCELLED');
    if (status === 'closing' || status === 'closed') {
      throw new AppError('SESSION_CLOSED', 'The session is closed; correct records one by one with a reason.');
    }
    return session;
  }

  /**
   * The photo's students in one group commit (records.writeBatch: one transaction on SQLite,
   * bulk writes on MongoDB), their roster versions in the order asked, rather than a batch per
   * student. Optimistic on each record's version: those that lost a race (a check-in, another
   * teacher) are read again and written in the next round, and a record that became present or
   * late meanwhile is left alone.
   */
  private async markAttended(
    actor: Actor,
    session: AttendanceSession,
    pending: Map<string, { student: Student; record: AttendanceRecord | null }>,
    status: ConfirmStatus,
    outcome: Map<string, ConfirmedStudent>,
  ): Promise<void> {
    const { store } = this.deps;
    const audit: AuditContext = { actorId: actor.id, action: 'record.mark', reason: 'class photo', ip: actor.ip ?? null };
    let failure: unknown = null;
    for (let i = 0; i < MAX_MARK_TRIES && pending.size > 0 && failure === null; i++) {
      if (i > 0) {
        const fresh = new Map(
          (await store.records.getForStudents(actor.orgId, session.id, [...pending.keys()])).map((r) => [r.studentId, r]),
        );
        for (const [id, p] of pending) p.record = fresh.get(id) ?? null;
      }
      const fields = { status, reason: 'MARKED_FROM_CLASS_PHOTO', decidedAt: this.deps.now(), decidedBy: actor.id } satisfies RecordPatch;
      const batch: { studentId: string; write: RecordWrite }[] = [];
      for (const [studentId, { student, record }] of pending) {
        if (record && ATTENDED.has(record.status)) {
          outcome.set(studentId, { studentId, result: 'unchanged', status: record.status, code: null });
          pending.delete(studentId);
        } else if (!record) {
          const input = recordWithoutCheckin(session, student.id, { ...fields, note: null });
          batch.push({ studentId, write: { kind: 'insert', orgId: actor.orgId, input, audit } });
        } else {
          const write: RecordWrite = {
            kind: 'update',
            orgId: actor.orgId,
            id: record.id,
            expectedVersion: record.version,
            patch: fields,
            audit,
          };
          batch.push({ studentId, write });
        }
      }
      if (batch.length === 0) break;
      const written = await store.records.writeBatch(batch.map((b) => b.write));
      for (const [k, { studentId, write }] of batch.entries()) {
        const r = written[k];
        if (!r) throw new Error('writeBatch answered fewer results than writes');
        if ('error' in r) failure ??= writeRefusal(r.error);
        else if (r.written) {
          publishRecordChange(this.deps, session, pending.get(studentId)!.student, r.record);
          outcome.set(studentId, { studentId, result: 'marked', status, code: null });
        } else if (write.kind === 'insert' && !r.record) {
          // Erased since the enrolments were read.
          outcome.set(studentId, { studentId, result: 'refused', status: null, code: 'NOT_ENROLLED' });
        } else continue;
        pending.delete(studentId);
      }
    }
    // The marks written stand and were published; a write refused on its own fails the request, as it did one student at a time.
    if (failure !== null) throw failure;
    for (const studentId of pending.keys()) outcome.set(studentId, { studentId, result: 'refused', status: null, code: 'RECORD_CHANGED' });
  }
}

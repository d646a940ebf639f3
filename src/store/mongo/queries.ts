import type { QueryFilter, UpdateQuery } from 'mongoose';
import { accentInsensitivePattern } from '../../domain/search-text.js';
import { nameKeyOf } from './mapping.js';
import { ACTIVE_SESSION_STATES, ATTENDED_STATUSES, SETTLED_SESSION_STATES, UNCLOSED_SESSION_STATES } from '../../shared/events.js';
import type { PageQuery, SessionStatus } from '../../domain/ports/common.js';
import type { NewRecord, RecordPatch, ProxyProbe } from '../../domain/ports/records.js';
import { LONGEST_SESSION_MS, type SessionFilter, type SessionTransitionPatch, type SessionWindow } from '../../domain/ports/sessions.js';
import type { SubjectFilter, SubjectPatch } from '../../domain/ports/subjects.js';
import type { UserFilter, UserPatch } from '../../domain/ports/users.js';
import type { AuditDoc } from './audit-schemas.js';
import type { JobDoc } from './job-schemas.js';
import type { EnrolmentDoc, SubjectDoc } from './subject-schemas.js';
import type { FaceDoc, FaceProposalDoc } from './face-schemas.js';
import { QUEUED_VERIFICATION_FILTER, type RecordDoc, type SummaryDoc } from './record-schemas.js';
import type { RefreshTokenDoc, AccountTokenDoc } from './account-schemas.js';
import type { SessionDoc } from './session-schemas.js';
import type { UserDoc } from './organisation-schemas.js';

/**
 * Every filter, sort and update document the adapter sends, built by pure functions so that
 * they are tested without a server. Each org-scoped builder puts `orgId` in the filter; the
 * only unscoped ones are those the store interface marks system-wide.
 */

type Sort = Record<string, 1 | -1>;

/**
 * A literal substring match ignoring case and accents (domain/search-text.ts): regex
 * metacharacters in `q` are plain text.
 */
export function containsRegex(q: string): RegExp {
  return new RegExp(accentInsensitivePattern(q), 'i');
}

/** Drops keys whose value is undefined, so `{ name: undefined }` in a patch leaves the name alone. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const byOrgId = <T>(orgId: string, id: string): QueryFilter<T> => ({ _id: id, orgId }) as QueryFilter<T>;

export const byOrgIds = <T>(orgId: string, ids: readonly string[]): QueryFilter<T> => ({ orgId, _id: { $in: [...ids] } }) as QueryFilter<T>;

export const pageOptions = (p: PageQuery): { skip: number; limit: number } => ({ skip: p.offset, limit: p.limit });

// ----- users -----

export function userListFilter(orgId: string, f: UserFilter): QueryFilter<UserDoc> {
  const filter: QueryFilter<UserDoc> = { orgId };
  if (f.role !== undefined) filter.role = f.role;
  if (f.active !== undefined) filter.active = f.active;
  // null matches a missing field too, as the SQLite adapter's IS NULL.
  if (f.hasPassword !== undefined) filter.passwordHash = f.hasPassword ? { $ne: null } : null;
  if (f.q) {
    const rx = containsRegex(f.q);
    filter.$or = [{ name: rx }, { email: rx }, { studentNumber: rx }];
  }
  return filter;
}

/** Name order ignoring case, as the SQLite adapter sorts (on the stored lower-cased key). */
export const USER_LIST_SORT: Sort = { nameKey: 1, _id: 1 };

export const userByEmailFilter = (orgId: string, email: string): QueryFilter<UserDoc> => ({
  orgId,
  email: email.toLowerCase(),
});

export const usersByEmailsFilter = (orgId: string, emails: readonly string[]): QueryFilter<UserDoc> => ({
  orgId,
  email: { $in: emails.map((e) => e.toLowerCase()) },
});

/** Exact, not the list's substring search: an import must find number 1234 among a school's 12340..12349. */
export const usersByStudentNumbersFilter = (orgId: string, numbers: readonly string[]): QueryFilter<UserDoc> => ({
  orgId,
  studentNumber: { $in: [...numbers] },
});

/** System-wide (login without an organisation slug). */
export const userByEmailAnyOrgFilter = (email: string): QueryFilter<UserDoc> => ({ email: email.toLowerCase() });
export const CREATED_SORT: Sort = { createdAt: 1, _id: 1 };

export function userUpdate(patch: UserPatch, now: Date): UpdateQuery<UserDoc> {
  const set: Partial<UserDoc> = { ...definedOnly(patch), updatedAt: now };
  if (set.email !== undefined) set.email = set.email.toLowerCase();
  if (set.name !== undefined) set.nameKey = nameKeyOf(set.name);
  return { $set: set };
}

// ----- subjects and enrolments -----

/** `enrolledSubjectIds` is the result of the enrolment lookup when the filter names a student. */
export function subjectListFilter(orgId: string, f: SubjectFilter, enrolledSubjectIds: readonly string[] | null): QueryFilter<SubjectDoc> {
  const filter: QueryFilter<SubjectDoc> = { orgId };
  if (f.teacherId !== undefined) filter.teacherIds = f.teacherId;
  if (f.studentId !== undefined) filter._id = { $in: [...(enrolledSubjectIds ?? [])] };
  // Migration 21 wrote null where the field was missing, so null is "in use" on every document.
  if (f.archived !== undefined) filter.archivedAt = f.archived ? { $ne: null } : null;
  if (f.q) {
    const rx = containsRegex(f.q);
    filter.$or = [{ code: rx }, { name: rx }];
  }
  return filter;
}

export const SUBJECT_LIST_SORT: Sort = { code: 1, _id: 1 };

export function subjectUpdate(patch: SubjectPatch, now: Date): { $set: Partial<SubjectDoc> } {
  return { $set: { ...definedOnly(patch), updatedAt: now } };
}

export const enrolmentsOfStudentFilter = (orgId: string, studentId: string): QueryFilter<EnrolmentDoc> => ({
  orgId,
  studentId,
});

export const enrolmentsOfSubjectFilter = (orgId: string, subjectId: string): QueryFilter<EnrolmentDoc> => ({
  orgId,
  subjectId,
});

export const ENROLMENT_SORT: Sort = { createdAt: 1, studentId: 1 };

/** By the org_student index. */
export const enrolmentsOfStudentsFilter = (orgId: string, studentIds: readonly string[]): QueryFilter<EnrolmentDoc> => ({
  orgId,
  studentId: { $in: [...studentIds] },
});

export function enrolmentFilter(orgId: string, subjectId: string, studentIds: string | readonly string[]): QueryFilter<EnrolmentDoc> {
  return { orgId, subjectId, studentId: typeof studentIds === 'string' ? studentIds : { $in: [...studentIds] } };
}

// ----- sessions -----

export function sessionListFilter(orgId: string, f: SessionFilter): QueryFilter<SessionDoc> {
  const filter: QueryFilter<SessionDoc> = { orgId };
  if (f.subjectId !== undefined) filter.subjectId = f.subjectId;
  if (f.status !== undefined) filter.status = { $in: [...f.status] };
  if (f.fromDay !== undefined || f.toDay !== undefined) {
    const day: { $gte?: string; $lte?: string } = {};
    if (f.fromDay !== undefined) day.$gte = f.fromDay;
    if (f.toDay !== undefined) day.$lte = f.toDay;
    filter.day = day;
  }
  return filter;
}

/** Newest first. */
export const SESSION_LIST_SORT: Sort = { startsAt: -1, createdAt: -1, _id: 1 };

export const ACTIVE_STATUSES: readonly SessionStatus[] = ACTIVE_SESSION_STATES;

export const activeSessionsFilter = (orgId: string, subjectIds: readonly string[]): QueryFilter<SessionDoc> => ({
  orgId,
  subjectId: { $in: [...subjectIds] },
  status: { $in: [...ACTIVE_STATUSES] },
});
export const teacherActiveSessionsFilter = (orgId: string, teacherId: string): QueryFilter<SessionDoc> => ({
  orgId,
  teacherId,
  status: { $in: [...ACTIVE_STATUSES] },
});
export const ACTIVE_SESSIONS_SORT: Sort = { startsAt: 1, _id: 1 };
/**
 * Sharing an instant with the half-open window: starting before it closes and closing after it
 * starts. The start's lower bound (no session lasts longer than LONGEST_SESSION_MS) makes it a
 * range of an index on start, not every active session of the horizon.
 */
const during = (w: SessionWindow): QueryFilter<SessionDoc> => ({
  startsAt: { $gt: new Date(w.startsAt.getTime() - LONGEST_SESSION_MS), $lt: w.closesAt },
  closesAt: { $gt: w.startsAt },
});
/** sessions.listActiveForSubjectsDuring, through index org_subject_status_starts. */
export const activeSessionsDuringFilter = (orgId: string, subjectIds: readonly string[], w: SessionWindow): QueryFilter<SessionDoc> => ({
  ...activeSessionsFilter(orgId, subjectIds),
  ...during(w),
});
/** sessions.listActiveForTeacherDuring, through index org_teacher_status_starts. */
export const teacherActiveSessionsDuringFilter = (
  orgId: string,
  teacherId: string,
  w: SessionWindow,
  exceptSubjectId?: string,
): QueryFilter<SessionDoc> => ({
  ...teacherActiveSessionsFilter(orgId, teacherId),
  ...(exceptSubjectId === undefined ? {} : { subjectId: { $ne: exceptSubjectId } }),
  ...during(w),
});
/** The organisation's upcoming classes (sessions.listScheduled), through index org_status_starts. */
export const scheduledSessionsFilter = (orgId: string, after: Date): QueryFilter<SessionDoc> => ({
  orgId,
  status: 'scheduled',
  startsAt: { $gt: after },
});

export type TransitionPatch = SessionTransitionPatch;

/** Compare-and-set on the status: matches only while the status is one of `from`. */
export function transitionFilter(orgId: string, id: string, from: readonly SessionStatus[]): QueryFilter<SessionDoc> {
  return { _id: id, orgId, status: { $in: [...from] } };
}

export function transitionUpdate(patch: TransitionPatch, now: Date): { $set: Partial<SessionDoc> } {
  const p = definedOnly(patch);
  const set: Partial<SessionDoc> = { updatedAt: now };
  if ('status' in p) set.status = p.status;
  if ('closesAt' in p) set.closesAt = p.closesAt;
  if ('lateAfter' in p) set.lateAfter = p.lateAfter;
  if ('closedAt' in p) set.closedAt = p.closedAt;
  if ('closedBy' in p) set.closedBy = p.closedBy;
  // A move marks the session until its records carry the new start (session-starts.ts): a crash
  // in between is finished at the next start of the store.
  if ('startsAt' in p) Object.assign(set, { startsAt: p.startsAt, startMovePending: true });
  if ('teacherId' in p) set.teacherId = p.teacherId;
  if ('policy' in p) set.policy = p.policy;
  if ('room' in p) set.room = p.room;
  if ('meetingEdit' in p) set.meetingEdit = p.meetingEdit;
  return { $set: set };
}

/** A lease is free when unset and expired strictly before `now`. */
const leaseFree = (now: Date) => [{ leaseUntil: null }, { leaseUntil: { $lt: now } }];

/** System-wide: the scheduler's scan of sessions due to close. */
export function dueSessionsFilter(now: Date): QueryFilter<SessionDoc> {
  return {
    $and: [{ $or: [{ status: { $in: [...ACTIVE_STATUSES] }, closesAt: { $lte: now } }, { status: 'closing' }] }, { $or: leaseFree(now) }],
  };
}
export const DUE_SORT: Sort = { closesAt: 1, _id: 1 };

/** System-wide: scheduled sessions whose start has passed. */
export function startingSessionsFilter(now: Date): QueryFilter<SessionDoc> {
  return { status: 'scheduled', startsAt: { $lte: now } };
}
export const STARTING_SORT: Sort = { startsAt: 1, _id: 1 };

/** System-wide: sessions not yet closed, for the earliest closesAt. */
export const notClosedFilter = (): QueryFilter<SessionDoc> => ({ status: { $in: [...UNCLOSED_SESSION_STATES] } });
export const NEXT_DUE_SORT: Sort = { closesAt: 1 };

/** Matches when the lease is free, expired, or already held by `owner`. */
export function leaseFilter(orgId: string, id: string, owner: string, now: Date): QueryFilter<SessionDoc> {
  return { _id: id, orgId, $or: [...leaseFree(now), { leaseOwner: owner }] };
}

export const leaseUpdate = (owner: string, until: Date): UpdateQuery<SessionDoc> => ({
  $set: { leaseOwner: owner, leaseUntil: until },
});

/** The lease held by `owner`, expired or not: what a renewal and a release match. */
export const releaseLeaseFilter = (orgId: string, id: string, owner: string): QueryFilter<SessionDoc> => ({
  _id: id,
  orgId,
  leaseOwner: owner,
});

/** A job is claimable when its lease is free, expired or `owner`'s, and its last run is old enough. */
export function jobClaimFilter(name: string, owner: string, now: Date, lastRunBefore: Date): QueryFilter<JobDoc> {
  return {
    _id: name,
    $and: [{ $or: [...leaseFree(now), { leaseOwner: owner }] }, { $or: [{ lastRunAt: null }, { lastRunAt: { $lte: lastRunBefore } }] }],
  };
}

export const RELEASE_LEASE_UPDATE: UpdateQuery<SessionDoc> = { $set: { leaseOwner: null, leaseUntil: null } };

// ----- records -----

export const recordKeyFilter = (orgId: string, sessionId: string, studentId: string): QueryFilter<RecordDoc> => ({
  orgId,
  sessionId,
  studentId,
});

/** Everything goes in $setOnInsert: an existing record is returned untouched. */
export function recordInsertIfAbsentUpdate(
  orgId: string,
  id: string,
  input: NewRecord,
  now: Date,
  sessionStartsAt: Date | null,
): UpdateQuery<RecordDoc> {
  return { $setOnInsert: newRecordDoc(orgId, id, input, now, 0, sessionStartsAt) };
}

/**
 * A new record's document. `rosterVersion` is 0, or a placeholder below 0 that a batch turns
 * into its version with one `$inc` (record-batch.ts); either way it is stamped once the record
 * is written, and read as 0 until then (mapping.ts). `sessionStartsAt` is the session's start
 * as read before the write (session-starts.ts), null when the session is not found.
 */
export function newRecordDoc(
  orgId: string,
  id: string,
  input: NewRecord,
  now: Date,
  rosterVersion: number,
  sessionStartsAt: Date | null,
): RecordDoc {
  return {
    _id: id,
    orgId,
    ...input,
    flags: [...input.flags],
    version: 1,
    rosterVersion,
    sessionStartsAt,
    createdAt: now,
    updatedAt: now,
  };
}

export const recordsOfStudentsFilter = (orgId: string, sessionId: string, studentIds: readonly string[]): QueryFilter<RecordDoc> => ({
  orgId,
  sessionId,
  studentId: { $in: [...studentIds] },
});
export const recordsOfSessionsFilter = (orgId: string, sessionIds: string | readonly string[]): QueryFilter<RecordDoc> => ({
  orgId,
  sessionId: typeof sessionIds === 'string' ? sessionIds : { $in: [...sessionIds] },
});
export const RECORD_SORT: Sort = { createdAt: 1, _id: 1 };

/** System-wide: sessions not yet closed, and closed ones that close (closesAt) at or after `from`. */
export const recentSessionsFilter = (from: Date): QueryFilter<SessionDoc> => ({
  $or: [{ status: { $in: [...UNCLOSED_SESSION_STATES] } }, { status: 'closed', closesAt: { $gte: from } }],
});
/**
 * Records still pending on a selfie verification queued before `before`, of any session, after
 * `after` in QUEUED_VERIFICATION_SORT's order when given: a range of the records' index
 * verification_queued, whose partial filter these equalities imply.
 */
export const queuedVerificationsFilter = (before: Date, after: { submittedAt: Date; _id: string } | null): QueryFilter<RecordDoc> => ({
  ...QUEUED_VERIFICATION_FILTER,
  submittedAt: { $lt: before },
  ...(after ? { $or: [{ submittedAt: { $gt: after.submittedAt } }, { submittedAt: after.submittedAt, _id: { $gt: after._id } }] } : {}),
});
/** These sessions, by id, that are not closed or close (closesAt) at or after `from`. */
export const recentSessionsAmongFilter = (ids: readonly string[], from: Date): QueryFilter<SessionDoc> => ({
  _id: { $in: [...ids] },
  ...recentSessionsFilter(from),
});
export const QUEUED_VERIFICATION_SORT: Sort = { submittedAt: 1, _id: 1 };

export const recordsOfStudentFilter = (orgId: string, studentId: string): QueryFilter<RecordDoc> => ({ orgId, studentId });
/** A student's history: newest session first (a record whose session is unknown last), ties by record id, newest first. */
export const STUDENT_HISTORY_SORT: Sort = { sessionStartsAt: -1, _id: -1 };

/** Optimistic concurrency: matches only the expected version inside the organisation. */
export const recordVersionFilter = (orgId: string, id: string, expectedVersion: number): QueryFilter<RecordDoc> => ({
  _id: id,
  orgId,
  version: expectedVersion,
});

export function recordVersionedUpdate(patch: RecordPatch, now: Date): UpdateQuery<RecordDoc> {
  return { $set: { ...definedOnly(patch), updatedAt: now }, $inc: { version: 1 } };
}

/** The session's next roster version (an atomic $inc on its document). */
export const ROSTER_VERSION_INC: UpdateQuery<SessionDoc> = { $inc: { rosterVersion: 1 } };

// ----- summaries -----

export const summaryKeyFilter = (orgId: string, subjectId: string, day: string): QueryFilter<SummaryDoc> => ({
  orgId,
  subjectId,
  day,
});

export function summaryRangeFilter(orgId: string, subjectId: string, fromDay: string, toDay: string): QueryFilter<SummaryDoc> {
  return { orgId, subjectId, day: { $gte: fromDay, $lte: toDay } };
}
export const SUMMARY_SORT: Sort = { day: 1 };

// ----- audit -----

export const auditEntityFilter = (orgId: string, entityType: AuditDoc['entityType'], entityId: string): QueryFilter<AuditDoc> => ({
  orgId,
  entityType,
  entityId,
});
/** audit.listRollovers: served by the audit's `org_rollover` (migration 25), whose partial filter its equalities imply. */
export const auditRolloversFilter = (orgId: string, subjectIds: readonly string[]): QueryFilter<AuditDoc> => ({
  orgId,
  action: 'subject.rollover',
  entityType: 'subject',
  entityId: { $in: [...subjectIds] },
});
export const auditSessionFilter = (orgId: string, sessionId: string): QueryFilter<AuditDoc> => ({ orgId, sessionId });
export const AUDIT_SORT: Sort = { at: 1, seq: 1 };

// ----- refresh tokens (system-wide by hash, id or family, as the interface says) -----

export const tokenHashFilter = (tokenHash: string): QueryFilter<RefreshTokenDoc> => ({ tokenHash });

/** Only a token that is neither rotated nor revoked can be rotated, and only once. */
export const rotatableTokenFilter = (id: string): QueryFilter<RefreshTokenDoc> => ({
  _id: id,
  rotatedAt: null,
  revokedAt: null,
});

export const familyUnrevokedFilter = (familyId: string): QueryFilter<RefreshTokenDoc> => ({ familyId, revokedAt: null });

export const familyRevokedFilter = (familyId: string): QueryFilter<RefreshTokenDoc> => ({ familyId, revokedAt: { $ne: null } });
export const familiesRevokedFilter = (familyIds: readonly string[]): QueryFilter<RefreshTokenDoc> => ({
  familyId: { $in: [...familyIds] },
  revokedAt: { $ne: null },
});

export const userUnrevokedFilter = (orgId: string, userId: string): QueryFilter<RefreshTokenDoc> => ({
  orgId,
  userId,
  revokedAt: null,
});

export const expiredBeforeFilter = (before: Date): QueryFilter<RefreshTokenDoc> => ({ expiresAt: { $lt: before } });

/** The current token of each of the user's logins that can still be refreshed at `now`. */
export const activeLoginHeadsFilter = (orgId: string, userId: string, now: Date): QueryFilter<RefreshTokenDoc> => ({
  orgId,
  userId,
  rotatedAt: null,
  revokedAt: null,
  expiresAt: { $gt: now },
});

export const ACTIVE_LOGIN_SORT: Sort = { createdAt: -1, _id: 1 };

// ----- set-password links -----

/** Only an unused link that has not expired can be consumed, and only once. */
export const consumableAccountTokenFilter = (tokenHash: string, now: Date): QueryFilter<AccountTokenDoc> => ({
  tokenHash,
  usedAt: null,
  expiresAt: { $gt: now },
});

export const unusedAccountTokensFilter = (orgId: string, userId: string): QueryFilter<AccountTokenDoc> => ({
  orgId,
  userId,
  usedAt: null,
});

export const accountTokensExpiredBeforeFilter = (before: Date): QueryFilter<AccountTokenDoc> => ({ expiresAt: { $lt: before } });

/** Links already used, or expired at `now`: never usable again. */
export const accountTokensSpentFilter = (now: Date): QueryFilter<AccountTokenDoc> => ({
  $or: [{ usedAt: { $ne: null } }, { expiresAt: { $lte: now } }],
});

// ----- faces -----

export const faceKeyFilter = (orgId: string, userId: string): QueryFilter<FaceDoc> => ({ orgId, userId });

export const facesFilter = (orgId: string, userIds: readonly string[]): QueryFilter<FaceDoc> => ({
  orgId,
  userId: { $in: [...userIds] },
});
export const FACE_SORT: Sort = { userId: 1 };

// ----- face proposals -----

export const faceProposalKeyFilter = (orgId: string, userId: string): QueryFilter<FaceProposalDoc> => ({ orgId, userId });
export const faceProposalsFilter = (orgId: string): QueryFilter<FaceProposalDoc> => ({ orgId });
export const FACE_PROPOSAL_SORT: Sort = { createdAt: 1, userId: 1 };

/** Every token of the given login families, oldest first in each. */
export const familiesFilter = (familyIds: readonly string[]): QueryFilter<RefreshTokenDoc> => ({ familyId: { $in: [...familyIds] } });
export const FAMILY_AGE_SORT: Sort = { familyId: 1, createdAt: 1, _id: 1 };

// ----- reports -----

/** Sessions whose records count in reports: settled, like the daily summaries'. */
export const SETTLED_STATUSES: readonly SessionStatus[] = SETTLED_SESSION_STATES;

export function settledSessionsFilter(
  orgId: string,
  f: { subjectId?: string | undefined; ids?: string[]; fromDay?: string | undefined; toDay?: string | undefined },
): QueryFilter<SessionDoc> {
  const filter: QueryFilter<SessionDoc> = { orgId, status: { $in: [...SETTLED_STATUSES] } };
  if (f.subjectId !== undefined) filter.subjectId = f.subjectId;
  if (f.ids !== undefined) filter._id = { $in: f.ids };
  const day: { $gte?: string; $lte?: string } = {};
  if (f.fromDay !== undefined) day.$gte = f.fromDay;
  if (f.toDay !== undefined) day.$lte = f.toDay;
  if (Object.keys(day).length > 0) filter.day = day;
  return filter;
}

/**
 * Records of these sessions counted per (subject, student, status). One accumulator only:
 * FerretDB 1.x has no $min, $max, $first or $last, and answers 0 for every $group
 * accumulator after the first.
 */
export function tallyPipeline(orgId: string, sessionIds: string[], studentId?: string): object[] {
  const match: Record<string, unknown> = { orgId, sessionId: { $in: sessionIds } };
  if (studentId !== undefined) match['studentId'] = studentId;
  return [{ $match: match }, { $group: { _id: { subjectId: '$subjectId', studentId: '$studentId', status: '$status' }, n: { $sum: 1 } } }];
}

/** Present and late records of these sessions (last-seen times). */
export function seenRecordsFilter(orgId: string, sessionIds: string[], studentId?: string): QueryFilter<RecordDoc> {
  const filter: QueryFilter<RecordDoc> = { orgId, sessionId: { $in: sessionIds }, status: { $in: [...ATTENDED_STATUSES] } };
  if (studentId !== undefined) filter.studentId = studentId;
  return filter;
}

/** Summaries of a day range (all subjects, or those given); summed by the adapter. */
export function orgSummaryRangeFilter(orgId: string, fromDay: string, toDay: string, subjectIds?: string[]): QueryFilter<SummaryDoc> {
  const filter: QueryFilter<SummaryDoc> = { orgId, day: { $gte: fromDay, $lte: toDay } };
  if (subjectIds) filter.subjectId = { $in: subjectIds };
  return filter;
}

export function statusCountsPipeline(orgId: string, sessionIds: string[]): object[] {
  return [{ $match: { orgId, sessionId: { $in: sessionIds } } }, { $group: { _id: '$status', n: { $sum: 1 } } }];
}

export function auditListFilter(
  orgId: string,
  f: {
    entityType?: AuditDoc['entityType'] | undefined;
    entityId?: string | undefined;
    sessionId?: string | undefined;
    actorId?: string | undefined;
    actions?: readonly AuditDoc['action'][] | undefined;
    from?: Date | undefined;
    before?: Date | undefined;
  },
): QueryFilter<AuditDoc> {
  const filter: QueryFilter<AuditDoc> = { orgId };
  if (f.entityType !== undefined) filter.entityType = f.entityType;
  if (f.entityId !== undefined) filter.entityId = f.entityId;
  if (f.sessionId !== undefined) filter.sessionId = f.sessionId;
  if (f.actorId !== undefined) filter.actorId = f.actorId;
  if (f.actions !== undefined) filter.action = { $in: [...f.actions] };
  if (f.from !== undefined || f.before !== undefined) {
    filter.at = { ...(f.from !== undefined ? { $gte: f.from } : {}), ...(f.before !== undefined ? { $lt: f.before } : {}) };
  }
  return filter;
}

/** One filter per criterion of RecordRepository.listProxyPeers: records of other students of the session. */
export function proxyPeerFilters(orgId: string, sessionId: string, probe: ProxyProbe): QueryFilter<RecordDoc>[] {
  const others = { orgId, sessionId, studentId: { $ne: probe.studentId } };
  const filters: QueryFilter<RecordDoc>[] = [];
  if (probe.deviceId) filters.push({ ...others, deviceId: probe.deviceId });
  if (probe.ip && probe.userAgent) filters.push({ ...others, ip: probe.ip, userAgent: probe.userAgent });
  if (probe.near) {
    const { lat, lon, box } = probe.near;
    filters.push({ ...others, 'location.lat': { $gte: lat - box, $lte: lat + box }, 'location.lon': { $gte: lon - box, $lte: lon + box } });
  }
  return filters;
}

import type { CollectionEntity } from '../../domain/ports/transfer.js';
import { canonicalRanges, meetingNaturalKey } from '../../domain/ports/timetable.js';
import { toBuffer } from './binary.js';
import { toNotification } from './alerts.js';
import type { CollectionDoc } from './models.js';

// Documents of the collections that arrived after the first transfer set, to and from the
// transfer API's entities. Natural-key `_id`s are spelled as the repositories spell them.

type Pair<C extends keyof CollectionDoc & keyof CollectionEntity> = {
  to: (d: CollectionDoc[C]) => CollectionEntity[C];
  from: (e: CollectionEntity[C]) => CollectionDoc[C];
};

const orNull = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);

/** `{_id, ...fields}` both ways, for documents whose `_id` is the entity's `id`. */
function byId<C extends keyof CollectionDoc & keyof CollectionEntity>(): Pair<C> {
  return {
    to: (d) => {
      const { _id, ...rest } = d as unknown as { _id: string } & Record<string, unknown>;
      return { id: _id, ...rest } as unknown as CollectionEntity[C];
    },
    from: (e) => {
      const { id, ...rest } = e as unknown as { id: string } & Record<string, unknown>;
      return { _id: id, ...rest } as unknown as CollectionDoc[C];
    },
  };
}

export const terms: Pair<'terms'> = byId<'terms'>();
export const holidays: Pair<'holidays'> = byId<'holidays'>();
export const alertRules: Pair<'alertRules'> = byId<'alertRules'>();
export const webhookEndpoints: Pair<'webhookEndpoints'> = byId<'webhookEndpoints'>();

export const meetings: Pair<'meetings'> = {
  to: (d) => ({
    id: d._id,
    orgId: d.orgId,
    subjectId: d.subjectId,
    termId: d.termId,
    weekday: d.weekday,
    startTime: d.startTime,
    endTime: d.endTime,
    teacherId: orNull(d.teacherId),
    preset: orNull(d.preset) as CollectionEntity['meetings']['preset'],
    location: d.location ? { lat: d.location.lat, lon: d.location.lon, radiusM: d.location.radiusM } : null,
    allowedIpRanges: [...(d.allowedIpRanges ?? [])],
    revision: d.revision ?? 0,
    createdAt: d.createdAt,
  }),
  // The key the unique index needs is the store's own, made again from the fields.
  from: ({ id, ...rest }) => ({
    _id: id,
    ...rest,
    allowedIpRanges: canonicalRanges(rest.allowedIpRanges),
    naturalKey: meetingNaturalKey(rest),
  }),
};

export const occurrences: Pair<'occurrences'> = {
  to: (d) => ({
    orgId: d.orgId,
    meetingId: d.meetingId,
    day: d.day,
    subjectId: d.subjectId,
    state: d.state,
    sessionId: orNull(d.sessionId),
    updatedAt: d.updatedAt,
  }),
  from: (e) => ({ _id: `${e.meetingId}/${e.day}`, ...e }),
};

export const accountTokens: Pair<'accountTokens'> = {
  to: (d) => ({ ...byId<'accountTokens'>().to(d), usedAt: orNull(d.usedAt) }),
  from: byId<'accountTokens'>().from,
};

export const teacherSettings: Pair<'teacherSettings'> = {
  to: (d) => ({
    orgId: d.orgId,
    userId: d.userId,
    timetableOpen: d.timetableOpen as CollectionEntity['teacherSettings']['timetableOpen'],
    // Documents written before the session defaults existed have none of them: unset.
    defaultPolicy: d.defaultPolicy ?? {},
    lateGraceMinutes: d.lateGraceMinutes ?? null,
    codePeriodS: d.codePeriodS ?? null,
  }),
  from: (e) => ({ _id: `${e.orgId}/${e.userId}`, ...e }),
};

export const excuses: Pair<'excuses'> = {
  to: (d) => ({
    id: d._id,
    orgId: d.orgId,
    studentId: d.studentId,
    submittedBy: d.submittedBy,
    subjectId: orNull(d.subjectId),
    sessionId: orNull(d.sessionId),
    fromDay: d.fromDay,
    toDay: d.toDay,
    category: d.category,
    text: d.text,
    document: d.document ? { fileName: d.document.fileName, contentType: d.document.contentType, size: d.document.size } : null,
    documentBytes: d.documentBytes == null ? null : toBuffer(d.documentBytes),
    status: d.status,
    decidedBy: orNull(d.decidedBy),
    decidedAt: orNull(d.decidedAt),
    decisionNote: orNull(d.decisionNote),
    // Stored as the excuse's own id when it holds no scope's key (excuse-schemas.ts).
    pendingKey: d.pendingKey === undefined || d.pendingKey === d._id ? null : d.pendingKey,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  }),
  from: ({ id, pendingKey, ...rest }) => ({ _id: id, pendingKey: pendingKey ?? id, ...rest }),
};

export const guardians: Pair<'guardians'> = {
  to: (d) => ({
    orgId: d.orgId,
    studentId: d.studentId,
    contacts: d.contacts.map((c) => ({ name: c.name, relation: c.relation, email: c.email, language: c.language })),
    unsubscribed: d.unsubscribed ?? [],
    updatedAt: d.updatedAt,
  }),
  from: (e) => ({ _id: `${e.orgId}:${e.studentId}`, ...e }),
};

export const onerosterObjects: Pair<'onerosterObjects'> = {
  to: (d) => ({ orgId: d.orgId, kind: d.kind, sourcedId: d.sourcedId, entityId: orNull(d.entityId), data: d.data, updatedAt: d.updatedAt }),
  from: (e) => {
    const _id = `${e.orgId}:${e.kind}:${e.sourcedId}`;
    return { _id, ...e, entityKey: e.entityId ?? _id };
  },
};

export const alertStates: Pair<'alertStates'> = {
  to: (d) => {
    // The subject and student are only in the key (alerts.ts: orgId|ruleId|subjectId|studentId).
    const [, , subjectId, studentId] = d._id.split('|');
    return { orgId: d.orgId, ruleId: d.ruleId, subjectId: subjectId!, studentId: studentId!, firing: d.firing };
  },
  from: (e) => ({ _id: [e.orgId, e.ruleId, e.subjectId, e.studentId].join('|'), orgId: e.orgId, ruleId: e.ruleId, firing: e.firing }),
};

export const notifications: Pair<'notifications'> = {
  to: toNotification,
  from: ({ id, ...rest }) => ({ _id: id, ...rest }),
};

export const notificationPreferences: Pair<'notificationPreferences'> = {
  to: (d) => ({ orgId: d.orgId, userId: d.userId, language: d.language, unsubscribed: [...d.unsubscribed], updatedAt: d.updatedAt }),
  from: (e) => ({ _id: `${e.orgId}|${e.userId}`, ...e }),
};

export const outbox: Pair<'outbox'> = {
  to: (d) => ({
    id: d._id,
    orgId: d.orgId,
    category: d.category,
    userId: orNull(d.userId),
    to: d.to,
    subject: d.subject,
    text: d.text,
    html: d.html,
    headers: d.headers ?? {},
    status: d.status,
    attempts: d.attempts,
    lastError: orNull(d.lastError),
    nextAttemptAt: d.nextAttemptAt,
    claimedBy: orNull(d.claimedBy),
    claimUntil: orNull(d.claimUntil),
    createdAt: d.createdAt,
    sentAt: orNull(d.sentAt),
  }),
  from: ({ id, ...rest }) => ({ _id: id, ...rest }),
};

/** Leases are a node's hold on a delivery: the copy starts without any. */
export const webhookDeliveries: Pair<'webhookDeliveries'> = {
  to: (d) => ({
    id: d._id,
    orgId: d.orgId,
    endpointId: d.endpointId,
    event: d.event,
    orderKey: d.orderKey,
    seq: d.seq,
    body: d.body,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt,
    retryUntil: d.retryUntil,
    lastStatus: orNull(d.lastStatus),
    lastError: orNull(d.lastError),
    createdAt: d.createdAt,
    deliveredAt: orNull(d.deliveredAt),
  }),
  from: ({ id, ...rest }) => ({ _id: id, ...rest, leaseOwner: null, leaseUntil: null }),
};

/**
 * Attempts have no id in SQLite: the copy keys them by delivery and time, so that a re-run
 * upserts the same documents.
 */
export const webhookAttempts: Pair<'webhookAttempts'> = {
  to: (d) => ({
    deliveryId: d.deliveryId,
    orgId: d.orgId,
    at: d.at,
    statusCode: orNull(d.statusCode),
    error: orNull(d.error),
    durationMs: d.durationMs,
  }),
  from: (e) => ({ _id: `${e.deliveryId}@${e.at.getTime()}`, ...e }),
};

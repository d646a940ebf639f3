/**
 * The audit log's vocabulary: what an entry is about and every action the server records.
 * A new audited change adds its action here; the log's readers (reports, the subject-access
 * export) can rely on the list being complete.
 */
export const AUDIT_ENTITY_TYPES = ['record', 'session', 'user', 'subject', 'organisation', 'excuse'] as const;
export type AuditEntityType = (typeof AUDIT_ENTITY_TYPES)[number];

export const AUDIT_ACTIONS = [
  // check-ins and records
  'checkin.submit',
  'checkin.retry',
  'checkin.accept',
  'checkin.reject',
  'checkin.verify',
  'record.mark',
  'record.correct',
  'record.excuse',
  // sessions
  'session.open',
  'session.cancel',
  'session.extend',
  'session.reopen',
  'session.reschedule',
  'session.unstaffed',
  'session.start',
  'session.close',
  'close.absent',
  'close.settle',
  'close.excused',
  'reopen.remove',
  'reopen.restore',
  // subjects
  'subject.create',
  'subject.update',
  'subject.delete',
  'subject.location',
  'subject.network',
  'subject.enrol',
  'subject.unenrol',
  'subject.archive',
  'subject.unarchive',
  'subject.rollover',
  // users and accounts
  'user.create',
  'user.import',
  'user.update',
  'user.deactivate',
  'user.invite',
  'user.reset-send',
  'user.reset-resend',
  'user.password-set-by-invitation',
  'user.password-reset',
  'user.password-change',
  'user.erase',
  'user.guardians',
  'user.handover',
  'user.handback',
  'tokens.purge',
  // faces and consent
  'face.enrol',
  'face.reenrol',
  'face.delete',
  'face.propose',
  'face.proposal.approve',
  'face.proposal.reject',
  'face.proposal.withdraw',
  'consent.record',
  'consent.withdraw',
  // organisations
  'organisation.create',
  'organisation.update',
  'organisation.activate',
  'organisation.deactivate',
  'retention.apply',
  'organisation.absenceCategories',
  // excuses (docs/absences.md)
  'excuse.submit',
  'excuse.document',
  'excuse.edit',
  'excuse.approve',
  'excuse.decline',
  // timetable
  'term.create',
  'term.delete',
  'holiday.create',
  'holiday.delete',
  'meeting.create',
  'meeting.update',
  'meeting.delete',
  'meeting.cancel',
  // webhooks
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate-secret',
  'webhook.redeliver',
  'webhook.disabled',
  // integrations
  'oneroster.import',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const AUDIT_ACTION_SET: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === 'string' && AUDIT_ACTION_SET.has(value);
}

/**
 * The fields an entry's `from` and `to` name (a user's, a record's, a session's, a subject's,
 * an excuse's, the organisation's, a webhook's, a timetable slot's). The admin console words
 * each (`audit.field.<name>`, typed from this list, so a field added here fails typecheck until
 * worded); a field not listed is shown as its key.
 */
export const AUDIT_FIELDS = [
  // accounts
  'name',
  'email',
  'role',
  'studentNumber',
  'active',
  'mustChangePassword',
  'passwordHash',
  // records and sessions
  'status',
  'reason',
  'flags',
  'note',
  'version',
  'absenceCategory',
  'startsAt',
  'lateAfter',
  'closesAt',
  'policy',
  'room',
  // subjects, enrolments, timetable
  'code',
  'teacherIds',
  'teacherId',
  'studentIds',
  'location',
  'allowedIpRanges',
  'subjectId',
  'sessionId',
  'termId',
  'meetingId',
  'weekday',
  'startTime',
  'endTime',
  'startDay',
  'endDay',
  'day',
  'state',
  // excuses
  'category',
  'fromDay',
  'toDay',
  'decisionNote',
  // the organisation
  'slug',
  'timezone',
  'settings',
  'counts',
  // consent, email, webhooks
  'purpose',
  'textVersion',
  'givenBy',
  'guardianName',
  'outboxId',
  'endpointId',
  'deliveryId',
  'url',
  'events',
  'id',
] as const;
export type AuditField = (typeof AUDIT_FIELDS)[number];

const AUDIT_FIELD_SET: ReadonlySet<string> = new Set(AUDIT_FIELDS);

export function isAuditField(value: string): value is AuditField {
  return AUDIT_FIELD_SET.has(value);
}

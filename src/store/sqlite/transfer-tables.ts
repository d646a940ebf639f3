import type { CollectionEntity, CollectionName } from '../../domain/ports/transfer.js';
import { CORE_TABLES } from './core-tables.js';
import type { Row, TableSpec } from './common-mappers.js';

// Tables of the collections that arrived after the first transfer set, described field by
// field: the column each entity field is stored in and how its value is written there.

type Kind = 'value' | 'date' | 'json' | 'bool' | 'blob';
type Fields<E> = { [F in keyof E]-?: readonly [column: string, kind: Kind] };

const write: Record<Kind, (v: unknown) => unknown> = {
  value: (v) => v,
  date: (v) => (v as Date).getTime(),
  json: (v) => JSON.stringify(v),
  bool: (v) => (v ? 1 : 0),
  blob: (v) => v,
};

function read(kind: Kind, v: unknown, column: string): unknown {
  switch (kind) {
    case 'value':
      return v;
    case 'date':
      return new Date(v as number);
    case 'bool':
      return v === 1;
    case 'blob':
      return Buffer.from(v as Uint8Array);
    case 'json':
      try {
        return JSON.parse(v as string) as unknown;
      } catch (err) {
        throw new Error(`corrupt JSON in column ${column}`, { cause: err });
      }
  }
}

function table<E>(
  name: string,
  key: readonly string[],
  fields: Fields<NoInfer<E>>,
  extra: Pick<TableSpec<NoInfer<E>>, 'matchOn' | 'assigned'> = {},
): TableSpec<E> {
  const entries = Object.entries(fields) as Array<[string, readonly [string, Kind]]>;
  return {
    table: name,
    columns: [...entries.map(([, [c]]) => c), ...Object.keys(extra.assigned ?? {})],
    key,
    ...extra,
    toRow(e) {
      const row: Row = {};
      for (const [f, [c, kind]] of entries) {
        const v = (e as Record<string, unknown>)[f];
        row[c] = v === null || v === undefined ? null : write[kind](v);
      }
      return row;
    },
    fromRow(r) {
      const e: Record<string, unknown> = {};
      for (const [f, [c, kind]] of entries) e[f] = r[c] === null || r[c] === undefined ? null : read(kind, r[c], `${name}.${c}`);
      return e as E;
    },
  };
}

const v = (column: string) => [column, 'value'] as const;
const d = (column: string) => [column, 'date'] as const;
const j = (column: string) => [column, 'json'] as const;

const dayRange = {
  id: v('id'),
  orgId: v('org_id'),
  name: v('name'),
  startDay: v('start_day'),
  endDay: v('end_day'),
  createdAt: d('created_at'),
};

export const LATER_TABLES: { [C in Exclude<CollectionName, keyof typeof CORE_TABLES>]: TableSpec<CollectionEntity[C]> } = {
  terms: table('terms', ['id'], dayRange),
  holidays: table('holidays', ['id'], dayRange),
  meetings: table('meetings', ['id'], {
    id: v('id'),
    orgId: v('org_id'),
    subjectId: v('subject_id'),
    termId: v('term_id'),
    weekday: v('weekday'),
    startTime: v('start_time'),
    endTime: v('end_time'),
    teacherId: v('teacher_id'),
    preset: v('preset'),
    location: j('location'),
    allowedIpRanges: j('allowed_ip_ranges'),
    revision: v('revision'),
    createdAt: d('created_at'),
  }),
  occurrences: table('occurrences', ['meeting_id', 'day'], {
    orgId: v('org_id'),
    meetingId: v('meeting_id'),
    day: v('day'),
    subjectId: v('subject_id'),
    state: v('state'),
    sessionId: v('session_id'),
    updatedAt: d('updated_at'),
  }),
  teacherSettings: table('teacher_settings', ['org_id', 'user_id'], {
    orgId: v('org_id'),
    userId: v('user_id'),
    timetableOpen: v('timetable_open'),
    defaultPolicy: j('default_policy'),
    lateGraceMinutes: v('late_grace_minutes'),
    codePeriodS: v('code_period_s'),
  }),
  excuses: table('excuses', ['id'], {
    id: v('id'),
    orgId: v('org_id'),
    studentId: v('student_id'),
    submittedBy: v('submitted_by'),
    subjectId: v('subject_id'),
    sessionId: v('session_id'),
    fromDay: v('from_day'),
    toDay: v('to_day'),
    category: v('category'),
    text: v('text'),
    document: j('document'),
    documentBytes: ['document_bytes', 'blob'],
    status: v('status'),
    decidedBy: v('decided_by'),
    decidedAt: d('decided_at'),
    decisionNote: v('decision_note'),
    pendingKey: v('pending_key'),
    createdAt: d('created_at'),
    updatedAt: d('updated_at'),
  }),
  guardians: table('guardian_contacts', ['org_id', 'student_id'], {
    orgId: v('org_id'),
    studentId: v('student_id'),
    contacts: j('contacts'),
    unsubscribed: j('unsubscribed'),
    updatedAt: d('updated_at'),
  }),
  onerosterObjects: table('oneroster_objects', ['org_id', 'kind', 'sourced_id'], {
    orgId: v('org_id'),
    kind: v('kind'),
    sourcedId: v('sourced_id'),
    entityId: v('entity_id'),
    data: j('data'),
    updatedAt: d('updated_at'),
  }),
  alertRules: table('alert_rules', ['id'], {
    id: v('id'),
    orgId: v('org_id'),
    kind: v('kind'),
    count: v('count'),
    thresholdPct: v('threshold_pct'),
    windowDays: v('window_days'),
    createdAt: d('created_at'),
  }),
  alertStates: table('alert_states', ['org_id', 'rule_id', 'subject_id', 'student_id'], {
    orgId: v('org_id'),
    ruleId: v('rule_id'),
    subjectId: v('subject_id'),
    studentId: v('student_id'),
    firing: ['firing', 'bool'],
  }),
  // seq orders a user's notifications created in the same millisecond: copied rows get theirs in copy order.
  notifications: table(
    'notifications',
    ['id'],
    {
      id: v('id'),
      orgId: v('org_id'),
      userId: v('user_id'),
      category: v('category'),
      alert: j('alert'),
      createdAt: d('created_at'),
      readAt: d('read_at'),
    },
    { assigned: { seq: '(SELECT COALESCE(MAX(seq), 0) + 1 FROM notifications)' } },
  ),
  notificationPreferences: table('notification_preferences', ['org_id', 'user_id'], {
    orgId: v('org_id'),
    userId: v('user_id'),
    language: v('language'),
    unsubscribed: j('unsubscribed'),
    updatedAt: d('updated_at'),
  }),
  outbox: table('outbox', ['id'], {
    id: v('id'),
    orgId: v('org_id'),
    category: v('category'),
    userId: v('user_id'),
    to: v('recipient'),
    subject: v('subject'),
    text: v('text'),
    html: v('html'),
    headers: j('headers'),
    status: v('status'),
    attempts: v('attempts'),
    lastError: v('last_error'),
    nextAttemptAt: d('next_attempt_at'),
    claimedBy: v('claimed_by'),
    claimUntil: d('claim_until'),
    createdAt: d('created_at'),
    sentAt: d('sent_at'),
  }),
  webhookEndpoints: table('webhook_endpoints', ['id'], {
    id: v('id'),
    orgId: v('org_id'),
    url: v('url'),
    description: v('description'),
    secret: v('secret'),
    events: j('events'),
    active: ['active', 'bool'],
    failingSince: d('failing_since'),
    disabledAt: d('disabled_at'),
    disabledReason: v('disabled_reason'),
    createdAt: d('created_at'),
    updatedAt: d('updated_at'),
  }),
  // Leases stay behind (lease_owner, lease_until are not copied): the copy starts with none.
  webhookDeliveries: table('webhook_deliveries', ['id'], {
    id: v('id'),
    orgId: v('org_id'),
    endpointId: v('endpoint_id'),
    event: v('event'),
    orderKey: v('order_key'),
    seq: v('seq'),
    body: v('body'),
    state: v('state'),
    attempts: v('attempts'),
    nextAttemptAt: d('next_attempt_at'),
    retryUntil: d('retry_until'),
    lastStatus: v('last_status'),
    lastError: v('last_error'),
    createdAt: d('created_at'),
    deliveredAt: d('delivered_at'),
  }),
  webhookAttempts: table(
    'webhook_attempts',
    [],
    {
      deliveryId: v('delivery_id'),
      orgId: v('org_id'),
      at: d('at'),
      statusCode: v('status_code'),
      error: v('error'),
      durationMs: v('duration_ms'),
    },
    { matchOn: ['delivery_id', 'at'] },
  ),
};

/** Every transferable collection's table. */
export const TABLES: { [C in CollectionName]: TableSpec<CollectionEntity[C]> } = { ...CORE_TABLES, ...LATER_TABLES };

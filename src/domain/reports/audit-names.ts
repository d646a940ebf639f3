import type { AuditEntry } from '../ports/audit.js';
import type { Store } from '../ports/store.js';

/**
 * An audit entry with what its ids stand for, so a reader sees whom and what it was about
 * (docs/reports.md). A name is null when there is nothing to name, or when its account is gone:
 * an erased person's ids are tombstones that name nobody, so erasure holds here too.
 */
export interface NamedAuditEntry extends AuditEntry {
  /** Who made the change; null for the server, or an account since erased or deleted. */
  actorName: string | null;
  /** The person it is about: the user, the record's student or the excuse's student. */
  userName: string | null;
  /** The subject it is about: the subject, or its session's. */
  subjectCode: string | null;
  subjectName: string | null;
  /** When its session (the entry's, or the record's) starts. */
  sessionStartsAt: Date | null;
}

const byId = <T extends { id: string }>(rows: readonly T[]): Map<string, T> => new Map(rows.map((r) => [r.id, r]));
const idsOf = (ids: Iterable<string | null | undefined>): string[] => [...new Set([...ids].filter((id): id is string => !!id))];

/**
 * Names a page of entries with one store query per kind (records and excuses, then sessions,
 * then subjects and users), never one per entry: a CSV holds up to 10,000 of them.
 */
export async function nameAuditEntries(store: Store, orgId: string, entries: readonly AuditEntry[]): Promise<NamedAuditEntry[]> {
  if (entries.length === 0) return [];
  const about = (type: AuditEntry['entityType']) => idsOf(entries.filter((e) => e.entityType === type).map((e) => e.entityId));
  const [records, excuses] = await Promise.all([
    store.reports.recordRefs(orgId, about('record')).then(byId),
    store.reports.excuseRefs(orgId, about('excuse')).then(byId),
  ]);
  const sessionOf = (e: AuditEntry): string | null =>
    e.sessionId ??
    (e.entityType === 'session' ? e.entityId : e.entityType === 'record' ? (records.get(e.entityId)?.sessionId ?? null) : null);
  const sessions = byId(await store.reports.sessionRefs(orgId, idsOf(entries.map(sessionOf))));
  const subjectOf = (e: AuditEntry): string | null => {
    if (e.entityType === 'subject') return e.entityId;
    const session = sessionOf(e);
    return session === null ? null : (sessions.get(session)?.subjectId ?? null);
  };
  const personOf = (e: AuditEntry): string | null =>
    e.entityType === 'user'
      ? e.entityId
      : e.entityType === 'record'
        ? (records.get(e.entityId)?.studentId ?? null)
        : e.entityType === 'excuse'
          ? (excuses.get(e.entityId)?.studentId ?? null)
          : null;
  const [subjects, users] = await Promise.all([
    store.reports.subjectRefs(orgId, idsOf(entries.map(subjectOf))).then(byId),
    store.users.getNames(orgId, idsOf(entries.flatMap((e) => [e.actorId, personOf(e)]))).then(byId),
  ]);
  const nameOf = (id: string | null) => (id === null ? null : (users.get(id)?.name ?? null));
  return entries.map((e) => {
    const subjectId = subjectOf(e);
    const sessionId = sessionOf(e);
    const subject = subjectId === null ? undefined : subjects.get(subjectId);
    const session = sessionId === null ? undefined : sessions.get(sessionId);
    // Field by field: spreading 10,000 entries cost several times the queries above (bench-reports).
    return {
      id: e.id,
      orgId: e.orgId,
      entityType: e.entityType,
      entityId: e.entityId,
      sessionId: e.sessionId,
      actorId: e.actorId,
      action: e.action,
      from: e.from,
      to: e.to,
      reason: e.reason,
      ip: e.ip,
      at: e.at,
      actorName: nameOf(e.actorId),
      userName: nameOf(personOf(e)),
      subjectCode: subject?.code ?? null,
      subjectName: subject?.name ?? null,
      sessionStartsAt: session?.startsAt ?? null,
    };
  });
}

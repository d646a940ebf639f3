import type { NamedAuditEntry } from '../domain/reports/audit-names.js';
import { localIso } from '../domain/calendar.js';
import type { AuditAction, AuditEntityType } from '../shared/audit.js';
import { auditActionsEn } from '../shared/i18n/audit-actions-en.js';
import { auditActionsFr } from '../shared/i18n/audit-actions-fr.js';
import type { Language } from '../shared/i18n/languages.js';
import { EXPORT_WORDS, wallClock } from './attendance-export.js';
import { toCsv } from './csv.js';

/** The columns of the audit CSV: its keys are the machine contract (docs/reports.md). */
export const AUDIT_COLUMNS = [
  'at',
  'entityType',
  'entityId',
  'sessionId',
  'actorId',
  'action',
  'reason',
  'ip',
  'from',
  'to',
  'actorName',
  'userName',
  'subjectCode',
  'subjectName',
  'sessionStartsAt',
] as const;
type Column = (typeof AUDIT_COLUMNS)[number];

interface AuditWords {
  headings: Readonly<Record<Column, string>>;
  entityTypes: Readonly<Record<AuditEntityType, string>>;
  /** As the admin console's Audit trail names them (`audit.action.<name>`): one shared table. */
  actions: Readonly<Record<AuditAction, string>>;
}

const en: AuditWords = {
  headings: {
    at: 'When',
    entityType: 'About',
    entityId: 'About (id)',
    sessionId: 'Session',
    actorId: 'By (id)',
    action: 'Action',
    reason: 'Reason',
    ip: 'IP address',
    from: 'Before',
    to: 'After',
    actorName: 'By',
    userName: 'Person',
    subjectCode: 'Subject',
    subjectName: 'Subject name',
    sessionStartsAt: 'Session starts at',
  },
  entityTypes: {
    record: 'Record',
    session: 'Session',
    user: 'User',
    subject: 'Subject',
    organisation: 'Organisation',
    excuse: 'Excuse',
  },
  actions: auditActionsEn,
};

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: AuditWords = {
  headings: {
    at: 'Date',
    entityType: 'Concerne',
    entityId: 'Concerne (identifiant)',
    sessionId: 'Séance',
    actorId: 'Par (identifiant)',
    action: 'Action',
    reason: 'Motif',
    ip: 'Adresse IP',
    from: 'Avant',
    to: 'Après',
    actorName: 'Par',
    userName: 'Personne',
    subjectCode: 'Matière',
    subjectName: 'Nom de la matière',
    sessionStartsAt: 'Début de la séance',
  },
  entityTypes: {
    record: 'Présence',
    session: 'Séance',
    user: 'Utilisateur',
    subject: 'Matière',
    organisation: 'Établissement',
    excuse: 'Justificatif',
  },
  actions: auditActionsFr,
};

/** The words of each language, for the test that every action and entity type has one. */
export const AUDIT_EXPORT_WORDS: Record<Language, AuditWords> = { en, fr };

/**
 * The audit entries as CSV. Without `lang`: the keys, the actions' codes, ISO times with their
 * offset, commas: byte for byte what scripts have read. With it: for a person, as the attendance
 * exports (headings, what an entry is about and its action in words, wall-clock times in the
 * organisation's zone, a byte order mark, the language's separator). The changed fields stay JSON.
 */
export function auditCsv(entries: readonly NamedAuditEntry[], zone: string, lang: Language | undefined): string {
  const time = lang === undefined ? (at: Date) => localIso(zone, at) : (at: Date) => wallClock(localIso(zone, at));
  const rows = entries.map((e) => ({
    ...e,
    at: time(e.at),
    sessionStartsAt: e.sessionStartsAt === null ? null : time(e.sessionStartsAt),
    from: e.from === null ? null : JSON.stringify(e.from),
    to: e.to === null ? null : JSON.stringify(e.to),
  }));
  if (lang === undefined) return toCsv(AUDIT_COLUMNS, rows);
  const words = AUDIT_EXPORT_WORDS[lang];
  return toCsv(
    AUDIT_COLUMNS,
    // An action a newer server wrote (read back from the store) keeps its code.
    rows.map((r) => ({ ...r, entityType: words.entityTypes[r.entityType], action: words.actions[r.action] ?? r.action })),
    { headings: words.headings, delimiter: EXPORT_WORDS[lang].delimiter },
  );
}

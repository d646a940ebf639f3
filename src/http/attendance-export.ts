import { z } from 'zod';
import type { ExportRow } from '../domain/sessions/attendance-queries.js';
import { LANGUAGES, type Language } from '../shared/i18n/languages.js';
import type { RosterStatus } from '../shared/events.js';
import { reasonsFr } from '../shared/i18n/reasons-fr.js';
import { ReasonCodes, isReasonCode, type ReasonCode } from '../shared/reasons.js';
import { toCsv, toCsvStream, type CsvLayout } from './csv.js';

/** The columns of an attendance export: its keys are the machine contract (docs/protocol.md §17). */
export const EXPORT_COLUMNS = [
  'day',
  'sessionId',
  'startsAt',
  'subjectCode',
  'studentNumber',
  'name',
  'status',
  'reason',
  'flags',
  'submittedAt',
  'decidedAt',
  'note',
  'correctionReason',
  'absenceCategory',
] as const;
type Column = (typeof EXPORT_COLUMNS)[number];

/** `lang=` of an export: a person opens it in a spreadsheet; without it a program reads the keys. */
export const ExportLanguage = z
  .enum(LANGUAGES)
  .optional()
  .describe(
    'For a person: headings, statuses, reasons and flags in this language, times as `YYYY-MM-DD HH:MM:SS` in the organisation’s zone, a byte order mark, and the separator its spreadsheets expect (`;` in French). Without it: the keys and codes as documented, unchanged.',
  );

interface ExportWords {
  headings: Readonly<Record<Column, string>>;
  statuses: Readonly<Record<RosterStatus, string>>;
  /** The reason and flags cells: each code as the pages' sentence (`reason.<CODE>`) words it. */
  reasons: Readonly<Record<ReasonCode, string>>;
  /** French spreadsheets write decimals with a comma, so they split a CSV on semicolons. */
  delimiter: string;
}

const en: ExportWords = {
  headings: {
    day: 'Day',
    sessionId: 'Session',
    startsAt: 'Starts at',
    subjectCode: 'Subject',
    studentNumber: 'Student number',
    name: 'Name',
    status: 'Status',
    reason: 'Reason',
    flags: 'Flags',
    submittedAt: 'Checked in at',
    decidedAt: 'Decided at',
    note: 'Note',
    correctionReason: 'Correction reason',
    absenceCategory: 'Absence category',
  },
  statuses: {
    present: 'Present',
    late: 'Late',
    pending: 'Pending review',
    rejected: 'Rejected',
    excused: 'Excused',
    absent: 'Absent',
    'not-yet': 'Not yet',
  },
  reasons: ReasonCodes,
  delimiter: ',',
};

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: ExportWords = {
  headings: {
    day: 'Jour',
    sessionId: 'Séance',
    startsAt: 'Début',
    subjectCode: 'Matière',
    studentNumber: 'Numéro d’élève',
    name: 'Nom',
    status: 'Statut',
    reason: 'Motif',
    flags: 'Signalements',
    submittedAt: 'Pointé à',
    decidedAt: 'Décidé à',
    note: 'Note',
    correctionReason: 'Motif de la correction',
    absenceCategory: 'Catégorie d’absence',
  },
  statuses: {
    present: 'Présent·e',
    late: 'En retard',
    pending: 'À vérifier',
    rejected: 'Refusé',
    excused: 'Excusé·e',
    absent: 'Absent·e',
    'not-yet': 'Pas encore',
  },
  reasons: reasonsFr,
  delimiter: ';',
};

/** The words of each language, for the tests that they match the pages' and word every code. */
export const EXPORT_WORDS: Record<Language, ExportWords> = { en, fr };

export function exportLayout(language: Language): CsvLayout<Column> {
  const { headings, delimiter } = EXPORT_WORDS[language];
  return { headings, delimiter };
}

/**
 * A row as a person reads it. Times stay in the organisation's zone but lose the `T` and the
 * offset: every spreadsheet, whatever its language, reads `2026-03-02 10:00:00` as a date and time.
 * The reason and each flag are written as sentences, which a person reads without the code table,
 * the reason once (a refusal's is among the record's flags too); the absence category stays its
 * code, which the school chose and names itself.
 */
export function forPeople(row: ExportRow, language: Language): Omit<ExportRow, 'status'> & { status: string } {
  return {
    ...row,
    startsAt: wallClock(row.startsAt),
    status: EXPORT_WORDS[language].statuses[row.status],
    reason: row.reason === null ? null : reasonWords(row.reason, language),
    flags: row.flags
      .split(' ')
      .filter((code) => code !== '' && code !== row.reason)
      .map((code) => reasonWords(code, language))
      .join(' '),
    submittedAt: row.submittedAt === null ? null : wallClock(row.submittedAt),
    decidedAt: row.decidedAt === null ? null : wallClock(row.decidedAt),
  };
}

/** A code this server does not know (a record written by a newer one) is left as it is. */
const reasonWords = (code: string, language: Language): string => (isReasonCode(code) ? EXPORT_WORDS[language].reasons[code] : code);

/** `2026-03-02T10:00:00+01:00` (localIso) as `2026-03-02 10:00:00`. */
export const wallClock = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

/** An export as a program reads it (no `lang`: the machine contract, byte for byte) or a person does. */
export function exportCsv(rows: ExportRow[], lang: Language | undefined): string {
  return lang === undefined
    ? toCsv(EXPORT_COLUMNS, rows)
    : toCsv(
        EXPORT_COLUMNS,
        rows.map((r) => forPeople(r, lang)),
        exportLayout(lang),
      );
}

/** exportCsv for an export read in chunks (the organisation's). */
export function exportCsvStream(chunks: AsyncIterable<ExportRow[]>, lang: Language | undefined): AsyncGenerator<string> {
  return lang === undefined ? toCsvStream(EXPORT_COLUMNS, chunks) : toCsvStream(EXPORT_COLUMNS, inWords(chunks, lang), exportLayout(lang));
}

async function* inWords(chunks: AsyncIterable<ExportRow[]>, lang: Language): AsyncGenerator<ReturnType<typeof forPeople>[]> {
  for await (const rows of chunks) yield rows.map((r) => forPeople(r, lang));
}

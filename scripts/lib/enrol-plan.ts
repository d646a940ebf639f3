import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { MAX_ENROLMENT_PHOTOS } from '../../src/domain/face/enrolment-service.js';

/**
 * The pure half of the bulk enrolment CLI (scripts/enrol-faces.ts): which photo file belongs
 * to which student of the subject, which files are left out and why, and the per-file report.
 * Reading folders and running the face engine stay in the script.
 */

export const PHOTO_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp'];

/** One photo found in the folder. */
export interface PhotoFile {
  /** Path relative to the folder with '/' separators: what the report shows. */
  name: string;
  /** Content digest: the same photo filed twice must not count as two photos. */
  digest: string;
}

/** What the plan needs of a student; a stored User fits. */
export interface StudentRef {
  id: string;
  email: string;
  studentNumber: string | null;
  name: string;
}

export type Outcome =
  | { kind: 'matched' }
  | { kind: 'enrolled' }
  /** Acting as a teacher: the photos wait for an admin's approval. */
  | { kind: 'proposed' }
  | { kind: 'refused'; reason: string }
  | { kind: 'unknown-key' }
  | { kind: 'ambiguous-key' }
  | { kind: 'not-enrolled' }
  | { kind: 'duplicate'; of: string }
  | { kind: 'skipped'; why: string }
  /** `message` only for an unexpected error (code INTERNAL): what the operator needs to look into. */
  | { kind: 'failed'; code: string; message?: string };

export interface FileEntry {
  file: string;
  /** The key that matched, else the most specific one tried. */
  key: string;
  student: StudentRef | null;
  outcome: Outcome;
}

/** The photos of one student that go to the enrolment service together, in file order. */
export interface Batch {
  student: StudentRef;
  files: string[];
}

export interface EnrolPlan {
  /** One entry per file, in natural file order. */
  entries: FileEntry[];
  batches: Batch[];
  /** Students of the subject without a single usable photo in the folder (none, or only duplicates). */
  withoutPhotos: StudentRef[];
}

export interface Roster {
  /** Students enrolled in the subject. */
  enrolled: readonly StudentRef[];
  /** Other students of the organisation whose number or email a file names. */
  others: readonly StudentRef[];
}

const naturalOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const SUFFIX = /^(.+?)[_-]\d{1,3}$/;

export function isPhotoName(name: string): boolean {
  return !name.startsWith('.') && PHOTO_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/**
 * Keys a file may name, most specific first, lower-cased. A file in a sub-folder belongs to
 * the folder's key. A flat file's stem is tried whole before without a `_2`/`-2` suffix, so a
 * student number that itself ends in `-12` still matches.
 */
export function fileKeys(name: string): string[] {
  const parts = name.split('/');
  if (parts.length > 1) return [parts[0]!.trim().toLowerCase()];
  const stem = path.basename(name, path.extname(name)).trim().toLowerCase();
  const bare = SUFFIX.exec(stem)?.[1];
  return bare && bare !== stem ? [stem, bare] : [stem];
}

/** Keys of the files that name no enrolled student: the script looks them up in the organisation. */
export function unresolvedKeys(files: readonly PhotoFile[], enrolled: readonly StudentRef[]): string[] {
  const index = indexByKey(enrolled);
  const out = new Set<string>();
  for (const f of files) {
    const keys = fileKeys(f.name);
    if (!keys.some((k) => index.has(k))) for (const k of keys) out.add(k);
  }
  return [...out];
}

/**
 * Matches files to students and decides what is enrolled. The same content filed under two
 * students is kept for neither (one of them would check in as the other); filed twice for
 * one student it counts once. Beyond MAX_ENROLMENT_PHOTOS a student's later files are skipped.
 */
export function planEnrolment(files: readonly PhotoFile[], roster: Roster): EnrolPlan {
  const enrolled = indexByKey(roster.enrolled);
  const others = indexByKey(roster.others);
  const sorted = [...files].sort(byFileName);
  const entries = sorted.map((f): FileEntry => match(f.name, enrolled, others));
  const digests = new Map(sorted.map((f) => [f.name, f.digest]));

  // Content filed under several students: every copy is refused.
  const owners = new Map<string, Map<string, string>>();
  for (const e of entries) {
    if (e.outcome.kind !== 'matched') continue;
    const d = digests.get(e.file)!;
    const byStudent = owners.get(d) ?? new Map<string, string>();
    if (!byStudent.has(e.student!.id)) byStudent.set(e.student!.id, e.file);
    owners.set(d, byStudent);
  }
  for (const e of entries) {
    if (e.outcome.kind !== 'matched') continue;
    const byStudent = owners.get(digests.get(e.file)!)!;
    const first = byStudent.get(e.student!.id)!;
    if (byStudent.size > 1) {
      const other = [...byStudent.values()].find((f) => f !== first)!;
      e.outcome = { kind: 'duplicate', of: other };
    } else if (first !== e.file) {
      e.outcome = { kind: 'duplicate', of: first };
    }
  }

  const byStudent = new Map<string, Batch>();
  for (const e of entries) {
    if (e.outcome.kind !== 'matched') continue;
    const batch = byStudent.get(e.student!.id) ?? { student: e.student!, files: [] };
    if (batch.files.length >= MAX_ENROLMENT_PHOTOS) {
      e.outcome = { kind: 'skipped', why: `more than ${MAX_ENROLMENT_PHOTOS} photos` };
      continue;
    }
    batch.files.push(e.file);
    byStudent.set(e.student!.id, batch);
  }
  const withoutPhotos = roster.enrolled
    .filter((s) => !byStudent.has(s.id))
    .sort((a, b) => naturalOrder.compare(studentLabel(a), studentLabel(b)));
  return { entries, batches: [...byStudent.values()], withoutPhotos };
}

/** What the enrolment service answered for one batch. */
export type BatchResult =
  | { ok: true; proposed: boolean }
  | { ok: false; refusals: ReadonlyArray<{ index: number; reason: string }> }
  | { ok: false; code: string; message?: string };

/**
 * Sets the outcome of each file of the batch. The service stores all photos or none, so the
 * photos it did not object to are reported as skipped because of the others.
 */
export function applyResult(plan: EnrolPlan, batch: Batch, result: BatchResult): void {
  const outcomes: Outcome[] = batch.files.map((): Outcome => {
    if (result.ok) return { kind: result.proposed ? 'proposed' : 'enrolled' };
    if ('code' in result)
      return result.message === undefined
        ? { kind: 'failed', code: result.code }
        : { kind: 'failed', code: result.code, message: result.message };
    return { kind: 'skipped', why: 'another photo of this student was refused' };
  });
  if (!result.ok && 'refusals' in result) {
    for (const r of result.refusals) if (r.index < outcomes.length) outcomes[r.index] = { kind: 'refused', reason: r.reason };
  }
  batch.files.forEach((file, i) => {
    const entry = plan.entries.find((e) => e.file === file);
    if (entry) entry.outcome = outcomes[i]!;
  });
}

export function studentLabel(s: StudentRef): string {
  return s.studentNumber ?? s.email;
}

export function outcomeLabel(o: Outcome): string {
  switch (o.kind) {
    case 'matched':
      return 'would enrol';
    case 'enrolled':
      return 'enrolled';
    case 'proposed':
      return 'proposed for admin approval';
    case 'refused':
      return `refused ${o.reason}`;
    case 'unknown-key':
      return 'unknown key';
    case 'ambiguous-key':
      return 'ambiguous key';
    case 'not-enrolled':
      return 'not enrolled in subject';
    case 'duplicate':
      return `duplicate of ${o.of}`;
    case 'skipped':
      return `skipped: ${o.why}`;
    case 'failed':
      return `failed ${o.code}`;
  }
}

/** The per-file table, columns padded to their widest cell. */
export function formatTable(entries: readonly FileEntry[]): string {
  const rows = [
    ['FILE', 'STUDENT', 'OUTCOME'],
    ...entries.map((e) => [e.file, e.student ? `${studentLabel(e.student)} (${e.student.name})` : '-', outcomeLabel(e.outcome)]),
  ];
  const widths = [0, 1].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`).join('\n');
}

export function formatCsv(entries: readonly FileEntry[]): string {
  return stringify(
    entries.map((e) => ({
      file: e.file,
      student_number: e.student?.studentNumber ?? '',
      email: e.student?.email ?? '',
      outcome: e.outcome.kind,
      detail: detailOf(e.outcome),
    })),
    { header: true, columns: ['file', 'student_number', 'email', 'outcome', 'detail'] },
  );
}

/** `8 files: 5 enrolled, 1 refused, ...; 3 of 4 students with photos enrolled`, plus the students without photos. */
export function formatSummary(plan: EnrolPlan): string {
  const counts = new Map<string, number>();
  for (const e of plan.entries) counts.set(e.outcome.kind, (counts.get(e.outcome.kind) ?? 0) + 1);
  const parts = [...counts.entries()].map(([kind, n]) => `${n} ${SUMMARY_NAMES[kind as Outcome['kind']]}`);
  const done = plan.batches.filter((b) => b.files.some((f) => isDone(plan.entries.find((e) => e.file === f)?.outcome.kind))).length;
  const lines = [
    `${plan.entries.length} files: ${parts.join(', ') || 'none'}`,
    `${done} of ${plan.batches.length} students with photos enrolled or proposed`,
  ];
  lines.push(
    plan.withoutPhotos.length === 0
      ? 'every student of the subject has photos'
      : `${plan.withoutPhotos.length} students of the subject without a usable photo: ${plan.withoutPhotos.map((s) => `${studentLabel(s)} (${s.name})`).join(', ')}`,
  );
  return lines.join('\n');
}

const isDone = (kind: Outcome['kind'] | undefined): boolean => kind === 'enrolled' || kind === 'proposed';

/** 0 when every file was enrolled or proposed (or, on a dry run, would be), else 1. */
export function exitCodeOf(plan: EnrolPlan, dryRun: boolean): 0 | 1 {
  const ok = (kind: Outcome['kind']) => (dryRun ? kind === 'matched' : isDone(kind));
  return plan.entries.length > 0 && plan.entries.every((e) => ok(e.outcome.kind)) ? 0 : 1;
}

const SUMMARY_NAMES: Record<Outcome['kind'], string> = {
  matched: 'would enrol',
  enrolled: 'enrolled',
  proposed: 'proposed for admin approval',
  refused: 'refused',
  'unknown-key': 'unknown key',
  'ambiguous-key': 'ambiguous key',
  'not-enrolled': 'not enrolled in subject',
  duplicate: 'duplicate',
  skipped: 'skipped',
  failed: 'failed',
};

function detailOf(o: Outcome): string {
  switch (o.kind) {
    case 'refused':
      return o.reason;
    case 'duplicate':
      return o.of;
    case 'skipped':
      return o.why;
    case 'failed':
      return o.message === undefined ? o.code : `${o.code}: ${o.message}`;
    default:
      return '';
  }
}

/** Natural order on the name without its extension first, so `S001.jpg` precedes `S001_2.jpg`. */
function byFileName(a: PhotoFile, b: PhotoFile): number {
  const stem = (n: string) => n.slice(0, n.length - path.extname(n).length);
  return (
    naturalOrder.compare(stem(a.name), stem(b.name)) ||
    naturalOrder.compare(a.name, b.name) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

function match(file: string, enrolled: Map<string, StudentRef[]>, others: Map<string, StudentRef[]>): FileEntry {
  const keys = fileKeys(file);
  for (const key of keys) {
    const found = enrolled.get(key);
    if (found?.length === 1) return { file, key, student: found[0]!, outcome: { kind: 'matched' } };
    if (found) return { file, key, student: null, outcome: { kind: 'ambiguous-key' } };
  }
  for (const key of keys) {
    const found = others.get(key);
    if (found?.length === 1) return { file, key, student: found[0]!, outcome: { kind: 'not-enrolled' } };
    if (found) return { file, key, student: null, outcome: { kind: 'ambiguous-key' } };
  }
  return { file, key: keys[0]!, student: null, outcome: { kind: 'unknown-key' } };
}

/** Lower-cased student number and email to the students carrying it (several means ambiguous). */
function indexByKey(students: readonly StudentRef[]): Map<string, StudentRef[]> {
  const index = new Map<string, StudentRef[]>();
  const add = (key: string, s: StudentRef) => {
    const list = index.get(key) ?? [];
    if (!list.some((x) => x.id === s.id)) list.push(s);
    index.set(key, list);
  };
  for (const s of students) {
    add(s.email.toLowerCase(), s);
    if (s.studentNumber) add(s.studentNumber.trim().toLowerCase(), s);
  }
  return index;
}

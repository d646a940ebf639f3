import { requireRole, type Actor } from '../actor.js';
import { auditMany } from '../audit-log.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';
import { AppError } from '../../shared/app-error.js';
import { UNCLOSED_SESSION_STATES } from '../../shared/events.js';

/** As many subjects as one request archives: a school's whole catalogue of a year. */
export const ARCHIVE_SUBJECTS_MAX = 1_000;

/** Sessions not closed of one subject read to name them: more than a term's timetable creates ahead. */
const UNCLOSED_LISTED_MAX = 100;

export interface ArchiveOutcome {
  /** The subjects this request changed, by code. */
  changed: Subject[];
  /** Listed ids already so (archived, or in use), left as they were. */
  unchangedIds: string[];
}

/**
 * Refuses a new session, meeting or enrolment of an archived subject: last year's subject keeps
 * its records and reports, nothing new starts in it.
 */
export function assertInUse(subjects: readonly Pick<Subject, 'id' | 'archivedAt'>[]): void {
  const archived = subjects.filter((s) => s.archivedAt !== null).map((s) => s.id);
  if (archived.length > 0) throw new AppError('SUBJECT_ARCHIVED', undefined, { subjectIds: archived });
}

/**
 * The listed subjects of the organisation by code, at most `max` of them: an id that is none of
 * its subjects refuses the whole request (details.unknownSubjectIds), before anything is written.
 */
export async function listedSubjects(store: Store, orgId: string, ids: readonly string[], max: number): Promise<Subject[]> {
  const wanted = [...new Set(ids)];
  if (wanted.length > max) throw new AppError('VALIDATION_FAILED', `At most ${max} subjects at once.`, { field: 'subjectIds' });
  const found = await store.subjects.getMany(orgId, wanted);
  const known = new Set(found.map((s) => s.id));
  const unknownSubjectIds = wanted.filter((id) => !known.has(id));
  if (unknownSubjectIds.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'Some ids are not subjects of this organisation.', { unknownSubjectIds });
  }
  return found.sort((a, b) => a.code.localeCompare(b.code));
}

/**
 * A new school year: admins archive last year's subjects (the listed ones, at once) and may
 * unarchive them. All or nothing, checked before anything is written: an id not a subject of
 * the organisation refuses the request (details.unknownSubjectIds), and so does a subject with a
 * session open or scheduled (SUBJECT_HAS_SESSIONS, details.sessionIds): a live class is not cut
 * from under its teacher, and a scheduled one is a class someone meant to hold, so its teacher
 * or an admin cancels it knowingly. Meetings stay (the year's timetable is part of its record)
 * and create nothing while the subject is archived.
 */
export class SubjectArchive {
  constructor(private readonly deps: { store: Store; clock: () => Date }) {}

  async archive(actor: Actor, ids: readonly string[]): Promise<ArchiveOutcome> {
    const subjects = await this.load(actor, ids);
    const busy = await this.unclosedSessionIds(
      actor.orgId,
      subjects.filter((s) => s.archivedAt === null),
    );
    if (busy.sessionIds.length > 0) throw new AppError('SUBJECT_HAS_SESSIONS', undefined, busy);
    return this.apply(actor, subjects, true);
  }

  async unarchive(actor: Actor, ids: readonly string[]): Promise<ArchiveOutcome> {
    return this.apply(actor, await this.load(actor, ids), false);
  }

  private async load(actor: Actor, ids: readonly string[]): Promise<Subject[]> {
    requireRole(actor, 'admin');
    return listedSubjects(this.deps.store, actor.orgId, ids, ARCHIVE_SUBJECTS_MAX);
  }

  private async unclosedSessionIds(orgId: string, subjects: readonly Subject[]): Promise<{ subjectIds: string[]; sessionIds: string[] }> {
    const subjectIds: string[] = [];
    const sessionIds: string[] = [];
    for (const s of subjects) {
      const page = await this.deps.store.sessions.list(orgId, {
        subjectId: s.id,
        status: [...UNCLOSED_SESSION_STATES],
        limit: UNCLOSED_LISTED_MAX,
        offset: 0,
      });
      if (page.items.length === 0) continue;
      subjectIds.push(s.id);
      sessionIds.push(...page.items.map((x) => x.id));
    }
    return { subjectIds, sessionIds };
  }

  private async apply(actor: Actor, subjects: readonly Subject[], archive: boolean): Promise<ArchiveOutcome> {
    const now = this.deps.clock();
    const changed: Subject[] = [];
    const unchangedIds: string[] = [];
    for (const s of subjects) {
      if ((s.archivedAt !== null) === archive) {
        unchangedIds.push(s.id);
        continue;
      }
      const after = await this.deps.store.subjects.update(actor.orgId, s.id, { archivedAt: archive ? now : null });
      // Deleted between the read and the write: nothing left to archive.
      if (after) changed.push(after);
      else unchangedIds.push(s.id);
    }
    await auditMany(
      this.deps.store,
      actor,
      now,
      changed.map((s) => ({
        entityType: 'subject' as const,
        entityId: s.id,
        action: archive ? ('subject.archive' as const) : ('subject.unarchive' as const),
        from: { archivedAt: archive ? null : subjects.find((x) => x.id === s.id)?.archivedAt },
        to: { archivedAt: s.archivedAt },
      })),
    );
    return { changed, unchangedIds };
  }
}

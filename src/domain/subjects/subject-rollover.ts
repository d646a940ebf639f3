import { createHash } from 'node:crypto';
import { requireRole, type Actor } from '../actor.js';
import { audit } from '../audit-log.js';
import { StoreConflictError } from '../ports/common.js';
import type { AuditEntry } from '../ports/audit.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';
import { meetingNaturalKey, type Meeting } from '../ports/timetable.js';
import type { User } from '../ports/users.js';
import { chunked } from '../users/user-lookup.js';
import type { TimetableService } from '../timetable/timetable-service.js';
import { AppError } from '../../shared/app-error.js';
import { SubjectCodeSchema } from './subject-input.js';
import { listedSubjects } from './subject-archive.js';
import type { SubjectService } from './subject-service.js';

/** Subjects one roll-over request takes: each is a create, its class's enrolment and its meetings. */
export const ROLLOVER_SUBJECTS_MAX = 200;
/** Term pairs one request maps: a school year has a few terms. */
export const ROLLOVER_TERMS_MAX = 12;

/** How next year's code is made from this year's: `replace` first (every occurrence), then `prefix` and `suffix` around it. */
export interface RolloverCodeRule {
  prefix?: string | undefined;
  suffix?: string | undefined;
  replace?: { from: string; to: string } | undefined;
}

export interface RolloverInput {
  subjectIds: readonly string[];
  codes: RolloverCodeRule;
  /**
   * Renames each (archived) source to its code with this suffix before next year's is created,
   * so next year's may take last year's code back (`7A-MATH` -> `7A-MATH-2026`, new `7A-MATH`).
   */
  previousSuffix?: string | undefined;
  /** Enrols the source's students still active in next year's subject. */
  carryStudents: boolean;
  /** Copies the source's weekly meetings of each `from` term into the `to` term; meetings of other terms are not copied. */
  terms?: readonly { from: string; to: string }[] | undefined;
  dryRun?: boolean | undefined;
}

/** Why a row creates nothing: its new code is not a valid one, another row's, another subject's (archived), or unchanged; or its source to rename is still in use. */
export const ROLLOVER_PROBLEMS = ['codeInvalid', 'codeRepeated', 'codeTaken', 'codeUnchanged', 'sourceInUse'] as const;
export type RolloverProblem = (typeof ROLLOVER_PROBLEMS)[number];

/**
 * `new`: created (on a dry run, would be); `exists`: a subject in use already has the new code (an
 * earlier roll-over), nothing done; `finished`: that subject is an earlier roll-over of this one cut
 * short (a node died, a store error), and this run enrolled the students and copied the meetings it
 * had left (on a dry run, would): `students` and `meetings` count those; `refused`: see `problem`.
 */
export const ROLLOVER_OUTCOMES = ['new', 'exists', 'finished', 'refused'] as const;
export type RolloverOutcome = (typeof ROLLOVER_OUTCOMES)[number];

export interface RolloverRow {
  subjectId: string;
  code: string;
  newCode: string | null;
  outcome: RolloverOutcome;
  problem: RolloverProblem | null;
  newSubjectId: string | null;
  /** The source's new code when this request renames it (previousSuffix). */
  renamedTo: string | null;
  /** Teachers carried, in order; those deactivated (or no longer teachers) are left out. */
  teacherIds: string[];
  teachersLeftOut: string[];
  /** Students enrolled (or to be); deactivated ones are left out, by id. */
  students: number;
  studentsLeftOut: string[];
  meetings: number;
  /** Meetings the timetable refused (a teacher already busy then in the new term, checks that no longer fit), with the refusal's code. */
  meetingsRefused: { meetingId: string; code: string }[];
}

export interface RolloverResult {
  dryRun: boolean;
  rows: RolloverRow[];
}

interface Plan {
  row: RolloverRow;
  source: Subject;
  students: string[];
  meetings: Meeting[];
}

/**
 * A new school year from last year's subjects, without retyping them: for each listed subject
 * next year's is created with a code the admin's rule makes, its teachers still active, its
 * classroom location and networks, optionally its students still active and its weekly
 * meetings (their checks and rooms) in next year's terms. Each row is checked first and answers
 * on its own (a refused row does not stop the others); a dry run writes nothing. A retry is
 * harmless: a row whose new code a subject in use already has creates nothing (`exists`), and
 * when that subject is this one's roll-over (its `subject.rollover` entry, written right after
 * the create, before the class is carried) the students not yet enrolled and the meetings not yet
 * copied are carried (`finished`): a run cut after the create is finished by running it again,
 * nothing twice. Created through SubjectService and TimetableService, so their rules, audit and
 * live announcements are the single routes'; plus one `subject.rollover` entry per new subject.
 */
export class SubjectRollover {
  constructor(
    private readonly deps: {
      store: Store;
      clock: () => Date;
      subjects: Pick<SubjectService, 'create' | 'update' | 'enrolChecked'>;
      timetable: Pick<TimetableService, 'createMeeting'>;
    },
  ) {}

  async run(actor: Actor, input: RolloverInput): Promise<RolloverResult> {
    requireRole(actor, 'admin');
    const sources = await listedSubjects(this.deps.store, actor.orgId, input.subjectIds, ROLLOVER_SUBJECTS_MAX);
    await this.checkTerms(actor.orgId, input.terms ?? []);
    const plans = await this.plan(actor.orgId, sources, input);
    if (input.dryRun) return { dryRun: true, rows: plans.map((p) => p.row) };
    for (const p of plans) {
      if (p.row.outcome === 'new') await this.write(actor, p, input);
      else if (p.row.outcome === 'finished') {
        await this.carry(actor, p.row.newSubjectId!, p, input);
        await this.carried(actor, p);
        // What was left were only meetings the timetable refuses again (named): as complete as the first run made it.
        if (p.row.students === 0 && p.row.meetings === 0) p.row.outcome = 'exists';
      }
    }
    return { dryRun: false, rows: plans.map((p) => p.row) };
  }

  private async checkTerms(orgId: string, pairs: readonly { from: string; to: string }[]): Promise<void> {
    if (pairs.length === 0) return;
    const terms = new Set((await this.deps.store.timetable.listTerms(orgId)).map((t) => t.id));
    const unknownTermIds = [...new Set(pairs.flatMap((p) => [p.from, p.to]))].filter((id) => !terms.has(id));
    if (unknownTermIds.length > 0)
      throw new AppError('VALIDATION_FAILED', 'Some ids are not terms of this organisation.', { unknownTermIds });
  }

  private async plan(orgId: string, sources: readonly Subject[], input: RolloverInput): Promise<Plan[]> {
    const suffix = input.previousSuffix ?? '';
    const renamed = (s: Subject) => (suffix === '' || s.code.endsWith(suffix) ? null : s.code + suffix);
    const targets = sources.map((s) =>
      nextCode(suffix !== '' && s.code.endsWith(suffix) ? s.code.slice(0, -suffix.length) : s.code, input.codes),
    );
    const holders = await this.byCodes(
      orgId,
      [...targets, ...sources.map(renamed)].filter((c): c is string => c !== null),
    );
    const users = await this.users(
      orgId,
      sources.flatMap((s) => s.teacherIds),
    );
    // The roll-over entries of the subjects already holding a new code, in one read for every row.
    const made = targets.map((c) => holders.get(c)?.id).filter((id): id is string => id !== undefined);
    const rollovers = await this.rolloversOf(orgId, made);
    const seen = new Set<string>();
    const plans: Plan[] = [];
    for (const [i, source] of sources.entries()) {
      const newCode = targets[i]!;
      const renamedTo = renamed(source);
      const holder = holders.get(newCode);
      const row: RolloverRow = {
        subjectId: source.id,
        code: source.code,
        newCode,
        outcome: 'new',
        problem: null,
        newSubjectId: null,
        renamedTo,
        teacherIds: source.teacherIds.filter((id) => isActive(users.get(id), 'teacher')),
        teachersLeftOut: source.teacherIds.filter((id) => !isActive(users.get(id), 'teacher')),
        students: 0,
        studentsLeftOut: [],
        meetings: 0,
        meetingsRefused: [],
      };
      row.problem = problemOf(source, newCode, renamedTo, seen, holders, suffix !== '');
      seen.add(newCode);
      if (row.problem !== null) row.outcome = 'refused';
      else if (holder !== undefined && holder.id !== source.id) {
        row.outcome = 'exists';
        row.newSubjectId = holder.id;
      }
      if (row.outcome !== 'new') row.renamedTo = null;
      const plan: Plan = { row, source, students: [], meetings: [] };
      if (row.outcome === 'new') await this.planClass(orgId, plan, input);
      if (row.outcome === 'exists' && cutShort(rollovers.get(holder!.id) ?? [], source.id))
        await this.planLeft(orgId, plan, holder!.id, input);
      plans.push(plan);
    }
    return plans;
  }

  /** The row's students still active (deactivated ones reported) and its meetings of the mapped terms. */
  private async planClass(orgId: string, plan: Plan, input: RolloverInput): Promise<void> {
    const { store } = this.deps;
    if (input.carryStudents) {
      const enrolled = await store.subjects.listEnrolled(orgId, plan.source.id);
      const users = await this.users(orgId, enrolled);
      plan.students = enrolled.filter((id) => isActive(users.get(id), 'student'));
      plan.row.studentsLeftOut = enrolled.filter((id) => !isActive(users.get(id), 'student'));
      plan.row.students = plan.students.length;
    }
    const terms = new Map((input.terms ?? []).map((p) => [p.from, p.to]));
    if (terms.size > 0) {
      // Two of last year's meetings that differ only by a teacher left out are one meeting next
      // year (the subject's first teacher takes it, named or not): carried once, not a second
      // copy the timetable refuses and the admin is told to place by hand.
      const kept = new Set(plan.row.teacherIds);
      const first = plan.row.teacherIds[0] ?? null;
      const carried = new Set<string>();
      plan.meetings = (await store.timetable.listMeetings(orgId, plan.source.id)).filter((m) => {
        if (!terms.has(m.termId)) return false;
        const key = meetingNaturalKey({ ...m, termId: terms.get(m.termId)!, teacherId: carriedTeacher(m, kept) ?? first });
        if (carried.has(key)) return false;
        carried.add(key);
        return true;
      });
      plan.row.meetings = plan.meetings.length;
    }
  }

  /** Each subject's `subject.rollover` entries, oldest first: those entries alone, not the subjects' whole trails. */
  private async rolloversOf(orgId: string, subjectIds: readonly string[]): Promise<Map<string, AuditEntry[]>> {
    const found = new Map<string, AuditEntry[]>();
    for (const part of chunked([...new Set(subjectIds)]))
      for (const e of await this.deps.store.audit.listRollovers(orgId, part)) found.set(e.entityId, [...(found.get(e.entityId) ?? []), e]);
    return found;
  }

  /** The roll-over's class carried into its subject: its second `subject.rollover` entry, with what was done. */
  private async carried(actor: Actor, { row }: Plan): Promise<void> {
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'subject',
      entityId: row.newSubjectId!,
      action: 'subject.rollover',
      from: { subjectId: row.subjectId, code: row.code },
      to: { code: row.newCode, students: row.students, meetings: row.meetings, carried: true },
    });
  }

  /**
   * An earlier roll-over of the row's source, `made`: what it carries and `made` lacks, the students
   * not enrolled in it and the meetings without one of the same term, weekday and times in it.
   * Nothing lacking: `exists` as before; else `finished`, counting what is left.
   */
  private async planLeft(orgId: string, plan: Plan, made: string, input: RolloverInput): Promise<void> {
    const { store } = this.deps;
    await this.planClass(orgId, plan, input);
    const enrolled = new Set(await store.subjects.listEnrolled(orgId, made));
    const terms = new Map((input.terms ?? []).map((p) => [p.from, p.to]));
    const copied = new Set((await store.timetable.listMeetings(orgId, made)).map(slotKey));
    plan.students = plan.students.filter((id) => !enrolled.has(id));
    plan.meetings = plan.meetings.filter((m) => !copied.has(slotKey({ ...m, termId: terms.get(m.termId)! })));
    Object.assign(plan.row, { students: plan.students.length, meetings: plan.meetings.length, studentsLeftOut: [] });
    if (plan.students.length > 0 || plan.meetings.length > 0) plan.row.outcome = 'finished';
  }

  /** Writes one row; false when another admin took its code since the check (the row says so). */
  private async write(actor: Actor, plan: Plan, input: RolloverInput): Promise<boolean> {
    const { row, source } = plan;
    const { subjects } = this.deps;
    let subject: Subject;
    let renamed = false;
    try {
      if (row.renamedTo !== null) await subjects.update(actor, source.id, { code: row.renamedTo });
      renamed = row.renamedTo !== null;
      subject = await subjects.create(actor, {
        code: row.newCode!,
        name: source.name,
        teacherIds: row.teacherIds,
        location: source.location,
        allowedIpRanges: source.allowedIpRanges,
      });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'SUBJECT_CODE_TAKEN') throw err;
      // Another admin took the code since the check: this row alone is left out (a rename done
      // stays, and a retry finds it).
      Object.assign(row, { outcome: 'refused', problem: 'codeTaken', renamedTo: renamed ? row.renamedTo : null, students: 0, meetings: 0 });
      return false;
    }
    row.newSubjectId = subject.id;
    // Written before the class is carried: a run cut after the create finds, on a retry, the subject
    // this one made, and finishes it (planLeft) instead of answering `exists` for good.
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'subject',
      entityId: subject.id,
      action: 'subject.rollover',
      from: { subjectId: row.subjectId, code: row.code },
      to: { code: row.newCode, students: row.students, meetings: row.meetings, renamedTo: row.renamedTo, carried: false },
    });
    await this.carry(actor, subject.id, plan, input);
    await this.carried(actor, plan);
    return true;
  }

  /** Enrols the plan's students in `subjectId` and copies its meetings into the mapped terms, the row counting what was done. */
  private async carry(actor: Actor, subjectId: string, { row, students, meetings }: Plan, input: RolloverInput): Promise<void> {
    const { subjects, timetable } = this.deps;
    const subject = { id: subjectId };
    if (students.length > 0) {
      // Checked when planned: a student deactivated or erased since is left out and named, not a
      // refusal of the whole request after earlier rows were written (which a retry, answering
      // `exists`, would never finish).
      const outcome = (await subjects.enrolChecked(actor, new Map([[subject.id, students]]))).get(subject.id);
      // The new subject deleted or archived by another admin since: nobody enrolled.
      const refused = outcome?.gone ? students : (outcome?.refused ?? []);
      if (refused.length > 0) {
        row.studentsLeftOut = [...row.studentsLeftOut, ...refused];
        row.students -= refused.length;
      }
    }
    const terms = new Map((input.terms ?? []).map((p) => [p.from, p.to]));
    const kept = new Set(row.teacherIds);
    let copiedElsewhere = 0;
    for (const m of meetings) {
      try {
        await timetable.createMeeting(
          actor,
          subject.id,
          {
            termId: terms.get(m.termId)!,
            weekday: m.weekday,
            startTime: m.startTime,
            endTime: m.endTime,
            teacherId: carriedTeacher(m, kept),
            preset: m.preset,
            location: m.location,
            allowedIpRanges: m.allowedIpRanges,
          },
          copyId(subject.id, m.id),
        );
      } catch (err) {
        // Copied since this run read the subject's meetings: by a retry of the same roll-over
        // running at once (another admin, another node). The copy's id is the store's key: one of
        // the two writes it, the other counts it as done by the first.
        if (err instanceof StoreConflictError && err.key === 'id') {
          copiedElsewhere += 1;
          continue;
        }
        // The new term's timetable already has its teacher busy then (TEACHER_DOUBLE_BOOKED), or
        // last year's checks no longer fit the organisation's: that meeting alone is left out,
        // named with the code, for the admin to place by hand.
        if (!(err instanceof AppError)) throw err;
        row.meetingsRefused.push({ meetingId: m.id, code: err.code });
      }
    }
    row.meetings = meetings.length - row.meetingsRefused.length - copiedElsewhere;
  }

  private async byCodes(orgId: string, codes: string[]): Promise<Map<string, Subject>> {
    const found = new Map<string, Subject>();
    const valid = [...new Set(codes)].filter(validCode);
    for (const part of chunked(valid)) for (const s of await this.deps.store.subjects.getByCodes(orgId, part)) found.set(s.code, s);
    return found;
  }

  private async users(orgId: string, ids: readonly string[]): Promise<Map<string, User>> {
    const found = new Map<string, User>();
    for (const part of chunked([...new Set(ids)])) for (const u of await this.deps.store.users.getMany(orgId, part)) found.set(u.id, u);
    return found;
  }
}

/**
 * Whether the subject of these roll-over entries was made by a roll-over of `sourceId` that was cut
 * before it carried its class: its `subject.rollover` entry of the create (`to.carried: false`) and
 * none saying it carried it. A roll-over that finished is never carried again: students unenrolled
 * and meetings moved by an admin since stay as the admin left them. (Entries without `carried`,
 * from before the create had its own, were written once the class was carried.)
 */
function cutShort(rollovers: readonly AuditEntry[], sourceId: string): boolean {
  const ofSource = rollovers.filter((e) => (e.from as { subjectId?: string } | null)?.subjectId === sourceId);
  return ofSource.length > 0 && ofSource.every((e) => (e.to as { carried?: boolean } | null)?.carried === false);
}

function problemOf(
  source: Subject,
  newCode: string,
  renamedTo: string | null,
  seen: ReadonlySet<string>,
  holders: ReadonlyMap<string, Subject>,
  renaming: boolean,
): RolloverProblem | null {
  const holder = holders.get(newCode);
  if (!validCode(newCode) || (renamedTo !== null && !validCode(renamedTo))) return 'codeInvalid';
  if (seen.has(newCode)) return 'codeRepeated';
  // Last year's code changes only once it is last year's: a subject in use keeps the code its
  // teacher and students know.
  if (renaming && source.archivedAt === null) return 'sourceInUse';
  if (holder?.id === source.id && renamedTo === null) return 'codeUnchanged';
  if (holder !== undefined && holder.id !== source.id && holder.archivedAt !== null) return 'codeTaken';
  if (renamedTo !== null && holders.has(renamedTo)) return 'codeTaken';
  return null;
}

/** A code as the subject routes take it, unchanged by their trimming. */
function validCode(code: string): boolean {
  const parsed = SubjectCodeSchema.safeParse(code);
  return parsed.success && parsed.data === code;
}

/** Next year's code from this year's by the rule. */
export function nextCode(code: string, rule: RolloverCodeRule): string {
  const replaced = rule.replace && rule.replace.from !== '' ? code.split(rule.replace.from).join(rule.replace.to) : code;
  return `${rule.prefix ?? ''}${replaced}${rule.suffix ?? ''}`;
}

/** A meeting's teacher next year: a teacher left out (deactivated, or no longer the subject's) gives it to the subject's first. */
function carriedTeacher(m: Meeting, kept: ReadonlySet<string>): string | null {
  return m.teacherId !== null && kept.has(m.teacherId) ? m.teacherId : null;
}

/**
 * The id of `meetingId`'s copy into `subjectId`, the same on every run: a meeting is copied into a
 * subject once, however many runs of its roll-over copy it at once (the store refuses a second
 * meeting with the id). A UUID (version 8 of RFC 9562) made of a SHA-256 of the pair.
 */
export function copyId(subjectId: string, meetingId: string): string {
  const h = createHash('sha256').update(`${subjectId}\n${meetingId}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A meeting's term, weekday and times: one of them copied already has the same. */
const slotKey = (m: Pick<Meeting, 'termId' | 'weekday' | 'startTime' | 'endTime'>): string =>
  `${m.termId} ${m.weekday} ${m.startTime} ${m.endTime}`;

const isActive = (u: User | undefined, role: User['role']): boolean => u !== undefined && u.active && u.role === role;

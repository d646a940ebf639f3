import { z } from 'zod';
import { requireRole, type Actor } from '../actor.js';
import { audit } from '../audit-log.js';
import { AppError } from '../../shared/app-error.js';
import { StoreConflictError } from '../ports/common.js';
import type { OneRosterKind, OneRosterObject } from '../ports/oneroster.js';
import type { Store } from '../ports/store.js';
import type { EnrolOutcome, Subject } from '../ports/subjects.js';
import type { User, UserPatch } from '../ports/users.js';
import { SubjectCodeSchema, SubjectNameSchema } from '../subjects/subject-input.js';
import type { SubjectService } from '../subjects/subject-service.js';
import { normaliseEmail } from '../users/public-user.js';
import { chunked, usersByKeys } from '../users/user-lookup.js';
import type { UserService } from '../users/user-service.js';
import { englishProblem, rowProblem, type RowProblem } from '../../shared/row-problems.js';
import { BUNDLE_FILES, parseBundle, type Bundle, type BundleFile, type BundleRow } from './bundle.js';

export const ROW_ACTIONS = ['created', 'updated', 'unchanged', 'skipped', 'error'] as const;
export type RowAction = (typeof ROW_ACTIONS)[number];

/** What the import did (or, in a dry run, would do) with one row. */
export interface RowReport {
  file: BundleFile;
  line: number;
  sourcedId: string;
  action: RowAction;
  /** Why a row was skipped or refused, or which fields an update changes (`problem` in English). */
  reason: string | null;
  /** The same as a code and its parameters, for the pages to word. */
  problem: RowProblem | null;
}

export interface ImportReport {
  dryRun: boolean;
  files: Record<BundleFile, Record<RowAction, number>>;
  rows: RowReport[];
}

type LocalRole = 'student' | 'teacher';
/** A local id a sourcedId resolves to; in a dry run, a user or class the run would create has none yet. */
interface Resolved {
  id: string | null;
  role?: LocalRole;
  /** False for an account that is (or this run makes) deactivated: it is not enrolled. */
  active?: boolean;
}

const Email = z.email();
const Day = z.iso.date();
const TO_BE_DELETED = 'tobedeleted';

/** The accounts a users file names, by id, by email, and each one's linked sourcedId (ImportRun.knownUsers). */
interface KnownUsers {
  byId: Map<string, Account>;
  byEmail: Map<string, Account>;
  linkOf: Map<string, string>;
  /** A row created (`before` null) or updated this user and linked it to `sourcedId`. */
  stored(user: Account, before: Account | null, sourcedId: string): void;
}

/** What a users row compares and changes of an account. */
type Account = Pick<User, 'id' | 'email' | 'name' | 'role' | 'studentNumber' | 'active'>;

/** A new account's row, written with the others after the users file is read (ImportRun.writeUsers). */
interface PendingCreate {
  line: number;
  sourcedId: string;
  input: { name: string; email: string; role: LocalRole; studentNumber: string | null; active: boolean };
  data: Record<string, string>;
}

/** A link of a sourcedId to a local entity, written with the others of its step. */
interface PendingLink {
  line: number;
  sourcedId: string;
  entityId: string;
  data: Record<string, string>;
}

/** The subjects the classes file names, by id, and the sourcedId each is linked to (ImportRun.knownSubjects). */
interface KnownSubjects {
  byId: Map<string, Subject>;
  linkOf: Map<string, string>;
  /** A row created or changed this subject and links it to `sourcedId`. */
  stored(subject: Subject, sourcedId: string): void;
}

interface UserWrites {
  creates: PendingCreate[];
  links: PendingLink[];
}

/** The stand-in id prefix of an account a row will create (never an id the store gives). */
const PENDING = 'pending:';

/** A row refused: its reason goes to the report, the other rows go on. */
class RowError extends Error {
  constructor(readonly problem: RowProblem) {
    super(englishProblem(problem));
  }
}

/**
 * Imports a OneRoster 1.1 CSV bundle into the actor's organisation (docs/oneroster.md):
 * orgs and academic sessions are kept as OneRoster objects, students and teachers become
 * users, classes subjects, enrollments enrolments and subject teachers. Rows are matched by
 * sourcedId (then by email or subject code, which links existing accounts and subjects), so a
 * second run of the same bundle changes nothing. A bad row is reported and the others are
 * imported. Nothing is removed: a bulk file's missing rows are left alone.
 */
export class OneRosterImport {
  constructor(private readonly deps: { store: Store; users: UserService; subjects: SubjectService; clock: () => Date }) {}

  async run(actor: Actor, bundle: Bundle, opts: { dryRun: boolean }): Promise<ImportReport> {
    requireRole(actor, 'admin');
    const parsed = parseBundle(bundle);
    const run = new ImportRun(this.deps, actor, opts.dryRun);
    await run.objects('orgs', 'org', parsed.orgs ?? [], orgData);
    await run.objects('academicSessions', 'academicSession', parsed.academicSessions ?? [], sessionData);
    await run.users(parsed.users ?? []);
    await run.classes(parsed.classes ?? []);
    await run.enrollments(parsed.enrollments ?? []);
    const report = run.report();
    if (!opts.dryRun) {
      await audit(this.deps.store, actor, this.deps.clock(), {
        entityType: 'organisation',
        entityId: actor.orgId,
        action: 'oneroster.import',
        from: null,
        to: report.files,
      });
    }
    return report;
  }
}

function orgData(f: Record<string, string>): Record<string, string> {
  if (!f['name']) throw new RowError(rowProblem('nameMissing'));
  return { name: f['name'], type: f['type'] ?? '', identifier: f['identifier'] ?? '', parentSourcedId: f['parentSourcedId'] ?? '' };
}

function sessionData(f: Record<string, string>): Record<string, string> {
  const start = f['startDate'] ?? '';
  const end = f['endDate'] ?? '';
  if (!f['title']) throw new RowError(rowProblem('titleMissing'));
  if (!Day.safeParse(start).success || !Day.safeParse(end).success) throw new RowError(rowProblem('datesNotDays'));
  if (start > end) throw new RowError(rowProblem('startAfterEnd'));
  return {
    title: f['title'],
    type: f['type'] ?? '',
    startDate: start,
    endDate: end,
    parentSourcedId: f['parentSourcedId'] ?? '',
    schoolYear: f['schoolYear'] ?? '',
  };
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

class ImportRun {
  private readonly rows: RowReport[] = [];
  /** sourcedId to local user, for the users of this bundle and those linked before. */
  private readonly userIds = new Map<string, Resolved>();
  private readonly classIds = new Map<string, Resolved>();
  /** sourcedIds of this bundle's rows that were refused, so rows pointing at them say why. */
  private readonly refused = new Map<BundleFile, Set<string>>();
  private readonly terms = new Set<string>();
  private readonly orgId: string;

  constructor(
    private readonly deps: { store: Store; users: UserService; subjects: SubjectService },
    private readonly actor: Actor,
    private readonly dryRun: boolean,
  ) {
    this.orgId = actor.orgId;
  }

  report(): ImportReport {
    const files = Object.fromEntries(
      BUNDLE_FILES.map((f) => [f, Object.fromEntries(ROW_ACTIONS.map((a) => [a, 0])) as Record<RowAction, number>]),
    ) as ImportReport['files'];
    for (const r of this.rows) files[r.file][r.action] += 1;
    return { dryRun: this.dryRun, files, rows: this.rows };
  }

  /** Orgs and academic sessions: kept as OneRoster objects, without a local entity. */
  async objects(
    file: BundleFile,
    kind: OneRosterKind,
    rows: BundleRow[],
    data: (f: Record<string, string>) => Record<string, string>,
  ): Promise<void> {
    const stored = await this.load(kind, rows);
    await this.eachRow(file, rows, async (row, sourcedId) => {
      const d = data(row.fields);
      const before = stored.get(sourcedId);
      if (kind === 'academicSession') this.terms.add(sourcedId);
      if (before && sameData(before.data, d)) return { action: 'unchanged' };
      if (!this.dryRun) await this.deps.store.oneroster.put({ orgId: this.orgId, kind, sourcedId, entityId: null, data: d });
      return { action: before ? 'updated' : 'created' };
    });
  }

  async users(rows: BundleRow[]): Promise<void> {
    const links = await this.load('user', rows);
    const known = await this.knownUsers(rows, links);
    const writes: UserWrites = { creates: [], links: [] };
    const seenEmails = new Map<string, number>();
    await this.eachRow('users', rows, async (row, sourcedId) => {
      const f = row.fields;
      const role = (f['role'] ?? '').toLowerCase();
      if (role !== 'student' && role !== 'teacher') return { action: 'skipped', problem: rowProblem('roleNotImported') };
      const email = normaliseEmail(f['email'] ?? '');
      if (!email) throw new RowError(rowProblem('loginEmailMissing'));
      if (!Email.safeParse(email).success) throw new RowError(rowProblem('emailInvalid'));
      const firstLine = seenEmails.get(email);
      if (firstLine !== undefined) throw new RowError(rowProblem('emailRepeated', { line: firstLine }));
      seenEmails.set(email, row.line);
      const name = [f['givenName'], f['familyName']]
        .map((s) => (s ?? '').trim())
        .filter(Boolean)
        .join(' ');
      if (!name) throw new RowError(rowProblem('namesMissing'));
      const studentNumber = role === 'student' ? (f['identifier'] || f['username'] || '').trim() || null : null;
      if (role === 'student' && !studentNumber) throw new RowError(rowProblem('studentIdMissing'));
      const want = { name, email, role: role as LocalRole, studentNumber, active: (f['enabledUser'] ?? '').toLowerCase() !== 'false' };
      const data = { orgSourcedIds: splitList(f['orgSourcedIds']).join(',') };

      const link = links.get(sourcedId);
      const existing = this.findUser(known, sourcedId, link, email);
      if (!existing) {
        // Written with the step's other new accounts (writeUsers); until then later rows see it
        // under a stand-in id, as they would see it stored.
        if (!this.dryRun) {
          writes.creates.push({
            line: row.line,
            sourcedId,
            input: { name, email, role: want.role, studentNumber, active: want.active },
            data,
          });
          known.stored({ ...want, id: `${PENDING}${sourcedId}` }, null, sourcedId);
        }
        this.userIds.set(sourcedId, { id: null, role: want.role, active: want.active });
        return { action: 'created' };
      }
      const patch: UserPatch = {};
      for (const k of ['name', 'email', 'role', 'studentNumber', 'active'] as const) {
        if (existing[k] !== want[k]) (patch as Record<string, unknown>)[k] = want[k];
      }
      if (patch.email !== undefined) {
        const holder = known.byEmail.get(email);
        if (holder && holder.id !== existing.id) throw new RowError(rowProblem('emailTaken'));
      }
      this.userIds.set(sourcedId, { id: existing.id, role: want.role, active: want.active });
      const changed = Object.keys(patch);
      const relink = link?.entityId !== existing.id || !sameData(link.data, data);
      if (changed.length === 0 && !relink) return { action: 'unchanged' };
      if (!this.dryRun) {
        // A changed account now (a later row may take the email it gives up); its link with the others.
        if (changed.length > 0) await this.deps.users.update(this.actor, existing.id, patch);
        if (relink) writes.links.push({ line: row.line, sourcedId, entityId: existing.id, data });
        known.stored({ ...existing, ...patch }, existing, sourcedId);
      }
      return {
        action: 'updated',
        problem: changed.length > 0 ? rowProblem('changesFields', { fields: changed.join(', ') }) : rowProblem('linksSourcedId'),
      };
    });
    await this.writeUsers(writes);
  }

  /**
   * The users step's new accounts and links, a chunk per store call (an account and a link per
   * row were two round trips each, and on MongoDB seconds for a school). Each account of a chunk
   * is created or refused on its own (an email taken meanwhile), so the report names the rows
   * refused and the others are imported, without writing the chunk again row by row.
   */
  private async writeUsers(writes: UserWrites): Promise<void> {
    const links = [...writes.links];
    for (const part of chunked(writes.creates)) {
      const outcomes = await this.deps.users.createEach(
        this.actor,
        part.map((c) => c.input),
      );
      for (const [k, c] of part.entries()) {
        const o = outcomes[k]!;
        if (o instanceof AppError) {
          this.refuse('users', c.line, c.sourcedId, { code: 'refused', params: { code: o.code, message: o.message } });
          continue;
        }
        this.userIds.set(c.sourcedId, { id: o.id, role: c.input.role, active: c.input.active });
        links.push({ line: c.line, sourcedId: c.sourcedId, entityId: o.id, data: c.data });
      }
    }
    await this.writeLinks('users', 'user', links);
  }

  /** Links a chunk per store call; a chunk refused (an entity linked to another sourcedId meanwhile) again one by one. */
  private async writeLinks(file: BundleFile, kind: OneRosterKind, links: readonly PendingLink[]): Promise<void> {
    const object = (l: PendingLink) => ({ orgId: this.orgId, kind, sourcedId: l.sourcedId, entityId: l.entityId, data: l.data });
    for (const part of chunked(links)) {
      try {
        await this.deps.store.oneroster.putMany(part.map(object));
        continue;
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
      }
      for (const l of part) {
        try {
          await this.deps.store.oneroster.put(object(l));
        } catch (err) {
          if (!(err instanceof StoreConflictError)) throw err;
          this.refuse(file, l.line, l.sourcedId, rowProblem(kind === 'class' ? 'subjectLinkedElsewhere' : 'accountLinkedElsewhere'));
        }
      }
    }
  }

  /** A row reported done whose write was refused: its report says why, and rows naming it are refused. */
  private refuse(file: BundleFile, line: number, sourcedId: string, problem: RowProblem): void {
    const report = this.rows.find((r) => r.file === file && r.line === line);
    if (report) Object.assign(report, { action: 'error', reason: englishProblem(problem), problem });
    this.refused.get(file)?.add(sourcedId);
    (file === 'classes' ? this.classIds : this.userIds).delete(sourcedId);
  }

  /**
   * The accounts the users file can name, read a chunk of keys at a time rather than a few
   * queries per row: the users linked to its sourcedIds, those holding its emails, and the
   * sourcedIds those are linked to. Kept as the store is while the rows are written (a row
   * sees the accounts earlier rows created or changed); a dry run writes nothing, so they stay.
   */
  private async knownUsers(rows: BundleRow[], links: Map<string, OneRosterObject>): Promise<KnownUsers> {
    const { store } = this.deps;
    const linkedIds = [...new Set([...links.values()].flatMap((o) => (o.entityId ? [o.entityId] : [])))];
    const byId = new Map<string, Account>();
    for (const part of chunked(linkedIds)) for (const u of await store.users.getMany(this.orgId, part)) byId.set(u.id, u);
    const { byEmail }: { byEmail: Map<string, Account> } = await usersByKeys(store, this.orgId, {
      emails: rows.map((r) => r.fields['email'] ?? ''),
    });
    const linkOf = new Map<string, string>();
    for (const o of links.values()) if (o.entityId) linkOf.set(o.entityId, o.sourcedId);
    for (const part of chunked([...new Set([...byEmail.values()].map((u) => u.id))].filter((id) => !linkOf.has(id)))) {
      for (const o of await store.oneroster.getByEntities(this.orgId, 'user', part)) if (o.entityId) linkOf.set(o.entityId, o.sourcedId);
    }
    return {
      byId,
      byEmail,
      linkOf,
      stored(user, before, sourcedId) {
        byId.set(user.id, user);
        if (before && before.email !== user.email && byEmail.get(before.email)?.id === user.id) byEmail.delete(before.email);
        byEmail.set(user.email, user);
        linkOf.set(user.id, sourcedId);
      },
    };
  }

  /** The account of a sourcedId: its linked user, else the unlinked student or teacher with the email. */
  private findUser(known: KnownUsers, sourcedId: string, link: OneRosterObject | undefined, email: string): Account | null {
    let user = link?.entityId ? (known.byId.get(link.entityId) ?? null) : null;
    if (!user) {
      user = known.byEmail.get(email) ?? null;
      const other = user ? known.linkOf.get(user.id) : undefined;
      if (other !== undefined && other !== sourcedId) throw new RowError(rowProblem('emailOfOther', { sourcedId: other }));
    }
    if (user?.role === 'admin') throw new RowError(rowProblem('adminAccount'));
    return user;
  }

  async classes(rows: BundleRow[]): Promise<void> {
    const links = await this.load('class', rows);
    const known = await this.knownTerms(rows);
    const byCode = await this.subjectsByCode(rows);
    const subjects = await this.knownSubjects(links, byCode);
    const newLinks: PendingLink[] = [];
    const seenCodes = new Map<string, number>();
    await this.eachRow('classes', rows, async (row, sourcedId) => {
      const f = row.fields;
      const codeIn = (f['classCode'] || sourcedId).trim();
      const code = SubjectCodeSchema.safeParse(codeIn);
      if (!code.success) throw new RowError(rowProblem('classCodeInvalid'));
      const name = SubjectNameSchema.safeParse(f['title'] ?? '');
      if (!name.success) throw new RowError(rowProblem('titleInvalid'));
      const firstLine = seenCodes.get(code.data);
      if (firstLine !== undefined) throw new RowError(rowProblem('classCodeRepeated', { line: firstLine }));
      seenCodes.set(code.data, row.line);
      const terms = splitList(f['termSourcedIds']);
      const unknown = terms.filter((t) => !known.has(t));
      if (unknown.length > 0) throw new RowError(rowProblem('termsUnknown', { terms: unknown.join(', ') }));
      const data = { terms: terms.join(','), schoolSourcedId: f['schoolSourcedId'] ?? '', courseSourcedId: f['courseSourcedId'] ?? '' };

      const link = links.get(sourcedId);
      const existing = this.findSubject(subjects, sourcedId, link, byCode.get(code.data) ?? null);
      if (!existing) {
        let id: string | null = null;
        if (!this.dryRun) {
          const created = await this.deps.subjects.create(this.actor, { code: code.data, name: name.data, teacherIds: [] });
          newLinks.push({ line: row.line, sourcedId, entityId: created.id, data });
          subjects.stored(created, sourcedId);
          byCode.set(created.code, created);
          id = created.id;
        }
        this.classIds.set(sourcedId, { id });
        return { action: 'created' };
      }
      this.classIds.set(sourcedId, { id: existing.id });
      const patch: { code?: string; name?: string } = {};
      if (existing.code !== code.data) patch.code = code.data;
      if (existing.name !== name.data) patch.name = name.data;
      const changed = Object.keys(patch);
      const relink = link?.entityId !== existing.id || !sameData(link.data, data);
      if (changed.length === 0 && !relink) return { action: 'unchanged' };
      if (!this.dryRun) {
        if (changed.length > 0) {
          await this.deps.subjects.update(this.actor, existing.id, patch);
          // Later rows look codes up in the map read before: it follows this import's renames.
          if (byCode.get(existing.code)?.id === existing.id) byCode.delete(existing.code);
          byCode.set(code.data, { ...existing, ...patch });
        }
        if (relink) newLinks.push({ line: row.line, sourcedId, entityId: existing.id, data });
        subjects.stored({ ...existing, ...patch }, sourcedId);
      }
      return {
        action: 'updated',
        problem: changed.length > 0 ? rowProblem('changesFields', { fields: changed.join(', ') }) : rowProblem('linksSourcedIdOrTerms'),
      };
    });
    await this.writeLinks('classes', 'class', newLinks);
  }

  /**
   * The subjects the classes file's links name, and the sourcedIds its codes' subjects are
   * linked to, a query per chunk rather than two per row; kept as the rows change them.
   */
  private async knownSubjects(links: Map<string, OneRosterObject>, byCode: Map<string, Subject>): Promise<KnownSubjects> {
    const { store } = this.deps;
    const byId = new Map<string, Subject>();
    const linked = [...new Set([...links.values()].flatMap((o) => (o.entityId ? [o.entityId] : [])))];
    for (const part of chunked(linked)) for (const s of await store.subjects.getMany(this.orgId, part)) byId.set(s.id, s);
    const linkOf = new Map<string, string>();
    for (const o of links.values()) if (o.entityId) linkOf.set(o.entityId, o.sourcedId);
    const unlinked = [...new Set([...byCode.values()].map((s) => s.id))].filter((id) => !linkOf.has(id));
    for (const part of chunked(unlinked)) {
      for (const o of await store.oneroster.getByEntities(this.orgId, 'class', part)) if (o.entityId) linkOf.set(o.entityId, o.sourcedId);
    }
    return {
      byId,
      linkOf,
      stored(subject, sourcedId) {
        byId.set(subject.id, subject);
        linkOf.set(subject.id, sourcedId);
      },
    };
  }

  /**
   * The file's class codes that name a subject already, by exact code, a query per chunk: each
   * row searched its code with the subject list's substring search capped at 100, so a code
   * that more than 100 others contain was not found and its row refused as a taken code.
   */
  private async subjectsByCode(rows: BundleRow[]): Promise<Map<string, Subject>> {
    const codes = [...new Set(rows.map((r) => (r.fields['classCode'] || r.fields['sourcedId'] || '').trim()).filter(Boolean))];
    const byCode = new Map<string, Subject>();
    for (const part of chunked(codes)) for (const s of await this.deps.store.subjects.getByCodes(this.orgId, part)) byCode.set(s.code, s);
    return byCode;
  }

  private findSubject(known: KnownSubjects, sourcedId: string, link: OneRosterObject | undefined, byCode: Subject | null): Subject | null {
    const linked = link?.entityId ? known.byId.get(link.entityId) : undefined;
    if (linked) return linked;
    const other = byCode ? known.linkOf.get(byCode.id) : undefined;
    if (other !== undefined && other !== sourcedId) throw new RowError(rowProblem('classCodeOfOther', { sourcedId: other }));
    return byCode;
  }

  private async knownTerms(rows: BundleRow[]): Promise<Set<string>> {
    const wanted = [...new Set(rows.flatMap((r) => splitList(r.fields['termSourcedIds'])))].filter((t) => !this.terms.has(t));
    const stored = await this.deps.store.oneroster.getMany(this.orgId, 'academicSession', wanted);
    return new Set([...this.terms, ...stored.map((o) => o.sourcedId)]);
  }

  async enrollments(rows: BundleRow[]): Promise<void> {
    await this.resolveEarlier(rows);
    const students = new Map<string, Set<string>>();
    const teachers = new Map<string, Set<string>>();
    const enrolled = new Map<string, Set<string>>();
    // Each pending enrolment's row, to report one the store refuses at the write.
    const rowOf = new Map<string, { line: number; sourcedId: string }>();
    // The classes' subjects a chunk per query, not one per class (its teachers are read, then extended).
    const subjects = new Map<string, Subject>();
    const classes = [...new Set(rows.flatMap((r) => this.classIds.get(r.fields['classSourcedId'] ?? '')?.id ?? []))];
    for (const part of chunked(classes)) for (const s of await this.deps.store.subjects.getMany(this.orgId, part)) subjects.set(s.id, s);
    await this.eachRow('enrollments', rows, async (row) => {
      const f = row.fields;
      const role = (f['role'] ?? '').toLowerCase();
      if (role !== 'student' && role !== 'teacher') return { action: 'skipped', problem: rowProblem('roleNotImported') };
      const cls = this.resolve('classes', this.classIds, f['classSourcedId'] ?? '');
      const user = this.resolve('users', this.userIds, f['userSourcedId'] ?? '');
      if (user.role !== role)
        throw new RowError(rowProblem('roleMismatch', { sourcedId: f['userSourcedId'] ?? '', role: user.role ?? 'user', expected: role }));
      // The enrol routes refuse a deactivated student (no login, an absence at every close);
      // the write, after the users', must not be handed one: the row is skipped instead.
      const deactivated = role === 'student' && user.active === false;
      const skipped = { action: 'skipped', problem: rowProblem('studentDeactivated', { sourcedId: f['userSourcedId'] ?? '' }) } as const;
      // Anything new in this dry run is new to its class too.
      if (cls.id === null || user.id === null) return deactivated ? skipped : { action: 'created' };
      const pending = role === 'student' ? students : teachers;
      const added = pending.get(cls.id) ?? new Set<string>();
      if (added.has(user.id)) return { action: 'unchanged', problem: rowProblem('enrolmentRepeated') };
      const present =
        role === 'student'
          ? await this.cached(enrolled, cls.id, async () => new Set(await this.deps.store.subjects.listEnrolled(this.orgId, cls.id!)))
          : new Set((await this.subject(subjects, cls.id)).teacherIds);
      // Already enrolled stays so (deactivating a student does not unenrol them).
      if (present.has(user.id)) return { action: 'unchanged' };
      if (deactivated) return skipped;
      pending.set(cls.id, added.add(user.id));
      if (role === 'student') rowOf.set(`${cls.id} ${user.id}`, { line: row.line, sourcedId: f['userSourcedId'] ?? '' });
      return { action: 'created' };
    });
    if (this.dryRun) return;
    if (students.size > 0) {
      // Checked row by row above: a student deactivated or erased since is refused by the store
      // alone, and only their rows say so (no second all-or-nothing check after the users' writes).
      const outcomes = await this.deps.subjects.enrolChecked(this.actor, new Map([...students].map(([id, ids]) => [id, [...ids]])));
      await this.reportRefusedEnrolments(outcomes, rowOf);
    }
    for (const [subjectId, ids] of teachers) {
      const subject = await this.subject(subjects, subjectId);
      // Like the timetable run, an import does not refuse a row for a double-booked teacher (docs/timetable.md).
      await this.deps.subjects.update(this.actor, subjectId, { teacherIds: [...subject.teacherIds, ...ids], teacherOverlap: true });
    }
  }

  /** The enrollments rows whose student the store refused at the write: skipped as deactivated, or refused as unknown when erased. */
  private async reportRefusedEnrolments(
    outcomes: ReadonlyMap<string, EnrolOutcome>,
    rowOf: ReadonlyMap<string, { line: number; sourcedId: string }>,
  ): Promise<void> {
    // A class deleted or archived by another admin after its rows were checked: the store enrolled
    // nobody in it, in the write itself, and each of its rows says so.
    for (const [key, row] of rowOf) {
      if (!outcomes.get(key.slice(0, key.indexOf(' ')))?.gone) continue;
      const report = this.rows.find((r) => r.file === 'enrollments' && r.line === row.line);
      const problem = rowProblem('classGoneSince');
      if (report) Object.assign(report, { action: 'error', reason: englishProblem(problem), problem });
    }
    const ids = [...new Set([...outcomes.values()].flatMap((o) => o.refused))];
    if (ids.length === 0) return;
    const now = new Map<string, User>();
    for (const part of chunked(ids)) for (const u of await this.deps.store.users.getMany(this.orgId, part)) now.set(u.id, u);
    for (const [subjectId, outcome] of outcomes) {
      for (const studentId of outcome.refused) {
        const row = rowOf.get(`${subjectId} ${studentId}`);
        const report = row && this.rows.find((r) => r.file === 'enrollments' && r.line === row.line);
        if (!row || !report) continue;
        const user = now.get(studentId);
        const deactivated = user?.role === 'student' && !user.active;
        const problem = deactivated
          ? rowProblem('studentDeactivated', { sourcedId: row.sourcedId })
          : rowProblem('userUnknown', { sourcedId: row.sourcedId, file: 'users' });
        Object.assign(report, { action: deactivated ? 'skipped' : 'error', reason: englishProblem(problem), problem });
      }
    }
  }

  /** Users and classes imported by an earlier bundle that this one's enrollments name. */
  private async resolveEarlier(rows: BundleRow[]): Promise<void> {
    const { store } = this.deps;
    const classIds = [...new Set(rows.map((r) => r.fields['classSourcedId'] ?? ''))].filter((s) => s && !this.classIds.has(s));
    const classLinks = await store.oneroster.getMany(this.orgId, 'class', classIds);
    const present = new Set<string>();
    for (const part of chunked(classLinks.flatMap((o) => (o.entityId ? [o.entityId] : [])))) {
      for (const s of await store.subjects.getMany(this.orgId, part)) present.add(s.id);
    }
    for (const o of classLinks) if (o.entityId && present.has(o.entityId)) this.classIds.set(o.sourcedId, { id: o.entityId });
    const userIds = [...new Set(rows.map((r) => r.fields['userSourcedId'] ?? ''))].filter((s) => s && !this.userIds.has(s));
    const links = await store.oneroster.getMany(this.orgId, 'user', userIds);
    const linked = links.flatMap((o) => (o.entityId ? [o.entityId] : []));
    const users = new Map((linked.length > 0 ? await store.users.getMany(this.orgId, linked) : []).map((u) => [u.id, u]));
    for (const o of links) {
      const u = o.entityId ? users.get(o.entityId) : undefined;
      if (u && u.role !== 'admin') this.userIds.set(o.sourcedId, { id: u.id, role: u.role, active: u.active });
    }
  }

  private resolve(file: BundleFile, map: Map<string, Resolved>, sourcedId: string): Resolved {
    const found = map.get(sourcedId);
    if (found) return found;
    const classes = file === 'classes';
    if (this.refused.get(file)?.has(sourcedId))
      throw new RowError(rowProblem(classes ? 'classNotImported' : 'userNotImported', { sourcedId }));
    throw new RowError(rowProblem(classes ? 'classUnknown' : 'userUnknown', { sourcedId: sourcedId || '(empty)', file }));
  }

  private async subject(cache: Map<string, Subject>, id: string): Promise<Subject> {
    return this.cached(cache, id, async () => {
      const s = await this.deps.store.subjects.get(this.orgId, id);
      if (!s) throw new RowError(rowProblem('subjectDeleted'));
      return s;
    });
  }

  private async cached<T>(cache: Map<string, T>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    cache.set(key, value);
    return value;
  }

  private async load(kind: OneRosterKind, rows: BundleRow[]): Promise<Map<string, OneRosterObject>> {
    const ids = [...new Set(rows.map((r) => r.fields['sourcedId'] ?? '').filter(Boolean))];
    const found = await this.deps.store.oneroster.getMany(this.orgId, kind, ids);
    return new Map(found.map((o) => [o.sourcedId, o]));
  }

  /**
   * Runs `handle` on each row in order and reports it. A RowError or a coded domain error
   * (a taken email, a bad code) refuses the row only; anything else stops the import.
   */
  private async eachRow(
    file: BundleFile,
    rows: BundleRow[],
    handle: (row: BundleRow, sourcedId: string) => Promise<{ action: RowAction; problem?: RowProblem }>,
  ): Promise<void> {
    const seen = new Map<string, number>();
    const refused = new Set<string>();
    this.refused.set(file, refused);
    for (const row of rows) {
      const sourcedId = (row.fields['sourcedId'] ?? '').trim();
      const report = (action: RowAction, problem: RowProblem | null) =>
        this.rows.push({ file, line: row.line, sourcedId, action, reason: problem && englishProblem(problem), problem });
      if (!sourcedId) {
        report('error', rowProblem('sourcedIdMissing'));
        continue;
      }
      const first = seen.get(sourcedId);
      if (first !== undefined) {
        report('error', rowProblem('sourcedIdRepeated', { line: first }));
        continue;
      }
      seen.set(sourcedId, row.line);
      if ((row.fields['status'] ?? '').toLowerCase() === TO_BE_DELETED) {
        refused.add(sourcedId);
        report('skipped', rowProblem('toBeDeleted'));
        continue;
      }
      try {
        const r = await handle(row, sourcedId);
        report(r.action, r.problem ?? null);
      } catch (err) {
        if (!(err instanceof RowError) && !(err instanceof AppError && err.code !== 'INTERNAL')) throw err;
        refused.add(sourcedId);
        report('error', err instanceof RowError ? err.problem : { code: 'refused', params: { code: err.code, message: err.message } });
      }
    }
  }
}

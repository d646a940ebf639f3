import { passwordIssue, type PasswordHasher } from '../accounts/passwords.js';
import { StoreConflictError, type Role } from '../ports/common.js';
import { type Store } from '../ports/store.js';
import { type NewUser, type User, type UserPatch } from '../ports/users.js';
import { requireRole, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { audit, auditMany } from '../audit-log.js';
import type { EventPublisher } from '../events.js';
import { endLogins } from '../accounts/end-logins.js';
import { normaliseEmail, toPublicUser, type PublicUser } from './public-user.js';
import { issue } from '../../shared/validation-issues.js';
import { usersByKeys } from './user-lookup.js';
import type { LeavingTeacherSessions } from '../subjects/leaving-teacher.js';

export interface CreateUserInput {
  name: string;
  email: string;
  role: Role;
  studentNumber?: string | null | undefined;
  /** Omitted: the user cannot log in until an admin sets one or the user follows an invitation. */
  password?: string | null | undefined;
  /** The user must change the password at first login. */
  mustChangePassword?: boolean | undefined;
}

export interface UpdateUserInput {
  name?: string | undefined;
  email?: string | undefined;
  role?: Role | undefined;
  studentNumber?: string | null | undefined;
  password?: string | undefined;
  active?: boolean | undefined;
  mustChangePassword?: boolean | undefined;
}

export interface ListUsersInput {
  limit: number;
  offset: number;
  role?: Role | undefined;
  active?: boolean | undefined;
  hasPassword?: boolean | undefined;
  q?: string | undefined;
}

export interface UserServiceDeps {
  store: Store;
  passwords: PasswordHasher;
  clock: () => Date;
  /** Announces deactivations and role changes, so open sockets follow at once. */
  events: EventPublisher;
  /**
   * Hands over the scheduled sessions of a teacher who can no longer teach (made a student or an
   * admin, or deactivated). Absent only where no session is run (the admin CLI's account commands).
   */
  leavingTeacher?: Pick<LeavingTeacherSessions, 'handOver'>;
}

/** Admin management of the accounts of the actor's organisation. */
export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  async create(actor: Actor, input: CreateUserInput): Promise<PublicUser> {
    requireRole(actor, 'admin');
    const studentNumber = cleanStudentNumber(input.studentNumber);
    checkStudentNumber(input.role, studentNumber);
    const passwordHash = input.password ? await this.hashChecked(input.password) : null;
    const user = await this.mapConflict(() =>
      this.deps.store.users.create(actor.orgId, {
        name: input.name.trim(),
        email: normaliseEmail(input.email),
        role: input.role,
        studentNumber,
        passwordHash,
        active: true,
        mustChangePassword: input.mustChangePassword ?? false,
      }),
    );
    const view = toPublicUser(user);
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'user',
      entityId: user.id,
      action: 'user.create',
      from: null,
      to: auditView(user),
    });
    return view;
  }

  /**
   * Accounts without passwords (an import's new rows), each on its own, in one store call and one
   * audit call: per input the account created, or `EMAIL_TAKEN` for one whose email is taken (or
   * repeated earlier), the others created all the same. `active` false creates the account
   * deactivated (audited as created so).
   */
  async createEach(
    actor: Actor,
    inputs: readonly (Omit<CreateUserInput, 'password' | 'mustChangePassword'> & { active: boolean })[],
  ): Promise<(PublicUser | AppError)[]> {
    requireRole(actor, 'admin');
    const news = inputs.map((input) => newAccountWithoutPassword(input));
    if (news.length === 0) return [];
    const outcomes = await this.deps.store.users.createEach(actor.orgId, news);
    const created = outcomes.filter((o): o is User => !(o instanceof StoreConflictError));
    await auditMany(
      this.deps.store,
      actor,
      this.deps.clock(),
      created.map((user) => ({ entityType: 'user', entityId: user.id, action: 'user.create', from: null, to: auditView(user) })),
    );
    return outcomes.map((o) =>
      o instanceof StoreConflictError ? new AppError(o.key === 'email' ? 'EMAIL_TAKEN' : 'CONFLICT') : toPublicUser(o),
    );
  }

  async get(actor: Actor, id: string): Promise<PublicUser> {
    requireRole(actor, 'admin');
    return toPublicUser(await this.load(actor.orgId, id));
  }

  async list(actor: Actor, input: ListUsersInput): Promise<{ items: PublicUser[]; total: number }> {
    requireRole(actor, 'admin');
    const page = await this.deps.store.users.list(actor.orgId, input);
    return { items: page.items.map(toPublicUser), total: page.total };
  }

  /**
   * The organisation's users holding any of these exact student numbers (several for a number
   * held twice; none for an unknown one): a class list is resolved without reading every user,
   * which the list's substring search cannot do either.
   */
  async findByStudentNumbers(actor: Actor, numbers: readonly string[]): Promise<PublicUser[]> {
    requireRole(actor, 'admin');
    const { byNumber } = await usersByKeys(this.deps.store, actor.orgId, { studentNumbers: numbers.map((n) => n.trim()) });
    return [...byNumber.values()].flat().map(toPublicUser);
  }

  async update(actor: Actor, id: string, input: UpdateUserInput): Promise<PublicUser> {
    requireRole(actor, 'admin');
    const before = await this.load(actor.orgId, id);
    if (id === actor.id && (input.active === false || (input.role !== undefined && input.role !== 'admin'))) {
      throw new AppError('CONFLICT', 'You cannot deactivate yourself or give up your own admin role.');
    }
    const patch: UserPatch = {};
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.email !== undefined) patch.email = normaliseEmail(input.email);
    if (input.role !== undefined) patch.role = input.role;
    if (input.studentNumber !== undefined) patch.studentNumber = cleanStudentNumber(input.studentNumber);
    if (input.active !== undefined) patch.active = input.active;
    if (input.password !== undefined) patch.passwordHash = await this.hashChecked(input.password);
    if (input.mustChangePassword !== undefined) patch.mustChangePassword = input.mustChangePassword;
    checkStudentNumber(patch.role ?? before.role, patch.studentNumber !== undefined ? patch.studentNumber : before.studentNumber);

    const after = await this.mapConflict(() => this.deps.store.users.update(actor.orgId, id, patch));
    if (!after) throw new AppError('NOT_FOUND');
    const now = this.deps.clock();
    // A deactivated account must not keep working through refresh tokens issued earlier.
    if (before.active && !after.active) await this.deps.store.refreshTokens.revokeAllForUser(actor.orgId, id, now);
    // A password the admin sets (often to take back an account someone else got into) ends
    // every login of it, as a reset link does; an admin setting their own keeps this login.
    if (patch.passwordHash !== undefined) await endLogins(this.deps, after, now, id === actor.id ? (actor.sid ?? null) : null);
    // Set-password links already mailed went to the old address (perhaps a wrong one), predate a
    // password the admin chose, or predate a deactivation: none may set the password afterwards.
    if (after.email !== before.email || patch.passwordHash !== undefined || (before.active && !after.active)) {
      await this.deps.store.accountTokens.voidForUser(actor.orgId, id, now);
    }
    await audit(this.deps.store, actor, now, {
      entityType: 'user',
      entityId: id,
      action: input.active === false && before.active ? 'user.deactivate' : 'user.update',
      from: auditView(before, Object.keys(patch)),
      to: auditView(after, Object.keys(patch)),
    });
    const code = before.active && !after.active ? 'ACCOUNT_DISABLED' : before.role !== after.role ? 'ROLE_CHANGED' : null;
    if (code) this.deps.events.publish({ type: 'user.access-changed', orgId: actor.orgId, userId: id, code });
    if (teaches(before) && !teaches(after)) await this.deps.leavingTeacher?.handOver(actor, id);
    return toPublicUser(after);
  }

  /** A new password and the account active again; every earlier login of it ends (see update). */
  resetPassword(actor: Actor, id: string, password: string): Promise<PublicUser> {
    return this.update(actor, id, { password, active: true });
  }

  deactivate(actor: Actor, id: string): Promise<PublicUser> {
    return this.update(actor, id, { active: false });
  }

  private async load(orgId: string, id: string): Promise<User> {
    const user = await this.deps.store.users.get(orgId, id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  private async hashChecked(password: string): Promise<string> {
    const coded = passwordIssue(password);
    if (coded) throw new AppError('VALIDATION_FAILED', `Password ${coded.message}.`, { issues: [coded] });
    return this.deps.passwords.hash(password);
  }

  private async mapConflict<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof StoreConflictError && err.key === 'email') throw new AppError('EMAIL_TAKEN');
      throw err;
    }
  }
}

/** A new account without a password from an import's or a bulk request's input, checked. */
function newAccountWithoutPassword(input: Omit<CreateUserInput, 'password' | 'mustChangePassword'> & { active: boolean }): NewUser {
  const studentNumber = cleanStudentNumber(input.studentNumber);
  checkStudentNumber(input.role, studentNumber);
  return {
    name: input.name.trim(),
    email: normaliseEmail(input.email),
    role: input.role,
    studentNumber,
    passwordHash: null,
    active: input.active,
    mustChangePassword: false,
  };
}

export function cleanStudentNumber(value: string | null | undefined): string | null {
  const t = value?.trim();
  return t ? t : null;
}

/** An account sessions may be run in the name of. */
function teaches(user: Pick<User, 'role' | 'active'>): boolean {
  return user.role === 'teacher' && user.active;
}

function checkStudentNumber(role: Role, studentNumber: string | null): void {
  if (role === 'student' && !studentNumber) {
    throw new AppError('VALIDATION_FAILED', 'A student needs a student number.', {
      issues: [issue('studentNumber', 'required for students', 'required')],
    });
  }
}

/** What the audit trail keeps of a user: never the hash, only whether a password changed. */
function auditView(u: User, fields?: string[]): Record<string, unknown> {
  const full: Record<string, unknown> = {
    name: u.name,
    email: u.email,
    role: u.role,
    studentNumber: u.studentNumber,
    active: u.active,
    mustChangePassword: u.mustChangePassword,
    passwordHash: u.passwordHash === null ? null : '[set]',
  };
  if (!fields) return full;
  return Object.fromEntries(fields.map((f) => [f, full[f]]));
}

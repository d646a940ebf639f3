/**
 * Users of an organisation.
 * The conventions of every port are in ./store.ts.
 */

import type { Role } from '../../shared/events.js';
import type { Page, PageQuery, StoreConflictError } from './common.js';

export interface User {
  id: string;
  orgId: string;
  /** Stored lower-cased; unique per organisation. */
  email: string;
  name: string;
  role: Role;
  studentNumber: string | null;
  passwordHash: string | null;
  active: boolean;
  /** Every route but changing the password is refused until the user changes it. */
  mustChangePassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What a roster shows of a student: read per check-in, so read alone (not the whole row). */
export type UserName = Pick<User, 'id' | 'name' | 'studentNumber'>;

/** What decides whether a user may still act, and as what: read for the acting user of socket commands. */
export type UserStanding = Pick<User, 'id' | 'role' | 'active' | 'mustChangePassword'>;

export interface UserFilter extends PageQuery {
  role?: Role | undefined;
  active?: boolean | undefined;
  /** False: only users who have no password yet (an invitation not accepted); true: only those who have one. */
  hasPassword?: boolean | undefined;
  /** Case-insensitive substring of name, email or student number. */
  q?: string | undefined;
}

export type NewUser = Omit<User, 'id' | 'orgId' | 'createdAt' | 'updatedAt' | 'mustChangePassword'> & {
  /** Defaults to false. */
  mustChangePassword?: boolean;
};
export type UserPatch = Partial<Pick<User, 'name' | 'email' | 'role' | 'studentNumber' | 'passwordHash' | 'active' | 'mustChangePassword'>>;

export interface UserRepository {
  /** Throws StoreConflictError('email') when the email is taken in the organisation. */
  create(orgId: string, input: NewUser): Promise<User>;
  /** Creates all or none; throws StoreConflictError on the first duplicate. */
  createMany(orgId: string, inputs: NewUser[]): Promise<User[]>;
  /**
   * Creates each on its own: per input, the user created or the StoreConflictError('email') that
   * refused it (the email taken, or repeated by an earlier input). One unordered insert on MongoDB,
   * one transaction on SQLite; an error other than a conflict is thrown.
   */
  createEach(orgId: string, inputs: NewUser[]): Promise<(User | StoreConflictError)[]>;
  get(orgId: string, id: string): Promise<User | null>;
  getMany(orgId: string, ids: string[]): Promise<User[]>;
  /** getMany's names only (the check-in path's roster entries); always as stored now, nothing kept. */
  getNames(orgId: string, ids: string[]): Promise<UserName[]>;
  /** getMany's role and account state only (the acting user of socket commands). */
  getStandings(orgId: string, ids: string[]): Promise<UserStanding[]>;
  getByEmail(orgId: string, email: string): Promise<User | null>;
  /** The organisation's users with any of these emails (exact, case-insensitive), in no order. */
  getByEmails(orgId: string, emails: string[]): Promise<User[]>;
  /**
   * The organisation's users whose student number is exactly one of these, in no order; an import
   * resolves its rows by this (a number is not unique, so one number may give several users).
   */
  getByStudentNumbers(orgId: string, numbers: string[]): Promise<User[]>;
  /** System-wide: every user with this email, across organisations (login without a slug). */
  findByEmailAnyOrg(email: string): Promise<User[]>;
  list(orgId: string, filter: UserFilter): Promise<Page<User>>;
  update(orgId: string, id: string, patch: UserPatch): Promise<User | null>;
}

import type { Role } from '../ports/common.js';
import type { User } from '../ports/users.js';

/** A user as the API shows it: never the password hash. */
export interface PublicUser {
  id: string;
  orgId: string;
  email: string;
  name: string;
  role: Role;
  studentNumber: string | null;
  active: boolean;
  /** False for imported users who cannot log in until an admin sets a password. */
  hasPassword: boolean;
  /** True until the user changes the password an admin set; only /me and /me/password answer meanwhile. */
  mustChangePassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function toPublicUser(u: User): PublicUser {
  return {
    id: u.id,
    orgId: u.orgId,
    email: u.email,
    name: u.name,
    role: u.role,
    studentNumber: u.studentNumber,
    active: u.active,
    hasPassword: u.passwordHash !== null,
    mustChangePassword: u.mustChangePassword,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

/** Emails are compared and stored lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

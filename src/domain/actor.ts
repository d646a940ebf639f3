import type { Role } from '../store/types.js';
import { AppError } from './app-error.js';

/** Who is acting: taken from a verified token and the stored user, never from a payload. */
export interface Actor {
  id: string;
  orgId: string;
  role: Role;
  /** Client address for audit entries, when known. */
  ip?: string | null;
  /** The login (refresh-token family) the access token belongs to, when it carries one. */
  sid?: string | null;
}

/** Throws FORBIDDEN unless the actor has one of the roles. */
export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.includes(actor.role)) throw new AppError('FORBIDDEN');
}

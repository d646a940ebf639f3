import type { Role } from './ports/common.js';
import { AppError } from '../shared/app-error.js';

/** Who is acting: taken from a verified token and the stored user, never from a payload. */
export interface Actor {
  id: string;
  orgId: string;
  role: Role;
  /** Client address for audit entries, when known. */
  ip?: string | null;
  /** The login (refresh-token family) the access token belongs to, when it carries one. */
  sid?: string | null;
  /**
   * Set only for an operator tool acting without a user account (the admin CLI): its name.
   * Audit entries then record actorId null and this name as their reason.
   */
  system?: string;
}

/**
 * The operator's command line acting inside an organisation with an admin's rights. Only
 * scripts build it; nothing a client sends can produce one.
 */
export function systemActor(orgId: string, tool: string): Actor {
  return { id: `system:${tool}`, orgId, role: 'admin', ip: null, system: tool };
}

/** Throws FORBIDDEN unless the actor has one of the roles. */
export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.includes(actor.role)) throw new AppError('FORBIDDEN');
}

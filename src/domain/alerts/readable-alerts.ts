import { STAFF_ROLES } from '../../shared/events.js';
import type { Role } from '../../shared/events.js';

/**
 * Whose alerts a person may read of those addressed to them: staff all theirs; a student only
 * those about themselves, since their list keeps what was sent to them as staff before their role
 * changed, which names classmates and their absences. Undefined means no filter.
 */
export function alertsReadableAbout(person: { id: string; role: Role }): string | undefined {
  return (STAFF_ROLES as readonly string[]).includes(person.role) ? undefined : person.id;
}

import type { EventPublisher } from '../events.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';

/**
 * Ends the user's logins but `keep` (the login that made the change, if it is the user's own):
 * each is revoked and announced, so its access token is refused and its sockets are cut on
 * every node; without `keep`, a sweep then revokes any login that started meanwhile, so none
 * survives a new password.
 */
export async function endLogins(
  deps: { store: Store; events: EventPublisher },
  user: Pick<User, 'id' | 'orgId'>,
  now: Date,
  keep: string | null,
): Promise<void> {
  const { store, events } = deps;
  const logins = await store.refreshTokens.listActiveLogins(user.orgId, user.id, now);
  for (const login of logins) {
    if (login.familyId === keep) continue;
    await store.refreshTokens.revokeFamily(login.familyId, now);
    events.publish({ type: 'login.revoked', orgId: user.orgId, sid: login.familyId });
  }
  if (keep === null) await store.refreshTokens.revokeAllForUser(user.orgId, user.id, now);
}

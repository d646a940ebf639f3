import type { Store } from '../ports/store.js';

/** Whether the student has a standing (recorded, not withdrawn) consent to face verification. */
export async function hasFaceConsent(store: Store, orgId: string, userId: string): Promise<boolean> {
  return (await store.consents.current(orgId, userId, 'face')) !== null;
}

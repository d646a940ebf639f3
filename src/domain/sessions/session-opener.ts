import type { DomainDeps } from '../deps.js';
import { applyTransition } from './lifecycle.js';
import { toSessionView } from './views.js';

/**
 * Opens scheduled sessions whose start has passed: stores `scheduled -> open`, audits it and
 * announces it (`session.changed`), so screens hear of the opening when it happens rather than
 * at their next read. Views already report such a session as open before this runs
 * (views.ts effectiveStatus); this makes the store and the listeners agree.
 */
export class SessionOpener {
  constructor(private readonly deps: DomainDeps) {}

  /** One pass over sessions due to start; returns how many this caller opened. */
  async openDue(batch: number, shouldStop: () => boolean = () => false): Promise<number> {
    const { store, now, logger } = this.deps;
    const at = now();
    let opened = 0;
    for (const due of await store.sessions.listStarting(at, batch)) {
      if (shouldStop()) break;
      // A compare-and-set: of several nodes (or a close racing with it), one wins; the others get null.
      const session = await applyTransition(store, due, 'start');
      if (!session) continue;
      opened += 1;
      await store.audit.append({
        orgId: session.orgId,
        entityType: 'session',
        entityId: session.id,
        sessionId: session.id,
        actorId: null,
        action: 'session.start',
        from: { status: 'scheduled' },
        to: { status: 'open' },
        reason: 'SCHEDULED_OPEN',
        ip: null,
        at,
      });
      const subject = await store.subjects.get(session.orgId, session.subjectId);
      if (subject)
        this.deps.events.publish({ type: 'session.changed', orgId: session.orgId, session: toSessionView(session, subject, at) });
      logger.info({ sessionId: session.id }, 'session opened at starts-at');
    }
    return opened;
  }
}

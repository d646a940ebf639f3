import type { Logger } from '../../logger.js';
import type { Store } from '../ports/store.js';

/** A session's close lease, held for as long as its close runs. */
export interface HeldCloseLease {
  release(): Promise<void>;
}

/**
 * Takes the session's lease (the one the close schedulers take before closing a due session)
 * and renews it every third of its length until released: a close that outlasts the lease on a
 * slow store is not taken up by another node while it still runs. Null when another owner holds
 * it. A node that dies holding it leaves it to expire, and a scheduler then finishes the close.
 */
export async function holdCloseLease(
  deps: { store: Store; now: () => Date; logger: Logger },
  session: { orgId: string; id: string },
  owner: string,
  leaseMs: number,
): Promise<HeldCloseLease | null> {
  const { store, now, logger } = deps;
  const take = () => store.sessions.acquireLease(session.orgId, session.id, owner, new Date(now().getTime() + leaseMs), now());
  if (!(await take())) return null;
  let renewal: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewal = take().catch((err: unknown) => {
        // Only a cost: another node may start the same (idempotent) close steps.
        logger.warn({ err, sessionId: session.id }, 'close lease not renewed; another node may join the close');
      });
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await renewal;
      await store.sessions.releaseLease(session.orgId, session.id, owner);
    },
  };
}

import type { Logger } from '../../logger.js';
import { LeaseLostError, type LeaseFence } from '../ports/common.js';
import type { Store } from '../ports/store.js';

/**
 * Thrown by a close's fence when its lease is no longer its own: it expired while the close was
 * paused and another close took it, or the close outran its time bound. The close writes nothing more.
 */
export class CloseLeaseLost extends Error {
  override name = 'CloseLeaseLost';
}

/** A session's close lease, held for as long as its close runs. */
export interface HeldCloseLease {
  /**
   * Each write step of the close: confirms in the store that the lease is still this holder's
   * and extends it, else throws CloseLeaseLost (as `jobs.renew` fences a session opening), then
   * runs `step` with the lease as a store fence, which the write checks again with itself (a
   * LeaseLostError from it becomes CloseLeaseLost). A close paused past its lease (a stalled
   * node), before the renewal or between it and the write, stops there instead of writing what
   * it read before another close finished the session, or before a reopening.
   */
  write<T>(step: (fence: LeaseFence) => Promise<T>): Promise<T>;
  /**
   * Settles when the close has run for its bound (`limitMs`): the lease is released by then, so
   * another close may take the session over. Never settles for a lease without a bound.
   */
  readonly overdue: Promise<void>;
  release(): Promise<void>;
}

/**
 * Takes the session's lease (the one the close schedulers take before closing a due session)
 * and renews it every third of its length until released: a close that outlasts the lease on a
 * slow store is not taken up by another node while it still runs. Null when another owner holds
 * it. A node that dies holding it leaves it to expire, and a scheduler then finishes the close.
 * A renewal that finds the lease taken stops renewing: the holder never takes it back.
 *
 * `limitMs` bounds the whole close (wall time, CLOSE_MAX_MS): a close stuck in a store call that
 * never answers would otherwise renew the lease for ever, and every later close of the session
 * would wait on it. At the bound the lease is released and `overdue` settles. `deadline` makes
 * the bound's signal (`AbortSignal.timeout`; tests hold it, test/support/held-deadlines.ts).
 */
export async function holdCloseLease(
  deps: { store: Store; now: () => Date; logger: Logger },
  session: { orgId: string; id: string },
  owner: string,
  leaseMs: number,
  limitMs?: number,
  deadline: (ms: number) => AbortSignal = (ms) => AbortSignal.timeout(ms),
): Promise<HeldCloseLease | null> {
  const { store, now, logger } = deps;
  const until = () => new Date(now().getTime() + leaseMs);
  if (!(await store.sessions.acquireLease(session.orgId, session.id, owner, until(), now()))) return null;
  let lost = false;
  let released = false;
  let renewal: Promise<unknown> = Promise.resolve();
  const renew = async (): Promise<boolean> => {
    if (lost) return false;
    if (!(await store.sessions.renewLease(session.orgId, session.id, owner, until()))) lost = true;
    return !lost;
  };
  const timer = setInterval(
    () => {
      renewal = renew().catch((err: unknown) => {
        // Only a cost: the lease may expire, and the next fence finds whether another took it.
        logger.warn({ err, sessionId: session.id }, 'close lease not renewed; another node may take the close over');
      });
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  /** Stops listening to the bound's signal: the released lease leaves nothing to the signal's timer. */
  let unwatch = (): void => {};
  const release = async () => {
    clearInterval(timer);
    unwatch();
    if (released) return;
    released = true;
    await renewal;
    await store.sessions.releaseLease(session.orgId, session.id, owner);
  };
  const overdue =
    limitMs === undefined
      ? new Promise<void>(() => {})
      : new Promise<void>((resolve) => {
          const bound = deadline(limitMs);
          const expire = () => {
            lost = true;
            release().then(resolve, (err: unknown) => {
              // Unreleased, the lease still expires within leaseMs: takeover comes that much later.
              logger.warn({ err, sessionId: session.id }, 'overdue close lease not released; it expires instead');
              resolve();
            });
          };
          if (bound.aborted) {
            expire();
            return;
          }
          bound.addEventListener('abort', expire, { once: true });
          unwatch = () => bound.removeEventListener('abort', expire);
        });
  return {
    async write(step) {
      const lostBy = () => new CloseLeaseLost(`close lease of session ${session.id} lost by ${owner}`);
      if (!(await renew())) throw lostBy();
      try {
        return await step({ names: [], owner, until: until(), session: { orgId: session.orgId, id: session.id } });
      } catch (err) {
        if (!(err instanceof LeaseLostError)) throw err;
        lost = true;
        throw lostBy();
      }
    },
    overdue,
    release,
  };
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../shared/app-error.js';
import type { DomainDeps } from '../deps.js';
import { LeaseLostError, type LeaseFence } from '../ports/common.js';

/**
 * Whose timetable a lock guards: a subject's (one session at a time), a teacher's (one class at a
 * time), or a teacher's hand-over (one at a time: TeacherHandover).
 */
export interface SlotLockKey {
  kind: 'subject' | 'teacher' | 'handover';
  id: string;
}

/** Longest a lock is held: a node that dies holding it delays that subject's or teacher's changes this long. */
export const SLOT_LOCK_TTL_MS = 15_000;
/** Runs of the work, each from taking the locks, when a fence finds a lock lost. */
const FENCED_RUNS = 2;
/** Tries, SLOT_LOCK_PAUSE_MS apart (plus jitter), before a busy lock answers CONFLICT: about three seconds. */
const SLOT_LOCK_TRIES = 100;
const SLOT_LOCK_PAUSE_MS = 20;
// These leases never record a run (jobs.finish), so they are always due: only the lease decides.
const ALWAYS_DUE = new Date(8.64e15);

/** Thrown by a fence whose lock another caller took meanwhile; withSlotLocks runs the work again. */
class SlotLockLost extends Error {
  override name = 'SlotLockLost';
}

/**
 * Called by the work right before its first write: confirms that every lock is still this
 * caller's (and renews it), else the work stops there and runs again from taking the locks.
 * Returns the locks as a store fence: a write that takes it (sessions.create) is stored only if
 * they still hold when it is written, closing the moments between this check and the write.
 */
export type SlotFence = () => Promise<LeaseFence>;

/**
 * Runs a clash check and the write it allows as one step across nodes: opening a session,
 * moving a meeting's sessions. Each key is a lease in the store (store.jobs, named
 * `slots:ORG:KIND:ID`), so on SQLite and MongoDB alike a second caller for the same subject or
 * teacher waits until the first has written (and then sees what it wrote) instead of checking
 * the same empty slot. Keys are taken in name order, so two callers never hold one each and wait
 * for the other; each lease also expires after SLOT_LOCK_TTL_MS. No key: `work` runs at once.
 *
 * A node paused past SLOT_LOCK_TTL_MS (SIGSTOP, a stalled virtual machine) between its check and
 * its write has lost its locks to another caller, which may have written what the check did not
 * see: `work` calls the fence it is given right before its first write, and a lock found lost
 * runs the work once more from taking the locks (it then sees the other's write), else CONFLICT.
 * A write that takes the fence's locks (sessions.create) checks them again with itself, so a
 * pause between the fence and the write is caught too (LeaseLostError, the same second run).
 */
export async function withSlotLocks<T>(
  deps: Pick<DomainDeps, 'store' | 'now'>,
  orgId: string,
  keys: readonly SlotLockKey[],
  work: (fence: SlotFence) => Promise<T>,
): Promise<T> {
  const names = [...new Set(keys.map((k) => `slots:${orgId}:${k.kind}:${k.id}`))].sort();
  for (let run = 1; ; run += 1) {
    // One owner per call and run: two calls on one node must not share a lease.
    const owner = randomUUID();
    const held: string[] = [];
    const fence: SlotFence = async () => {
      const until = new Date(deps.now().getTime() + SLOT_LOCK_TTL_MS);
      for (const name of held) if (!(await deps.store.jobs.renew(name, owner, until))) throw new SlotLockLost(name);
      return { names: [...held], owner, until };
    };
    try {
      for (const name of names) {
        await acquire(deps, name, owner);
        held.push(name);
      }
      return await work(fence);
    } catch (err) {
      if (!(err instanceof SlotLockLost) && !(err instanceof LeaseLostError)) throw err;
      if (run >= FENCED_RUNS) throw new AppError('CONFLICT', 'Another change to these sessions is being made; retry in a moment.');
    } finally {
      for (const name of held.reverse()) await deps.store.jobs.release(name, owner);
    }
  }
}

async function acquire(deps: Pick<DomainDeps, 'store' | 'now'>, name: string, owner: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const now = deps.now();
    if (await deps.store.jobs.claim(name, owner, new Date(now.getTime() + SLOT_LOCK_TTL_MS), now, ALWAYS_DUE)) return;
    if (attempt >= SLOT_LOCK_TRIES) {
      throw new AppError('CONFLICT', 'Another change to these sessions is being made; retry in a moment.');
    }
    // Jitter, so callers that lost together do not retry together.
    await sleep(SLOT_LOCK_PAUSE_MS + Math.floor(Math.random() * SLOT_LOCK_PAUSE_MS));
  }
}

import type { DomainDeps } from '../deps.js';
import { abandonVerification, verificationLimitMs } from './selfie-verifier.js';

/** The lease name of the job in the store, the same on every node. */
export const ABANDONED_VERIFICATIONS_JOB = 'abandoned-verifications';

/** How often one node in the cluster looks for verifications lost with their node. */
export const ABANDONED_VERIFICATIONS_INTERVAL_MS = 60_000;

/**
 * How far back sessions closed are looked at: a whole cluster down for less than this still has
 * its lost verifications given up when it comes back; older ones stay for the teacher's review.
 */
const LOOK_BACK_MS = 24 * 3_600_000;

/** Records given up in one run; the next run (a minute later) takes the rest. */
const BATCH = 500;

/**
 * A selfie waits for its verdict in the memory of the node that acknowledged the check-in
 * (selfie-verifier.ts): a node killed (SIGKILL, out of memory, power) or cut off by its
 * shutdown's drain bound leaves the record `pending`, verification `queued`, and the student's
 * page and the roster saying "being verified" for ever. Run on one node at a time (a
 * ScheduledJob), this gives up every verification still queued after the longest a running node
 * takes (verificationLimitMs): the record gets FACE_CHECK_FAILED for the teacher, as when a
 * worker fails, and the student and the screens are told. Answers how many it gave up.
 */
export async function abandonLostVerifications(deps: DomainDeps, now: Date, taskTimeoutMs: number): Promise<number> {
  const { store } = deps;
  const lost = await store.records.listQueuedVerifications(
    {
      submittedBefore: new Date(now.getTime() - verificationLimitMs(taskTimeoutMs)),
      sessionsClosingFrom: new Date(now.getTime() - LOOK_BACK_MS),
    },
    BATCH,
  );
  let abandoned = 0;
  for (const record of lost) {
    const [session, student] = await Promise.all([
      store.sessions.get(record.orgId, record.sessionId),
      store.users.get(record.orgId, record.studentId),
    ]);
    // Erased since the read: nothing is left to tell anyone.
    if (!session || !student) continue;
    if (await abandonVerification(deps, session, student, record)) {
      abandoned += 1;
      deps.logger.warn(
        { sessionId: session.id, recordId: record.id, submittedAt: record.submittedAt },
        'selfie verification lost with its node; left to the teacher',
      );
    }
  }
  return abandoned;
}

import type { Models } from './models.js';
import type { SessionDoc } from './session-schemas.js';

// Records carry their session's start (`sessionStartsAt`, record-schemas.ts) so that a student's
// history is one indexed read. These keep the copy right: read for new records, written again on
// a session's records when its start moves or a session is imported over one already there.

type SessionStart = Pick<SessionDoc, '_id' | 'orgId' | 'startsAt'>;

/**
 * The starts of these sessions of the organisation, by id; a session not found is left out.
 * One read by `_id` each rather than an `$in`: FerretDB serves a filter on `_id` alone from its
 * index and scans the collection for anything else, and a batch of records has one session or
 * a few.
 */
export async function sessionStarts(m: Models, orgId: string, sessionIds: Iterable<string>): Promise<Map<string, Date>> {
  const found = await Promise.all(
    [...new Set(sessionIds)].map((id) => m.sessions.findOne({ _id: id }, { _id: 1, orgId: 1, startsAt: 1 }).lean<SessionStart>()),
  );
  return new Map(found.flatMap((s) => (s && s.orgId === orgId ? [[s._id, s.startsAt] as const] : [])));
}

/** Writes `startsAt` on the session's records that do not hold it yet. */
export async function copySessionStart(m: Models, orgId: string, sessionId: string, startsAt: Date): Promise<void> {
  await m.records.updateMany({ orgId, sessionId, sessionStartsAt: { $ne: startsAt } }, { $set: { sessionStartsAt: startsAt } });
}

/** As copySessionStart for many sessions, in one unordered bulk (an import, the backfill). */
export async function copySessionStarts(m: Models, sessions: readonly SessionStart[]): Promise<void> {
  if (sessions.length === 0) return;
  await m.records.bulkWrite(
    sessions.map((s) => ({
      updateMany: {
        filter: { orgId: s.orgId, sessionId: s._id, sessionStartsAt: { $ne: s.startsAt } },
        update: { $set: { sessionStartsAt: s.startsAt } },
      },
    })),
    { ordered: false },
  );
}

/**
 * After copySessionStarts: takes off the sessions' marks (`startMovePending`, written with an
 * import's sessions), each only while its start is still the one copied, in one command (one
 * scan on FerretDB, an `_id` lookup per session on MongoDB). A session whose start moved since
 * keeps its mark for that move's own finish (finishSessionStart).
 */
export async function unmarkSessionStarts(m: Models, sessions: readonly SessionStart[]): Promise<void> {
  if (sessions.length === 0) return;
  await m.sessions.updateMany(
    { startMovePending: true, $or: sessions.map((s) => ({ _id: s._id, orgId: s.orgId, startsAt: s.startsAt })) },
    { $unset: { startMovePending: '' } },
  );
}

/**
 * After a move: writes the session's start on its records, then takes off the session's mark
 * (`startMovePending`, set with the move) only if the start is still the one copied. If it
 * moved meanwhile, its new start is copied in turn: two copies (a move and a repair, or two
 * moves) can land in either order, and the last one must be the session's start now. Each step
 * is idempotent, so a run again after a crash in between (repairSessionStarts) ends as one that
 * was not interrupted.
 */
export async function finishSessionStart(m: Models, orgId: string, sessionId: string, startsAt: Date): Promise<void> {
  let start: Date | undefined = startsAt;
  while (start) {
    await copySessionStart(m, orgId, sessionId, start);
    const res = await m.sessions.updateOne({ _id: sessionId, orgId, startsAt: start }, { $unset: { startMovePending: '' } });
    if (res.matchedCount === 1) return;
    start = (await m.sessions.findOne({ _id: sessionId, orgId }, { startsAt: 1 }).lean<Pick<SessionDoc, 'startsAt'>>())?.startsAt;
  }
}

/**
 * Finishes the moves a crash left between the session's write and its records' (at the store's
 * start, createMongoStore). Returns how many sessions it finished. One read of the sessions per
 * start, a scan on both servers: no index is kept for a mark that is almost never there, which
 * every session write would pay for.
 */
export async function repairSessionStarts(m: Models): Promise<number> {
  const marked = await m.sessions.find({ startMovePending: true }, { _id: 1, orgId: 1, startsAt: 1 }).lean<SessionStart[]>();
  for (const s of marked) await finishSessionStart(m, s.orgId, s._id, s.startsAt);
  return marked.length;
}

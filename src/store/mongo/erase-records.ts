import { randomBytes } from 'node:crypto';
import type { AnyBulkWriteOperation } from 'mongoose';
import { isDuplicateKeyError } from './errors.js';
import type { Models } from './models.js';
import type { RecordDoc } from './record-schemas.js';
import type { SessionDoc } from './session-schemas.js';

/** Rounds of an erasure's record step that meet a record written meanwhile (see eraseRecords). */
const ERASE_RECORD_TRIES = 5;

/**
 * An erased student's records moved to their tombstone in a few commands whatever their number
 * (a find-and-modify of the session and a stamp per record took FerretDB minutes for a student of
 * 2,000 records). A record written for them in a session where the tombstone already holds their
 * earlier record (a close's second pass, between the erasure's two sweeps) cannot take the
 * tombstone's key (session, student): it is deleted, the tombstone's record stays. A write landing
 * in between is met as a duplicate key, and the step runs again.
 *
 * Each record changed or deleted takes a new roster version of its session, as any change of a
 * record does (the group commit's peer index reads changes by it): the sessions' next versions are
 * claimed first (claimRosterVersions), then each record is written with its session's, one update
 * per distinct version in one bulk. A reader between the two sees the record unchanged at its old
 * version, as for any update before its stamp, and reads it again by the peer index's overlap
 * (docs/multi-node.md). Returns how many records were changed or deleted.
 */
export async function eraseRecords(m: Models, orgId: string, userId: string, tombstoneId: string): Promise<number> {
  let count = 0;
  for (let attempt = 1; ; attempt += 1) {
    const erased = await m.records
      .find({ orgId, studentId: userId }, { _id: 1, sessionId: 1 })
      .lean<Array<Pick<RecordDoc, '_id' | 'sessionId'>>>();
    if (erased.length === 0) return count;
    const sessionIds = [...new Set(erased.map((r) => r.sessionId))];
    const held = new Set(
      (
        await m.records
          .find({ orgId, studentId: tombstoneId, sessionId: { $in: sessionIds } }, { sessionId: 1 })
          .lean<Array<Pick<RecordDoc, 'sessionId'>>>()
      ).map((d) => d.sessionId),
    );
    const versions = await claimRosterVersions(m, orgId, sessionIds);
    const late = erased.filter((r) => held.has(r.sessionId));
    if (late.length > 0) {
      count += (await m.records.deleteMany({ _id: { $in: late.map((r) => r._id) }, studentId: userId })).deletedCount;
    }
    const byVersion = new Map<number | null, string[]>();
    for (const r of erased) {
      if (held.has(r.sessionId)) continue;
      // A record whose session is gone takes no version, as a single write's stamp.
      const v = versions.get(r.sessionId) ?? null;
      byVersion.set(v, [...(byVersion.get(v) ?? []), r._id]);
    }
    if (byVersion.size === 0) continue;
    try {
      // A new version too: a check-in retry in flight (an optimistic update read before) must
      // not write its address and location onto the erased record.
      const res = await m.records.bulkWrite(
        [...byVersion].map(([v, ids]) => ({
          updateMany: {
            filter: { _id: { $in: ids }, orgId, studentId: userId },
            update: {
              $set: {
                studentId: tombstoneId,
                location: null,
                ip: null,
                note: null,
                correctionReason: null,
                deviceId: null,
                userAgent: null,
                verification: null,
                ...(v === null ? {} : { rosterVersion: v }),
              },
              $inc: { version: 1 },
            },
          },
        })),
        { ordered: false },
      );
      count += res.modifiedCount;
    } catch (err) {
      if (!isDuplicateKeyError(err) || attempt >= ERASE_RECORD_TRIES) throw err;
    }
    // Round again: a record written for them since the read above (none, mostly) is found then.
  }
}

/**
 * The next roster version of each session, handed out to the caller once, in a few commands: one
 * read of the sessions, then one conditional update per distinct version read (`rosterVersion`
 * still that value: a compare-and-set, atomic per document on MongoDB, as the other writers'
 * `$inc`s are), all in one bulk. Each claim also writes a token of this call and the version it
 * claims in the one field `rosterClaim`, so that when some sessions moved between the read and
 * the write (a check-in's group commit), the claims that held are told from those that did not
 * by reading the token back; those that did not take theirs with a `$inc` each, as a single
 * write does. The field is left as it is, one random token per session that the next claim
 * overwrites: removing it was one more rewrite of every session (a scan of the collection each
 * on FerretDB: 17 s of a 179 s erasure), and per-erasure keys (`rosterClaims.<token>`, removed
 * by migration 16) grew.
 * A later claim that read this call's version overwrites the token before the read back: that
 * session then takes a `$inc` too, and the version this call claimed there goes unused, a gap
 * clients resync over (docs/protocol.md §8). A session that does not exist gets no version.
 */
export async function claimRosterVersions(m: Models, orgId: string, sessionIds: readonly string[]): Promise<Map<string, number>> {
  const claimed = new Map<string, number>();
  if (sessionIds.length === 0) return claimed;
  const token = randomBytes(9).toString('hex');
  const read = await m.sessions
    .find({ _id: { $in: sessionIds }, orgId }, { rosterVersion: 1 })
    .lean<Array<Pick<SessionDoc, '_id' | 'rosterVersion'>>>();
  const byVersion = new Map<number, string[]>();
  for (const s of read) {
    const v = s.rosterVersion ?? 0;
    byVersion.set(v, [...(byVersion.get(v) ?? []), s._id]);
  }
  const claims: AnyBulkWriteOperation<SessionDoc>[] = [...byVersion].map(([v, ids]) => ({
    updateMany: {
      filter: { _id: { $in: ids }, orgId, rosterVersion: v },
      update: { $set: { rosterVersion: v + 1, rosterClaim: { token, version: v + 1 } } },
    },
  }));
  const res = await m.sessions.bulkWrite(claims, { ordered: false });
  if (res.modifiedCount === read.length) {
    for (const [v, ids] of byVersion) for (const id of ids) claimed.set(id, v + 1);
  } else {
    const back = await m.sessions
      .find({ _id: { $in: sessionIds }, orgId, 'rosterClaim.token': token }, { rosterClaim: 1 })
      .lean<Array<Pick<SessionDoc, '_id' | 'rosterClaim'>>>();
    // The version claimed, not the session's now: a check-in's $inc may have followed the claim.
    for (const s of back) if (s.rosterClaim) claimed.set(s._id, s.rosterClaim.version);
  }
  for (const s of read) {
    if (claimed.has(s._id)) continue;
    const after = await m.sessions
      .findOneAndUpdate({ _id: s._id, orgId }, { $inc: { rosterVersion: 1 } }, { returnDocument: 'after' })
      .lean<Pick<SessionDoc, 'rosterVersion'>>();
    if (after?.rosterVersion !== undefined) claimed.set(s._id, after.rosterVersion);
  }
  return claimed;
}

import { newId } from '../../shared/ids.js';
import {
  canonicalRanges,
  defaultTeacherSettings,
  meetingNaturalKey,
  type Holiday,
  type Meeting,
  type Occurrence,
  type TeacherDefaultPolicy,
  type Term,
  type TimetableRepository,
} from '../../domain/ports/timetable.js';
import { LeaseLostError, StoreConflictError } from '../../domain/ports/common.js';
import { isDuplicateKeyError, mapConflicts } from './errors.js';
import { lostLease, renewFence } from './jobs.js';
import type { Models } from './models.js';
import type { DayRangeDoc, MeetingDoc, OccurrenceDoc } from './timetable-schemas.js';

// Terms, holidays, weekly meetings, their dated occurrences and teachers' timetable settings.

const rangeOf = (d: DayRangeDoc) => ({
  id: d._id,
  orgId: d.orgId,
  name: d.name,
  startDay: d.startDay,
  endDay: d.endDay,
  createdAt: d.createdAt,
});
export const meetingOf = (d: MeetingDoc): Meeting => ({
  id: d._id,
  orgId: d.orgId,
  subjectId: d.subjectId,
  termId: d.termId,
  weekday: d.weekday,
  startTime: d.startTime,
  endTime: d.endTime,
  teacherId: d.teacherId ?? null,
  preset: (d.preset as Meeting['preset']) ?? null,
  location: d.location ? { lat: d.location.lat, lon: d.location.lon, radiusM: d.location.radiusM } : null,
  allowedIpRanges: [...(d.allowedIpRanges ?? [])],
  revision: d.revision ?? 0,
  createdAt: d.createdAt,
});
const occurrenceOf = (d: OccurrenceDoc): Occurrence => ({
  orgId: d.orgId,
  meetingId: d.meetingId,
  day: d.day,
  subjectId: d.subjectId,
  state: d.state,
  sessionId: d.sessionId ?? null,
  updatedAt: d.updatedAt,
});
const keyOf = (meetingId: string, day: string) => `${meetingId}/${day}`;

/** Reads of a meeting an edit makes before it stops waiting for other edits to settle. */
const EDIT_READS = 20;

export function timetableRepository(m: Models): TimetableRepository {
  /**
   * Runs a meeting write, a duplicate key as StoreConflictError. FerretDB 1.x names no index on an
   * insert, so which key it met is read back: 'id' whenever a meeting of the caller's id is stored,
   * else 'meeting' (another meeting with its natural key).
   */
  const conflictOf = async <T>(doc: Pick<MeetingDoc, '_id'> | null, write: () => Promise<T>): Promise<T> => {
    try {
      return await mapConflicts(write, 'meeting');
    } catch (err) {
      if (!(err instanceof StoreConflictError) || doc === null) throw err;
      const taken = (await m.meetings.countDocuments({ _id: doc._id })) > 0;
      throw new StoreConflictError(taken ? 'id' : 'meeting');
    }
  };
  return {
    async createTerm(orgId, input): Promise<Term> {
      const doc = { _id: newId(), orgId, ...input, createdAt: new Date() };
      await m.terms.create(doc);
      return rangeOf(doc);
    },
    async listTerms(orgId) {
      return (await m.terms.find({ orgId }).sort({ startDay: 1, _id: 1 }).lean()).map(rangeOf);
    },
    async deleteTerm(orgId, id) {
      const r = await m.terms.deleteOne({ orgId, _id: id });
      const meetingIds = (await m.meetings.find({ orgId, termId: id }, { _id: 1 }).lean()).map((d) => d._id);
      await m.meetings.deleteMany({ orgId, termId: id });
      // After the meetings, as deleteMeeting's: a claim that read one before is swept too.
      if (meetingIds.length > 0) await m.occurrences.deleteMany({ orgId, meetingId: { $in: meetingIds } });
      return r.deletedCount === 1;
    },
    async createHoliday(orgId, input): Promise<Holiday> {
      const doc = { _id: newId(), orgId, ...input, createdAt: new Date() };
      await m.holidays.create(doc);
      return rangeOf(doc);
    },
    async listHolidays(orgId) {
      return (await m.holidays.find({ orgId }).sort({ startDay: 1, _id: 1 }).lean()).map(rangeOf);
    },
    async deleteHoliday(orgId, id) {
      return (await m.holidays.deleteOne({ orgId, _id: id })).deletedCount === 1;
    },
    async createMeeting(orgId, input, fence) {
      const { id, ...given } = input;
      const fields = { ...given, allowedIpRanges: canonicalRanges(given.allowedIpRanges) };
      const doc: MeetingDoc = {
        _id: id ?? newId(),
        orgId,
        ...fields,
        revision: 0,
        naturalKey: meetingNaturalKey(fields),
        createdAt: new Date(),
      };
      if (fence) await renewFence(m, fence);
      await conflictOf(doc, () => m.meetings.create(doc));
      // As sessions.create's fence: no transaction holds the leases across the insert, so they
      // are read again after it; held then, no other owner's clash check ran without seeing it.
      if (fence) {
        const lost = await lostLease(m, fence);
        if (lost !== null) {
          await m.meetings.deleteOne({ orgId, _id: doc._id });
          throw new LeaseLostError(lost);
        }
      }
      return meetingOf(doc);
    },
    async getMeeting(orgId, id) {
      const d = await m.meetings.findOne({ orgId, _id: id }).lean();
      return d ? meetingOf(d) : null;
    },
    async listMeetings(orgId, subjectId) {
      const filter = subjectId === undefined ? { orgId } : { orgId, subjectId };
      return (await m.meetings.find(filter).sort({ weekday: 1, startTime: 1, _id: 1 }).lean()).map(meetingOf);
    },
    async updateMeeting(orgId, id, patch, fence) {
      const set: Record<string, unknown> = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      if (Array.isArray(set['allowedIpRanges'])) set['allowedIpRanges'] = canonicalRanges(set['allowedIpRanges'] as string[]);
      const edits = Object.keys(set).length > 0;
      if (fence) await renewFence(m, fence);
      let before: MeetingDoc | null = null;
      let after: MeetingDoc | null = null;
      for (let attempt = 1; after === null; attempt += 1) {
        const read = await m.meetings.findOne({ orgId, _id: id }).lean();
        if (!read) return null;
        if (!edits) {
          [before, after] = [read, read];
          break;
        }
        // The key is made from the fields read with it, and written only while the meeting is
        // still at that revision: an edit of other fields in between cannot leave it stale.
        const revision = read.revision ?? 0;
        const naturalKey = meetingNaturalKey({ ...meetingOf(read), ...set });
        // The revision moves in the same write: a crash after it cannot leave the edit uncounted.
        const change = { $set: { ...set, naturalKey }, $inc: { revision: 1 } };
        const filter = { orgId, _id: id, revision: read.revision === undefined ? { $exists: false } : revision };
        before = await conflictOf(null, () => m.meetings.findOneAndUpdate(filter, change, { returnDocument: 'before' }).lean());
        if (before !== null) after = { ...before, ...(set as Partial<MeetingDoc>), naturalKey, revision: revision + 1 };
        else if (attempt >= EDIT_READS) throw new Error(`meeting ${id} kept changing while edited`);
      }
      if (!fence || before === null) return meetingOf(after);
      const lost = await lostLease(m, fence);
      if (lost !== null) {
        // Put back only while the revision is still this edit's: an edit by the lock's new
        // holder, written since, moved it on and stays.
        if (edits) {
          const revision = before.revision ?? 0;
          // A field the meeting did not have goes again rather than becoming null: above all the
          // naturalKey of a meeting the previous release wrote, which the partial index would
          // then hold as null, against every other meeting without one.
          const keys = [...Object.keys(set), 'naturalKey'];
          const had = (k: string) => before[k as keyof MeetingDoc] !== undefined;
          const back = Object.fromEntries(keys.filter(had).map((k) => [k, before[k as keyof MeetingDoc]]));
          const gone = Object.fromEntries(keys.filter((k) => !had(k)).map((k) => [k, '']));
          const undo = Object.keys(gone).length > 0 ? { $set: { ...back, revision }, $unset: gone } : { $set: { ...back, revision } };
          await m.meetings.updateOne({ orgId, _id: id, revision: revision + 1 }, undo);
        }
        throw new LeaseLostError(lost);
      }
      return meetingOf(after);
    },
    async deleteMeeting(orgId, id) {
      const deleted = (await m.meetings.deleteOne({ orgId, _id: id })).deletedCount === 1;
      // After the meeting, not before: a timetable run that read it before the delete and claims
      // one of its days meanwhile leaves that claim to this sweep rather than after it. No
      // transaction on MongoDB: a crash in between leaves occurrences of no meeting, read by nothing.
      await m.occurrences.deleteMany({ orgId, meetingId: id });
      return deleted;
    },
    async listOccurrences(orgId, meetingIds, fromDay, toDay) {
      if (meetingIds.length === 0) return [];
      const docs = await m.occurrences
        .find({ orgId, meetingId: { $in: meetingIds }, day: { $gte: fromDay, $lte: toDay } })
        .sort({ day: 1, meetingId: 1 })
        .lean();
      return docs.map(occurrenceOf);
    },
    async claimOccurrence(orgId, key, now, staleBefore) {
      // A conditional upsert: an existing key that is not a stale claim does not match, and
      // the insert of a second document with its `_id` fails on the duplicate key: not claimed.
      try {
        await m.occurrences.updateOne(
          { _id: keyOf(key.meetingId, key.day), orgId, state: 'claimed', updatedAt: { $lt: staleBefore } },
          { $set: { updatedAt: now }, $setOnInsert: { meetingId: key.meetingId, day: key.day, subjectId: key.subjectId, sessionId: null } },
          { upsert: true },
        );
        return true;
      } catch (err) {
        if (isDuplicateKeyError(err)) return false;
        throw err;
      }
    },
    async completeOccurrence(orgId, meetingId, day, sessionId, now) {
      await m.occurrences.updateOne(
        { _id: keyOf(meetingId, day), orgId, state: 'claimed' },
        { $set: { state: 'created', sessionId, updatedAt: now } },
      );
    },
    async forgetOccurrence(orgId, meetingId, day, sessionId) {
      await m.occurrences.deleteOne({ _id: keyOf(meetingId, day), orgId, state: 'created', sessionId });
    },
    async releaseOccurrence(orgId, meetingId, day) {
      await m.occurrences.deleteOne({ _id: keyOf(meetingId, day), orgId, state: 'claimed' });
    },
    async cancelOccurrence(orgId, key, now) {
      const before = await m.occurrences
        .findOneAndUpdate(
          { _id: keyOf(key.meetingId, key.day), orgId },
          {
            $set: { state: 'cancelled', updatedAt: now },
            $setOnInsert: { meetingId: key.meetingId, day: key.day, subjectId: key.subjectId, sessionId: null },
          },
          { upsert: true, returnDocument: 'before' },
        )
        .lean();
      return before ? occurrenceOf(before) : null;
    },
    async getTeacherSettings(orgId, userId) {
      const d = await m.teacherSettings.findOne({ _id: `${orgId}/${userId}` }).lean();
      if (!d) return defaultTeacherSettings(orgId, userId);
      return {
        orgId,
        userId,
        timetableOpen: d.timetableOpen === 'tap' ? 'tap' : 'auto',
        defaultPolicy: withoutUnset(d.defaultPolicy ?? {}),
        lateGraceMinutes: d.lateGraceMinutes ?? null,
        codePeriodS: d.codePeriodS ?? null,
      };
    },
    async putTeacherSettings(settings) {
      const { orgId, userId, timetableOpen, lateGraceMinutes, codePeriodS } = settings;
      await m.teacherSettings.updateOne(
        { _id: `${orgId}/${userId}` },
        { $set: { orgId, userId, timetableOpen, defaultPolicy: { ...settings.defaultPolicy }, lateGraceMinutes, codePeriodS } },
        { upsert: true },
      );
      return { ...settings, defaultPolicy: { ...settings.defaultPolicy } };
    },
  };
}

/** Mongoose may hand back a field it never stored as undefined or null; the domain wants it absent. */
function withoutUnset(policy: TeacherDefaultPolicy): TeacherDefaultPolicy {
  return Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined && v !== null)) as TeacherDefaultPolicy;
}

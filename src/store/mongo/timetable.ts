import { newId } from '../../shared/ids.js';
import {
  defaultTeacherSettings,
  type Holiday,
  type Meeting,
  type Occurrence,
  type TeacherDefaultPolicy,
  type Term,
  type TimetableRepository,
} from '../../domain/ports/timetable.js';
import { LeaseLostError } from '../../domain/ports/common.js';
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
const meetingOf = (d: MeetingDoc): Meeting => ({
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

export function timetableRepository(m: Models): TimetableRepository {
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
      await m.meetings.deleteMany({ orgId, termId: id });
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
      const { id, ...fields } = input;
      const doc: MeetingDoc = { _id: id ?? newId(), orgId, ...fields, revision: 0, createdAt: new Date() };
      if (fence) await renewFence(m, fence);
      await mapConflicts(() => m.meetings.create(doc), 'id');
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
      const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      // The revision moves in the same write: a crash after it cannot leave the edit uncounted.
      const change = Object.keys(set).length > 0 ? { $set: set, $inc: { revision: 1 } } : { $set: set };
      if (!fence) {
        const d = await m.meetings.findOneAndUpdate({ orgId, _id: id }, change, { returnDocument: 'after' }).lean();
        return d ? meetingOf(d) : null;
      }
      await renewFence(m, fence);
      const before = await m.meetings.findOneAndUpdate({ orgId, _id: id }, change, { returnDocument: 'before' }).lean();
      if (!before) return null;
      const lost = await lostLease(m, fence);
      if (lost !== null) {
        // Put back only while the revision is still this edit's: an edit by the lock's new
        // holder, written since, moved it on and stays.
        if (Object.keys(set).length > 0) {
          const revision = before.revision ?? 0;
          const back = Object.fromEntries(Object.keys(set).map((k) => [k, before[k as keyof MeetingDoc] ?? null]));
          await m.meetings.updateOne({ orgId, _id: id, revision: revision + 1 }, { $set: { ...back, revision } });
        }
        throw new LeaseLostError(lost);
      }
      const d = await m.meetings.findOne({ orgId, _id: id }).lean();
      return d ? meetingOf(d) : null;
    },
    async deleteMeeting(orgId, id) {
      return (await m.meetings.deleteOne({ orgId, _id: id })).deletedCount === 1;
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

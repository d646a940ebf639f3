import { isDuplicateKeyError } from './errors.js';
import type { Models } from './models.js';

/**
 * Moves a meeting's occurrences onto another meeting of the same slot: the days the other does
 * not hold yet become its own (a session made for the day stays the day's), the rest go.
 * Bounded by one meeting's days.
 */
export async function moveOccurrences(models: Models, orgId: string, from: string, to: string): Promise<void> {
  for (const o of await models.occurrences.find({ orgId, meetingId: from }).lean()) {
    try {
      await models.occurrences.create({ ...o, _id: `${to}/${o.day}`, meetingId: to });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    await models.occurrences.deleteOne({ _id: o._id });
  }
}

/** One meeting merged into an equal one: its sessions and days go to it, then it goes. Deleted count. */
export async function mergeMeetingInto(models: Models, orgId: string, from: string, to: string): Promise<number> {
  await models.sessions.updateMany({ orgId, meetingId: from }, { $set: { meetingId: to } });
  await moveOccurrences(models, orgId, from, to);
  return (await models.meetings.deleteOne({ orgId, _id: from })).deletedCount;
}

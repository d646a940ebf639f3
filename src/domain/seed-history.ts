import { randomUUID } from 'node:crypto';
import { countStatuses, summaryCounts } from '../shared/counts.js';
import type { RecordStatus, VerificationPolicy } from './ports/common.js';
import type { AttendanceRecord } from './ports/records.js';
import type { AttendanceSession } from './ports/sessions.js';
import type { Store } from './ports/store.js';
import type { Subject } from './ports/subjects.js';
import type { DailySummary } from './ports/summaries.js';
import type { User } from './ports/users.js';
import { dayIn } from './calendar.js';

/** Whole weeks of past sessions the demo organisation starts with, before this week's. */
export const DEMO_HISTORY_WEEKS = 12;

const DAY_MS = 86_400_000;
const POLICY: VerificationPolicy = { geofence: true, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 2 };

/** mulberry32: a small seeded generator, so every first start shows the same term (tests replay with it too). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

export interface HistoryPlan {
  subject: Subject;
  /** ISO weekdays (1 = Monday) the subject meets. */
  weekdays: number[];
  /** Multiplies each student's habit; week 0 to the last week (a class that slips goes down). */
  drift: (week: number, weeks: number) => number;
}

/**
 * Writes a term of closed sessions before `now` for the demo subjects: one record per enrolled
 * student and session, and the daily summaries the summary service would have written (the same
 * counts, src/shared/counts.ts). Most students attend well; the first three are at risk
 * (around 60 %), and a subject whose drift falls slips over the term. Through the store's
 * transfer import, in one batch per collection.
 */
export async function seedHistory(
  store: Store,
  org: { id: string; timezone: string },
  students: User[],
  plans: HistoryPlan[],
  now: Date,
): Promise<{ sessions: number; records: number }> {
  const random = prng(20_260_901);
  const habit = new Map(students.map((s, i) => [s.id, i < 3 ? 0.5 + random() * 0.15 : 0.84 + random() * 0.15]));
  const today = dayIn(org.timezone, now);
  const weekday = new Date(`${today}T00:00:00Z`).getUTCDay();
  // The Monday DEMO_HISTORY_WEEKS weeks before this week's.
  const firstMonday = addDays(today, -((weekday + 6) % 7) - DEMO_HISTORY_WEEKS * 7);

  const sessions: AttendanceSession[] = [];
  const records: AttendanceRecord[] = [];
  const summaries: DailySummary[] = [];
  for (let week = 0; week <= DEMO_HISTORY_WEEKS; week++) {
    for (const [pi, plan] of plans.entries()) {
      for (const wd of plan.weekdays) {
        const day = addDays(firstMonday, week * 7 + wd - 1);
        if (day >= today) continue;
        // Mid-morning UTC stays on the same calendar day in every zone from -10 to +13 hours.
        const startsAt = new Date(`${day}T${String(9 + pi).padStart(2, '0')}:00:00Z`);
        const lateAfter = new Date(startsAt.getTime() + 600_000);
        const closesAt = new Date(startsAt.getTime() + 3_600_000);
        const session: AttendanceSession = {
          id: randomUUID(),
          orgId: org.id,
          subjectId: plan.subject.id,
          teacherId: plan.subject.teacherIds[0]!,
          status: 'closed',
          policy: POLICY,
          startsAt,
          lateAfter,
          closesAt,
          codeSecret: randomUUID(),
          day,
          createdAt: startsAt,
          updatedAt: closesAt,
          closedAt: closesAt,
          closedBy: null,
          leaseOwner: null,
          leaseUntil: null,
          rosterVersion: 0,
          room: null,
          meetingId: null,
          meetingEdit: null,
        };
        sessions.push(session);
        const statuses: RecordStatus[] = [];
        const drift = plan.drift(week, DEMO_HISTORY_WEEKS + 1);
        for (const st of students) {
          const h = habit.get(st.id)! * drift;
          const r = random();
          const status: RecordStatus = r < h * 0.9 ? 'present' : r < h ? 'late' : r < h + 0.02 ? 'excused' : 'absent';
          const attended = status === 'present' || status === 'late';
          const submittedAt = attended
            ? new Date((status === 'late' ? lateAfter : startsAt).getTime() + Math.floor(random() * 540_000))
            : null;
          records.push({
            id: randomUUID(),
            orgId: org.id,
            sessionId: session.id,
            subjectId: plan.subject.id,
            studentId: st.id,
            status,
            reason: status === 'excused' ? 'MARKED_BY_TEACHER' : status === 'absent' ? 'NO_CHECKIN' : status === 'late' ? 'LATE' : null,
            flags: status === 'late' ? ['LATE'] : [],
            distanceM: attended ? Math.round(5 + random() * 40) : null,
            location: null,
            ip: null,
            attempts: attended ? 1 : 0,
            submittedAt,
            decidedAt: submittedAt ?? closesAt,
            decidedBy: status === 'excused' ? session.teacherId : null,
            note: null,
            verification: null,
            version: 1,
            rosterVersion: 0,
            createdAt: submittedAt ?? closesAt,
            updatedAt: submittedAt ?? closesAt,
          });
          statuses.push(status);
        }
        summaries.push({ orgId: org.id, subjectId: plan.subject.id, day, ...summaryCounts(countStatuses(statuses)), updatedAt: closesAt });
      }
    }
  }
  await store.transfer.import('sessions', sessions);
  await store.transfer.import('records', records);
  await store.transfer.import('summaries', summaries);
  return { sessions: sessions.length, records: records.length };
}

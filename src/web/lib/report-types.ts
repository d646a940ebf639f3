/** Shapes of the reporting API's answers as the pages read them (docs/reports.md). */
import { dateTime } from './dom.js';

export interface Figures {
  present: number;
  late: number;
  absent: number;
  excused: number;
  total: number;
  percentage: number;
}

export interface StudentSubject extends Figures {
  subjectId: string;
  subjectCode: string;
  subjectName: string;
  lastSeenAt: string | null;
}

export interface SubjectStudent extends Figures {
  studentId: string;
  name: string;
  studentNumber: string | null;
  enrolled: boolean;
  lastSeenAt: string | null;
}

export interface TrendBucket extends Figures {
  from: string;
  to: string;
  days: number;
}

export interface SubjectRisk extends Figures {
  subjectId: string;
  subjectCode: string;
  subjectName: string;
}

export interface Dashboard {
  today: string;
  sessionsToday: Record<string, number> & { total: number };
  live: { openSessions: number; checkins: Record<string, number> };
  thisWeek: Figures & { from: string; to: string };
  lastWeek: Figures & { from: string; to: string };
}

/** A moment as a short date and time as the page's language writes them (the organisation's zone); `never` for none. */
export function seenText(iso: string | null, never: string): string {
  return iso ? dateTime(iso) : never;
}

/** The calendar day `n` days after a YYYY-MM-DD day. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** One calendar month of the organisation (`GET /reports/months`). */
export interface MonthFigures extends Figures {
  from: string;
  to: string;
}

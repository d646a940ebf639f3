/**
 * Daily summaries of a subject.
 * The conventions of every port are in ./store.ts.
 */

import type { LeaseFence } from './common.js';

export interface DailySummary {
  orgId: string;
  subjectId: string;
  day: string;
  present: number;
  late: number;
  absent: number;
  excused: number;
  total: number;
  /** (present + late) / (total - excused) * 100, rounded to one decimal; 0 when undefined. */
  percentage: number;
  updatedAt: Date;
}

export interface SummaryRepository {
  /**
   * Insert or replace the summary of (subjectId, day). With `fence` (a close's), stored only
   * while its leases hold (LeaseLostError otherwise, the summary as it was).
   */
  upsert(summary: Omit<DailySummary, 'updatedAt'>, fence?: LeaseFence): Promise<DailySummary>;
  get(orgId: string, subjectId: string, day: string): Promise<DailySummary | null>;
  /** Inclusive range, oldest first. */
  list(orgId: string, subjectId: string, fromDay: string, toDay: string): Promise<DailySummary[]>;
}

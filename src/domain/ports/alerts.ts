/**
 * Alert rules and whether each is crossed per student (docs/notifications.md).
 * The conventions of every port are in ./store.ts.
 */

import type { AlertRuleKind } from '../../shared/alerts.js';

/** Whether an alert rule is crossed for one (subject, student): what keeps an alert from repeating. */
export interface AlertState {
  orgId: string;
  ruleId: string;
  subjectId: string;
  studentId: string;
  firing: boolean;
}

export interface AlertRule {
  id: string;
  orgId: string;
  kind: AlertRuleKind;
  /** Absences in a row, lates in the window, or the fewest sessions in the window before attendance is judged. */
  count: number;
  /** low-attendance only: the percentage under which it fires. */
  thresholdPct: number | null;
  /** low-attendance and repeated-lateness: the rolling window in days. */
  windowDays: number | null;
  createdAt: Date;
}

export type NewAlertRule = Pick<AlertRule, 'kind' | 'count' | 'thresholdPct' | 'windowDays'>;

export interface AlertRepository {
  createRule(orgId: string, input: NewAlertRule): Promise<AlertRule>;
  /** Oldest first. */
  listRules(orgId: string): Promise<AlertRule[]>;
  /** Deletes the rule and its per-student states; false when there was none. */
  deleteRule(orgId: string, id: string): Promise<boolean>;
  /**
   * Compare-and-set of whether the rule is crossed for (subject, student): true only for the
   * one caller that changed it, so a crossing alerts once across nodes and a recovery re-arms.
   * No stored state means not firing.
   */
  setFiring(orgId: string, ruleId: string, subjectId: string, studentId: string, firing: boolean): Promise<boolean>;
}

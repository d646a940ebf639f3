import type { AlertRule } from '../ports/alerts.js';
import type { RecordStatus } from '../ports/common.js';

/** One settled session of the student in the subject: when it started and how it ended. */
export interface HistoryEntry {
  startsAt: Date;
  status: RecordStatus;
}

/** Whether the rule is crossed, and the value it saw (for the alert's text). */
export interface RuleOutcome {
  crossed: boolean;
  observed: number;
}

const MISSED: readonly RecordStatus[] = ['absent', 'rejected'];
const ATTENDED: readonly RecordStatus[] = ['present', 'late'];
const DAY_MS = 86_400_000;

/**
 * Evaluates one rule over a student's history in one subject (newest first). Excused and still
 * pending records neither count as missed nor as attended: an excused absence breaks a run of
 * absences and is left out of the attendance percentage.
 */
export function evaluateRule(rule: AlertRule, history: readonly HistoryEntry[], now: Date): RuleOutcome {
  const inWindow = () => {
    const since = now.getTime() - (rule.windowDays ?? 0) * DAY_MS;
    return history.filter((h) => h.startsAt.getTime() > since);
  };
  switch (rule.kind) {
    case 'consecutive-absences': {
      let run = 0;
      for (const h of history) {
        if (!MISSED.includes(h.status)) break;
        run++;
      }
      return { crossed: run >= rule.count, observed: run };
    }
    case 'low-attendance': {
      const judged = inWindow().filter((h) => MISSED.includes(h.status) || ATTENDED.includes(h.status));
      if (judged.length === 0) return { crossed: false, observed: 100 };
      const pct = Math.round((judged.filter((h) => ATTENDED.includes(h.status)).length / judged.length) * 1000) / 10;
      return { crossed: judged.length >= rule.count && pct < (rule.thresholdPct ?? 0), observed: pct };
    }
    case 'repeated-lateness': {
      const lates = inWindow().filter((h) => h.status === 'late').length;
      return { crossed: lates >= rule.count, observed: lates };
    }
  }
}

/** How far back a rule looks, in days; null when it looks at sessions, not days. */
export function lookbackDays(rule: AlertRule): number | null {
  return rule.kind === 'consecutive-absences' ? null : rule.windowDays;
}

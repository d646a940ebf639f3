import { expect } from 'chai';
import { evaluateRule, type HistoryEntry } from '../../../src/domain/alerts/alert-rules.js';
import type { AlertRule } from '../../../src/domain/ports/alerts.js';
import type { RecordStatus } from '../../../src/domain/ports/common.js';

const NOW = new Date('2026-03-20T12:00:00.000Z');
const DAY = 86_400_000;

const rule = (over: Partial<AlertRule>): AlertRule => ({
  id: 'r',
  orgId: 'o',
  kind: 'consecutive-absences',
  count: 3,
  thresholdPct: null,
  windowDays: null,
  createdAt: new Date(0),
  ...over,
});

/** Newest first: statuses[0] was yesterday, statuses[1] the day before, ... */
const daily = (...statuses: RecordStatus[]): HistoryEntry[] =>
  statuses.map((status, i) => ({ startsAt: new Date(NOW.getTime() - (i + 1) * DAY), status }));

describe('alert rules (evaluation with an injected clock)', () => {
  describe('consecutive absences', () => {
    const r = rule({ kind: 'consecutive-absences', count: 3 });

    it('crosses when the newest N settled sessions were missed (absent or rejected)', () => {
      expect(evaluateRule(r, daily('absent', 'rejected', 'absent', 'present'), NOW)).to.deep.equal({ crossed: true, observed: 3 });
    });

    it('does not cross below N, and an attended or excused session breaks the run', () => {
      expect(evaluateRule(r, daily('absent', 'absent'), NOW).crossed).to.equal(false);
      expect(evaluateRule(r, daily('absent', 'absent', 'late', 'absent'), NOW)).to.deep.equal({ crossed: false, observed: 2 });
      expect(evaluateRule(r, daily('absent', 'excused', 'absent', 'absent'), NOW).crossed).to.equal(false);
    });
  });

  describe('attendance under a threshold over a rolling window', () => {
    const r = rule({ kind: 'low-attendance', count: 4, thresholdPct: 75, windowDays: 7 });

    it('crosses under the threshold once enough sessions were held in the window', () => {
      // 2 attended of 4 judged (the excused one is left out): 50 %.
      expect(evaluateRule(r, daily('absent', 'present', 'excused', 'absent', 'late'), NOW)).to.deep.equal({ crossed: true, observed: 50 });
    });

    it('does not cross at the threshold, nor with too few sessions', () => {
      expect(evaluateRule(r, daily('absent', 'present', 'present', 'present'), NOW)).to.deep.equal({ crossed: false, observed: 75 });
      expect(evaluateRule(r, daily('absent', 'absent', 'present'), NOW).crossed).to.equal(false);
    });

    it('only counts sessions inside the window, which moves with the clock', () => {
      const history = daily('present', 'present', 'absent', 'absent', 'absent', 'absent', 'present', 'present');
      // Window of 7 days at NOW: days 1..6 are in (present, present, absent x4): 33.3 %.
      expect(evaluateRule(r, history, NOW)).to.deep.equal({ crossed: true, observed: 33.3 });
      // Three days later only days 1..3 are in the window: 3 sessions, too few to judge.
      expect(evaluateRule(r, history, new Date(NOW.getTime() + 3 * DAY)).crossed).to.equal(false);
    });
  });

  describe('repeated lateness', () => {
    const r = rule({ kind: 'repeated-lateness', count: 3, windowDays: 10 });

    it('crosses at N lates in the window and not when the oldest falls out', () => {
      const history = daily('late', 'present', 'late', 'absent', 'late');
      expect(evaluateRule(r, history, NOW)).to.deep.equal({ crossed: true, observed: 3 });
      // Six days later the late of day 5 is 11 days old.
      expect(evaluateRule(r, history, new Date(NOW.getTime() + 6 * DAY))).to.deep.equal({ crossed: false, observed: 2 });
    });
  });
});

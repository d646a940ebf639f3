import { expect } from 'chai';
import { addDays, dayIn, isoWeekday } from '../../../src/domain/calendar.js';
import { localDay, ORG } from '../../docs-client/deployment.js';

// The docs client names "tomorrow" for the server's timetable (organisation in Europe/Paris):
// its day must be the server's today plus one at any hour, the nights of a clock change included.
describe("the docs client's days in the organisation's zone", () => {
  const cases: Array<[string, string]> = [
    ['half a second before midnight in Paris', '2026-12-05T22:59:59.500Z'],
    ['half past midnight on the day the clocks go back (25 hours)', '2026-10-24T22:30:00Z'],
    ['half past eleven the night before the clocks go forward (a day of 23 hours follows)', '2026-03-28T22:30:00Z'],
    ['half past midnight on the day the clocks go forward', '2026-03-28T23:30:00Z'],
  ];
  for (const [when, iso] of cases) {
    it(`${when}: yesterday, tomorrow and in 30 days are the server's calendar days`, () => {
      const now = new Date(iso);
      const today = dayIn(ORG.timezone, now);
      for (const days of [-1, 1, 30]) {
        const expected = addDays(today, days);
        expect(localDay(days, now), `${days} from ${today}`).to.deep.equal({ day: expected, weekday: isoWeekday(expected) });
      }
    });
  }
});

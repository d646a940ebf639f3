import { expect } from 'chai';
import { evaluateTime, validateWindow, type TimeWindow } from '../../../src/domain/checks/time-window.js';

const t = (hhmmss: string) => new Date(`2025-03-03T${hhmmss}Z`);
const ms = (d: Date, delta: number) => new Date(d.getTime() + delta);

describe('time window', () => {
  const window: TimeWindow = { startsAt: t('09:00:00'), lateAfter: t('09:10:00'), closesAt: t('10:00:00') };

  describe('evaluateTime', () => {
    it('is early before startsAt and on time from startsAt (inclusive)', () => {
      expect(evaluateTime(window, ms(window.startsAt, -1))).to.equal('early');
      expect(evaluateTime(window, window.startsAt)).to.equal('on-time');
    });

    it('is on time at lateAfter and late just after it', () => {
      expect(evaluateTime(window, window.lateAfter)).to.equal('on-time');
      expect(evaluateTime(window, ms(window.lateAfter, 1))).to.equal('late');
    });

    it('is late until just before closesAt and closed from closesAt', () => {
      expect(evaluateTime(window, ms(window.closesAt, -1))).to.equal('late');
      expect(evaluateTime(window, window.closesAt)).to.equal('closed');
      expect(evaluateTime(window, t('23:00:00'))).to.equal('closed');
    });

    it('never says late when lateAfter equals closesAt', () => {
      const noLate = { ...window, lateAfter: window.closesAt };
      expect(evaluateTime(noLate, ms(window.closesAt, -1))).to.equal('on-time');
      expect(evaluateTime(noLate, window.closesAt)).to.equal('closed');
    });

    it('is late right after startsAt when lateAfter equals startsAt', () => {
      const strict = { ...window, lateAfter: window.startsAt };
      expect(evaluateTime(strict, window.startsAt)).to.equal('on-time');
      expect(evaluateTime(strict, ms(window.startsAt, 1))).to.equal('late');
    });

    it('throws on an invalid date', () => {
      expect(() => evaluateTime(window, new Date(Number.NaN))).to.throw(RangeError);
    });
  });

  describe('validateWindow', () => {
    const codes = (w: TimeWindow, opts?: Parameters<typeof validateWindow>[1]) => validateWindow(w, opts).map((p) => p.code);

    it('accepts a sound window, including the edge cases', () => {
      expect(validateWindow(window)).to.deep.equal([]);
      expect(validateWindow({ ...window, lateAfter: window.startsAt })).to.deep.equal([]);
      expect(validateWindow({ ...window, lateAfter: window.closesAt })).to.deep.equal([]);
      const day = { startsAt: window.startsAt, lateAfter: window.startsAt, closesAt: ms(window.startsAt, 86_400_000) };
      expect(validateWindow(day)).to.deep.equal([]);
    });

    it('reports lateAfter before startsAt or after closesAt', () => {
      const before = validateWindow({ ...window, lateAfter: ms(window.startsAt, -1) });
      expect(before).to.have.length(1);
      expect(before[0]).to.include({ field: 'lateAfter', code: 'LATE_BEFORE_START' });
      expect(codes({ ...window, lateAfter: ms(window.closesAt, 1) })).to.deep.equal(['LATE_AFTER_CLOSE']);
    });

    it('reports closesAt not after startsAt', () => {
      const same = { startsAt: window.startsAt, lateAfter: window.startsAt, closesAt: window.startsAt };
      expect(codes(same)).to.deep.equal(['CLOSES_NOT_AFTER_START']);
      const inverted = { startsAt: window.closesAt, lateAfter: window.closesAt, closesAt: window.startsAt };
      expect(codes(inverted)).to.include('CLOSES_NOT_AFTER_START');
    });

    it('reports a window longer than 24 h, or than maxDurationMs', () => {
      const long = { ...window, closesAt: ms(window.startsAt, 86_400_001) };
      expect(codes(long)).to.deep.equal(['TOO_LONG']);
      expect(codes(window, { maxDurationMs: 30 * 60_000 })).to.deep.equal(['TOO_LONG']);
      expect(codes(window, { maxDurationMs: 60 * 60_000 })).to.deep.equal([]);
    });

    it('reports a window that has already closed when now is given', () => {
      expect(codes(window, { now: window.closesAt })).to.deep.equal(['ALREADY_CLOSED']);
      expect(codes(window, { now: ms(window.closesAt, -1) })).to.deep.equal([]);
      expect(codes(window)).to.deep.equal([]);
    });

    it('reports every invalid date and nothing else', () => {
      const bad = { ...window, startsAt: new Date(Number.NaN), closesAt: new Date('nope') };
      expect(validateWindow(bad).map((p) => [p.field, p.code])).to.deep.equal([
        ['startsAt', 'INVALID_DATE'],
        ['closesAt', 'INVALID_DATE'],
      ]);
    });
  });
});

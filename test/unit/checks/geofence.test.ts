import { expect } from 'chai';
import { EARTH_RADIUS_M, evaluateGeofence, haversineM } from '../../../src/domain/checks/geofence.js';
import type { ClassroomLocation } from '../../../src/domain/ports/subjects.js';

const DEG = 180 / Math.PI;

/** A point `metres` due north of `from` (along a meridian the spherical distance is exact). */
function north(from: { lat: number; lon: number }, metres: number) {
  return { lat: from.lat + (metres / EARTH_RADIUS_M) * DEG, lon: from.lon };
}

describe('geofence', () => {
  describe('haversineM', () => {
    it('is zero for the same point', () => {
      expect(haversineM({ lat: 48.8566, lon: 2.3522 }, { lat: 48.8566, lon: 2.3522 })).to.equal(0);
    });

    it('measures two points 1 km apart on a meridian', () => {
      const a = { lat: 52.52, lon: 13.405 };
      expect(haversineM(a, north(a, 1000))).to.be.closeTo(1000, 1e-6);
    });

    it('measures one degree of longitude on the equator', () => {
      const expected = (EARTH_RADIUS_M * Math.PI) / 180; // 111 195.08 m
      expect(haversineM({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).to.be.closeTo(expected, 1e-6);
      expect(expected).to.be.closeTo(111_195.08, 0.01);
    });

    it('gives half the circumference for antipodal points', () => {
      const half = Math.PI * EARTH_RADIUS_M;
      expect(haversineM({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).to.be.closeTo(half, 1e-6);
      expect(haversineM({ lat: 45, lon: 10 }, { lat: -45, lon: -170 })).to.be.closeTo(half, 1e-3);
      expect(haversineM({ lat: 90, lon: 0 }, { lat: -90, lon: 0 })).to.be.closeTo(half, 1e-6);
    });

    it('is symmetric and crosses the antimeridian the short way', () => {
      const a = { lat: 10, lon: 179.9 };
      const b = { lat: 10, lon: -179.9 };
      expect(haversineM(a, b)).to.equal(haversineM(b, a));
      expect(haversineM(a, b)).to.be.lessThan(25_000);
    });
  });

  describe('evaluateGeofence', () => {
    const room: ClassroomLocation = { lat: 52.52, lon: 13.405, radiusM: 50 };
    const at = (d: number, accuracyM: number) => ({ ...north(room, d), accuracyM });

    it('passes a precise fix at the centre', () => {
      expect(evaluateGeofence(room, at(0, 5))).to.deep.equal({ outcome: 'pass', reason: 'GEOFENCE_OK', distanceM: 0 });
    });

    it('passes a student inside with a typical 10-30 m indoor fix', () => {
      for (const [d, a] of [
        [5, 10],
        [20, 30],
        [35, 25],
        [45, 30],
      ] as const) {
        const r = evaluateGeofence(room, at(d, a));
        expect(r.outcome, `d=${d} a=${a}`).to.equal('pass');
        expect(r.reason).to.equal('GEOFENCE_OK');
      }
    });

    it('passes on the practical rule up to an accuracy equal to the radius', () => {
      expect(evaluateGeofence(room, at(49.9, 50)).outcome).to.equal('pass');
      expect(evaluateGeofence(room, at(0, 50.1)).outcome).to.equal('review');
    });

    it('in a small room, passes a precise fix and reviews one coarser than the room', () => {
      const small = { ...room, radiusM: 20 };
      expect(evaluateGeofence(small, at(2, 9)).outcome).to.equal('pass'); // 2 + 18 <= 20
      expect(evaluateGeofence(small, at(15, 25)).outcome).to.equal('review'); // a > r, 15 + 50 > 20
    });

    it('fails when the whole uncertainty circle is outside', () => {
      expect(evaluateGeofence(room, at(300, 20))).to.deep.equal({
        outcome: 'fail',
        reason: 'GEOFENCE_OUTSIDE',
        distanceM: 300,
      });
      expect(evaluateGeofence(room, at(110.1, 30)).outcome).to.equal('fail'); // 110.1 - 60 > 50
    });

    it('sends ambiguous fixes to review', () => {
      for (const [d, a] of [
        [60, 10],
        [109.9, 30],
        [10, 65],
        [50.1, 1],
      ] as const) {
        const r = evaluateGeofence(room, at(d, a));
        expect(r.outcome, `d=${d} a=${a}`).to.equal('review');
        expect(r.reason).to.equal('GEOFENCE_IMPRECISE');
      }
    });

    it('always reviews an accuracy above maxAccuracyM, even far away', () => {
      expect(evaluateGeofence(room, at(0, 600)).outcome).to.equal('review');
      expect(evaluateGeofence(room, at(1_000_000, 501)).outcome).to.equal('review');
      expect(evaluateGeofence(room, at(5000, 500)).outcome).to.equal('fail');
      expect(evaluateGeofence(room, at(5000, 150)).outcome).to.equal('fail');
      expect(evaluateGeofence(room, at(5000, 150), { maxAccuracyM: 100 })).to.deep.include({
        outcome: 'review',
        reason: 'GEOFENCE_IMPRECISE',
      });
    });

    it('rounds the distance to 0.1 m', () => {
      expect(evaluateGeofence(room, at(123.456, 5)).distanceM).to.equal(123.5);
      expect(evaluateGeofence(room, at(123.44, 5)).distanceM).to.equal(123.4);
    });

    it('reviews instead of deciding on NaN, infinite or negative numbers', () => {
      const bad = [
        evaluateGeofence(room, { lat: Number.NaN, lon: 13.405, accuracyM: 5 }),
        evaluateGeofence(room, { lat: 52.52, lon: Number.NaN, accuracyM: 5 }),
        evaluateGeofence(room, { lat: 52.52, lon: 13.405, accuracyM: Number.NaN }),
        evaluateGeofence(room, { lat: 52.52, lon: 13.405, accuracyM: Number.POSITIVE_INFINITY }),
        evaluateGeofence(room, { lat: 52.52, lon: 13.405, accuracyM: -1 }),
        evaluateGeofence({ ...room, radiusM: Number.NaN }, at(0, 5)),
        evaluateGeofence({ ...room, lat: Number.NaN }, at(0, 5)),
      ];
      for (const r of bad) {
        expect(r.outcome).to.equal('review');
        expect(r.reason).to.equal('GEOFENCE_IMPRECISE');
        expect(r.distanceM).to.satisfy(Number.isNaN);
      }
    });
  });
});

import { expect } from 'chai';
import { haversineM } from '../../../src/domain/checks/geofence.js';
import { PeerIndex, PeerLookups } from '../../../src/domain/checks/peer-index.js';
import { DUPLICATE_FIX_M, proxySignals, type CheckinSignals, type Peer } from '../../../src/domain/checks/proxy-signals.js';
import { prng } from '../../../src/domain/seed-history.js';
import type { ReasonCode } from '../../../src/shared/reasons.js';

/**
 * The rule as it stood before the index: one pass over the session's other records (and the
 * check-ins ahead in the batch), the student's own skipped. The index must answer the same.
 */
function linearFlags(current: CheckinSignals, others: readonly Peer[]): ReasonCode[] {
  let shared = false;
  let duplicate = false;
  const fix = current.location;
  for (const r of others) {
    if (r.studentId === current.studentId) continue;
    const same =
      current.deviceId && r.deviceId
        ? current.deviceId === r.deviceId
        : Boolean(current.ip && current.userAgent && current.ip === r.ip && current.userAgent === r.userAgent);
    if (same) shared = true;
    if (fix && r.location && haversineM(r.location, fix) < DUPLICATE_FIX_M) duplicate = true;
  }
  const flags: ReasonCode[] = [];
  if (shared) flags.push('SHARED_DEVICE');
  if (fix && duplicate) flags.push('LOCATION_DUPLICATE');
  return flags;
}

// Rooms near the equator, at mid latitude, near a pole and across the antimeridian.
const ROOMS = [
  { lat: 0.0001, lon: 32.58 },
  { lat: 51.5246, lon: -0.134 },
  { lat: 89.9999, lon: 10 },
  { lat: -16.5, lon: 179.99999 },
];

function randomPeer(r: () => number, studentIds: number): Peer & { accuracyM: number } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const room = pick(ROOMS);
  // Within a few metres of one point: many pairs fall either side of DUPLICATE_FIX_M.
  const spread = pick([0.000002, 0.00001, 0.00003]);
  return {
    studentId: `s${Math.floor(r() * studentIds)}`,
    deviceId: pick([null, '', 'd1', 'd2', 'd3']),
    ip: pick([null, '10.0.0.1', '10.0.0.2']),
    userAgent: pick([null, 'Phone/1', 'Phone/2']),
    location: r() < 0.15 ? null : { lat: room.lat + (r() - 0.5) * spread, lon: room.lon + (r() - 0.5) * spread },
    accuracyM: 10,
  };
}

function asCheckin(p: Peer & { accuracyM: number }): CheckinSignals {
  return {
    studentId: p.studentId,
    deviceId: p.deviceId ?? null,
    ip: p.ip ?? null,
    userAgent: p.userAgent ?? null,
    location: p.location ? { ...p.location, accuracyM: p.accuracyM, timestamp: new Date(0) } : null,
  };
}

describe('PeerIndex answers as a pass over every peer would', () => {
  it('on random sessions, with replaced and deleted records and check-ins ahead in the batch', () => {
    const flagged = { shared: 0, duplicate: 0, none: 0 };
    for (let seed = 1; seed <= 150; seed++) {
      const r = prng(seed);
      const stored = new PeerIndex();
      const truth = new Map<string, Peer>();
      const studentIds = 5 + Math.floor(r() * 40);
      for (let op = 0; op < 80; op++) {
        const id = `rec${Math.floor(r() * 30)}`;
        if (r() < 0.15) {
          stored.delete(id);
          truth.delete(id);
        } else {
          const p = randomPeer(r, studentIds);
          stored.set(id, p);
          truth.set(id, p);
        }
      }
      expect(stored.size).to.equal(truth.size);
      // A batch: each check-in is compared with the stored records and those ahead of it.
      const ahead = new PeerIndex();
      const aheadList: Peer[] = [];
      const lookup = new PeerLookups([stored, ahead]);
      for (let k = 0; k < 25; k++) {
        const c = asCheckin(randomPeer(r, studentIds));
        const expected = linearFlags(c, [...truth.values(), ...aheadList]);
        const got = proxySignals(c, lookup, null).filter((f) => f === 'SHARED_DEVICE' || f === 'LOCATION_DUPLICATE');
        expect(got, `seed ${seed}, check-in ${k}: ${JSON.stringify(c)}`).to.deep.equal(expected);
        if (expected.includes('SHARED_DEVICE')) flagged.shared++;
        if (expected.includes('LOCATION_DUPLICATE')) flagged.duplicate++;
        if (expected.length === 0) flagged.none++;
        ahead.set(String(k), c);
        aheadList.push(c);
      }
    }
    // The cases are mixed, not all one answer.
    expect(flagged.shared).to.be.greaterThan(100);
    expect(flagged.duplicate).to.be.greaterThan(100);
    expect(flagged.none).to.be.greaterThan(100);
  });

  it('finds a fix just under DUPLICATE_FIX_M away in every direction, and none just over', () => {
    for (const room of ROOMS) {
      for (let bearing = 0; bearing < 360; bearing += 15) {
        const index = new PeerIndex();
        const rad = (bearing * Math.PI) / 180;
        // Metres to degrees (small offsets), then measured by the same haversine as the rule.
        const metresPerDegLat = 111_195;
        const metresPerDegLon = 111_195 * Math.cos((room.lat * Math.PI) / 180);
        const at = (m: number) => ({
          lat: room.lat + (m * Math.cos(rad)) / metresPerDegLat,
          lon: room.lon + (m * Math.sin(rad)) / metresPerDegLon,
        });
        index.set('near', { studentId: 'a', location: at(0.999) });
        index.set('far', { studentId: 'b', location: at(-1.001) });
        const me: CheckinSignals = {
          studentId: 'me',
          deviceId: null,
          ip: null,
          userAgent: null,
          location: { ...room, accuracyM: 10, timestamp: new Date(0) },
        };
        const expected = linearFlags(me, [
          { studentId: 'a', location: at(0.999) },
          { studentId: 'b', location: at(-1.001) },
        ]);
        expect(index.hasDuplicateFix(me), `${room.lat},${room.lon} bearing ${bearing}`).to.equal(expected.includes('LOCATION_DUPLICATE'));
      }
    }
  });

  it("never counts the student's own earlier record", () => {
    const index = new PeerIndex();
    const fix = { lat: 51.5, lon: -0.13 };
    index.set('mine', { studentId: 'me', deviceId: 'd', ip: '10.0.0.1', userAgent: 'P', location: fix });
    const me: CheckinSignals = {
      studentId: 'me',
      deviceId: 'd',
      ip: '10.0.0.1',
      userAgent: 'P',
      location: { ...fix, accuracyM: 9, timestamp: new Date(0) },
    };
    expect(proxySignals(me, index, null)).to.deep.equal([]);
    index.set('theirs', { studentId: 'other', deviceId: 'd', ip: null, userAgent: null, location: null });
    expect(proxySignals(me, index, null)).to.deep.equal(['SHARED_DEVICE']);
    index.delete('theirs');
    expect(proxySignals(me, index, null)).to.deep.equal([]);
  });

  it('keeps apart fixes about 1.5 km away whose cells share a map key (10 bits an axis), and finds the near one among them', () => {
    // Cells are 1.5 m across and a key keeps 10 bits of each axis: 1,024 cells (1,536 m) north of
    // the equator's point, the z cell wraps to the same key.
    const cellM = DUPLICATE_FIX_M * 1.5;
    const metresPerDegLat = 111_195;
    let shared = 0;
    for (const lon of [0, 32.58, -73.9, 179.9999]) {
      for (const shift of [-0.4, 0, 0.4]) {
        const base = { lat: 0.00001, lon };
        const far = { lat: base.lat + ((1024 + shift) * cellM) / metresPerDegLat, lon };
        const index = new PeerIndex();
        index.set('far', { studentId: 'far', location: far });
        const me: CheckinSignals = {
          studentId: 'me',
          deviceId: null,
          ip: null,
          userAgent: null,
          location: { ...base, accuracyM: 10, timestamp: new Date(0) },
        };
        const cells = (index as unknown as { cells: Map<number, unknown> }).cells;
        const probe = new PeerIndex();
        probe.set('me', { studentId: 'me', location: base });
        const mine = [...(probe as unknown as { cells: Map<number, unknown> }).cells.keys()][0];
        if (cells.has(mine!)) shared++;
        expect(index.hasDuplicateFix(me), `far only, lon ${lon} shift ${shift}`).to.equal(false);
        // The near peer joins the far one's cell list when the keys are shared.
        index.set('near', { studentId: 'near', location: { lat: base.lat + 0.5 / metresPerDegLat, lon } });
        expect(index.hasDuplicateFix(me), `near too, lon ${lon} shift ${shift}`).to.equal(true);
        index.delete('near');
        expect(index.hasDuplicateFix(me), `near gone, lon ${lon} shift ${shift}`).to.equal(false);
      }
    }
    // The case is real: most of these fixes share the point's key.
    expect(shared).to.be.greaterThan(6);
  });
});

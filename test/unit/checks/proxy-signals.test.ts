import { expect } from 'chai';
import { proxySignals, type CheckinSignals, type Peer } from '../../../src/domain/checks/proxy-signals.js';
import { PeerIndex } from '../../../src/domain/checks/peer-index.js';
import type { AttendanceRecord, CheckinLocation } from '../../../src/domain/ports/records.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const ROOM = { lat: 51.5246, lon: -0.134 };
const fix = (dLat: number, accuracyM = 12.4, at = T0): CheckinLocation => ({
  lat: ROOM.lat + dLat,
  lon: ROOM.lon,
  accuracyM,
  timestamp: new Date(at),
});

function record(studentId: string, over: Partial<AttendanceRecord> = {}): AttendanceRecord {
  return {
    id: `r-${studentId}`,
    orgId: 'o',
    sessionId: 's',
    subjectId: 'sub',
    studentId,
    status: 'present',
    reason: null,
    flags: [],
    distanceM: null,
    location: null,
    ip: null,
    attempts: 1,
    submittedAt: new Date(T0),
    decidedAt: null,
    decidedBy: null,
    note: null,
    verification: null,
    version: 1,
    rosterVersion: 1,
    createdAt: new Date(T0),
    updatedAt: new Date(T0),
    ...over,
  };
}

function signals(over: Partial<CheckinSignals> = {}): CheckinSignals {
  return { studentId: 'me', location: fix(0.0001), deviceId: 'device-me-1', ip: '10.0.0.7', userAgent: 'Phone/1', ...over };
}

/** The session's other records as the group commit hands them over: indexed. */
function peers(list: readonly Peer[]): PeerIndex {
  const index = new PeerIndex();
  list.forEach((p, i) => index.set(String(i), p));
  return index;
}

describe('proxy signals (flags, never refusals)', () => {
  it('an honest check-in among others gives no flag', () => {
    const others = [record('a', { location: fix(0.0002), deviceId: 'device-a-1', ip: '10.0.0.7', userAgent: 'Phone/1' })];
    expect(proxySignals(signals(), peers(others), null)).to.deep.equal([]);
  });

  it('SHARED_DEVICE: the same page device id as another student, but not the student themself', () => {
    expect(proxySignals(signals(), peers([record('a', { deviceId: 'device-me-1' })]), null)).to.deep.equal(['SHARED_DEVICE']);
    expect(proxySignals(signals(), peers([record('me', { deviceId: 'device-me-1' })]), null)).to.deep.equal([]);
  });

  it('SHARED_DEVICE without device ids: same address and same user agent; one school address alone is not enough', () => {
    const bare = signals({ deviceId: null });
    expect(proxySignals(bare, peers([record('a', { ip: '10.0.0.7', userAgent: 'Phone/1' })]), null)).to.deep.equal(['SHARED_DEVICE']);
    expect(proxySignals(bare, peers([record('a', { ip: '10.0.0.7', userAgent: 'Phone/2' })]), null)).to.deep.equal([]);
    expect(proxySignals(bare, peers([record('a', { ip: '10.0.0.7' })]), null)).to.deep.equal([]);
  });

  it("LOCATION_DUPLICATE: a fix within a metre of another student's", () => {
    const mine = fix(0.0001);
    expect(proxySignals(signals({ location: mine }), peers([record('a', { location: { ...mine, accuracyM: 30 } })]), null)).to.deep.equal([
      'LOCATION_DUPLICATE',
    ]);
    // 0.00002° of latitude is about 2.2 m: two phones side by side.
    expect(proxySignals(signals({ location: mine }), peers([record('a', { location: fix(0.00012) })]), null)).to.deep.equal([]);
  });

  it('LOCATION_JUMP: faster than 50 m/s since the previous attempt, ignoring short hops', () => {
    const far = record('me', { status: 'rejected', location: fix(0.05, 12.4, T0 - 60_000) }); // ~5.6 km a minute before
    expect(proxySignals(signals(), peers([]), far)).to.deep.equal(['LOCATION_JUMP']);
    const walked = record('me', { status: 'rejected', location: fix(0.003, 12.4, T0 - 600_000) }); // ~330 m in 10 minutes
    expect(proxySignals(signals(), peers([]), walked)).to.deep.equal([]);
    const hop = record('me', { status: 'rejected', location: fix(0.001, 12.4, T0) }); // ~100 m at the same instant: GPS noise
    expect(proxySignals(signals(), peers([]), hop)).to.deep.equal([]);
  });

  it('LOCATION_MOCK_SUSPECTED: an accuracy of a metre or less', () => {
    expect(proxySignals(signals({ location: fix(0.0001, 1) }), peers([]), null)).to.deep.equal(['LOCATION_MOCK_SUSPECTED']);
    expect(proxySignals(signals({ location: fix(0.0001, 3.9) }), peers([]), null)).to.deep.equal([]);
  });
});

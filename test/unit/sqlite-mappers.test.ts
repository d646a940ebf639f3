import { expect } from 'chai';
import { audit } from '../../src/store/sqlite/audit-mappers.js';
import { records } from '../../src/store/sqlite/record-mappers.js';
import type { AuditEntry } from '../../src/domain/ports/audit.js';
import type { AttendanceRecord } from '../../src/domain/ports/records.js';

const at = new Date(Date.UTC(2026, 2, 2, 9));

const record: AttendanceRecord = {
  id: 'r',
  orgId: 'o',
  sessionId: 's',
  subjectId: 'sub',
  studentId: 'st',
  status: 'pending',
  reason: 'GEOFENCE_IMPRECISE',
  flags: ['GEOFENCE_IMPRECISE', 'LATE'],
  distanceM: 12,
  location: null,
  ip: null,
  attempts: 1,
  submittedAt: at,
  decidedAt: null,
  decidedBy: null,
  note: null,
  verification: { state: 'done', band: 'uncertain', distance: 0.4, flags: ['FACE_UNCERTAIN'], reason: 'FACE_UNCERTAIN', completedAt: at },
  version: 1,
  rosterVersion: 1,
  createdAt: at,
  updatedAt: at,
};

const entry: AuditEntry = {
  id: 'a',
  orgId: 'o',
  entityType: 'record',
  entityId: 'r',
  sessionId: 's',
  actorId: 'u',
  action: 'record.mark',
  from: null,
  to: { status: 'present' },
  reason: null,
  ip: null,
  at,
};

describe('sqlite row mappers', () => {
  it('read back what they wrote', () => {
    expect(records.fromRow(records.toRow(record))).to.deep.equal(record);
    expect(audit.fromRow(audit.toRow(entry))).to.deep.equal(entry);
  });

  it('refuse a stored word outside its vocabulary, naming the column', () => {
    const row = records.toRow(record);
    expect(() => records.fromRow({ ...row, status: 'maybe' })).to.throw(/records\.status: maybe/);
    expect(() => records.fromRow({ ...row, reason: 'FINE' })).to.throw(/records\.reason: FINE/);
    expect(() => records.fromRow({ ...row, flags: JSON.stringify(['LATE', 'ODD']) })).to.throw(/records\.flags: ODD/);
    const verification = JSON.stringify({ ...JSON.parse(row.verification as string), flags: ['ODD'] });
    expect(() => records.fromRow({ ...row, verification })).to.throw(/records\.verification\.flags: ODD/);
    expect(() => audit.fromRow({ ...audit.toRow(entry), action: 'record.override' })).to.throw(/audit\.action: record\.override/);
    expect(() => audit.fromRow({ ...audit.toRow(entry), entity_type: 'course' })).to.throw(/audit\.entity_type: course/);
  });
});

import { expect } from 'chai';
import type { AuditEntry } from '../../../src/domain/ports/audit.js';
import { insertedRecord } from '../../../src/store/sqlite/attendance.js';
import { audit, auditValues } from '../../../src/store/sqlite/audit-mappers.js';
import { records, recordValues } from '../../../src/store/sqlite/record-mappers.js';
import { newRecord } from '../../contract/fixtures.js';

// The record writer binds its two inserts by position (recordValues, auditValues): each value
// must sit at its column's place in `columns`, as toRow maps it by name. A column added to
// `columns` and toRow but not to the value list, or two values swapped, fails here rather than
// storing a check-in's fields in each other's columns.

describe('SQLite rows bound by position', function () {
  const at = new Date('2026-03-02T09:00:03.250Z');
  const fixAt = new Date('2026-03-02T09:00:01.000Z');
  // Every instant of the record differs, so that two date values swapped are caught too.
  const submittedAt = new Date('2026-03-02T09:00:02.500Z');
  const decidedAt = new Date('2026-03-02T09:00:04.125Z');
  const updatedAt = new Date('2026-03-02T09:00:05.750Z');

  const everyField = {
    ...insertedRecord(
      'org-1',
      newRecord('se-1', 'su-1', 'st-1', {
        status: 'pending',
        reason: 'SELFIE_PENDING',
        flags: ['GEOFENCE_IMPRECISE', 'SHARED_DEVICE'],
        distanceM: 12.5,
        location: { lat: 51.5, lon: -0.125, accuracyM: 20, timestamp: fixAt },
        ip: '10.0.0.7',
        attempts: 2,
        submittedAt,
        decidedAt,
        decidedBy: 'te-1',
        note: 'a note',
        correctionReason: 'late bus',
        absenceCategory: 'medical',
        deviceId: 'device-0001',
        userAgent: 'Mozilla/5.0 (test)',
        verification: { state: 'queued', band: null, distance: null, flags: [], reason: null, completedAt: null },
      }),
      'rec-1',
      7,
      at,
    ),
    updatedAt,
  };
  const fewest = insertedRecord(
    'org-1',
    newRecord('se-1', 'su-1', 'st-2', { status: 'present', submittedAt: at, decidedAt: at }),
    'rec-2',
    8,
    at,
  );

  for (const [name, record] of [
    ['every field', everyField],
    ['the fewest fields', fewest],
  ] as const) {
    it(`puts a record's values (${name}) at their columns' places, as toRow maps them`, function () {
      const row = records.toRow(record);
      expect(records.columns).to.have.members(Object.keys(row));
      expect(recordValues(record)).to.deep.equal(records.columns.map((c) => row[c]));
    });
  }

  it("puts an audit entry's values at their columns' places, orphaned (last) left to the caller", function () {
    const entry: AuditEntry = {
      id: 'au-1',
      orgId: 'org-1',
      entityType: 'record',
      entityId: 'rec-1',
      sessionId: 'se-1',
      actorId: 'st-1',
      action: 'checkin.submit',
      from: { status: 'pending' },
      to: { status: 'present', flags: [] },
      reason: 'ACCEPTED_BY_TEACHER',
      ip: '10.0.0.7',
      at,
    };
    const row = audit.toRow(entry);
    expect(audit.columns.at(-1)).to.equal('orphaned');
    expect(audit.columns.slice(0, -1)).to.have.members(Object.keys(row));
    expect(auditValues(entry)).to.deep.equal(audit.columns.slice(0, -1).map((c) => row[c]));
  });
});

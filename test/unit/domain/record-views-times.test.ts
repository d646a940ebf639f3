import { expect } from 'chai';
import type { AttendanceRecord } from '../../../src/domain/ports/records.js';
import { toCheckinView, toRosterEntry } from '../../../src/domain/sessions/views.js';
import { publishRecordChange } from '../../../src/domain/checkins/record-change.js';
import type { DomainDeps } from '../../../src/domain/deps.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { AttendanceSession } from '../../../src/domain/ports/sessions.js';
import { newRecord } from '../../contract/fixtures.js';

// A record's submission and decision times as the acknowledgement and the roster show them: a
// check-in decided on arrival holds one Date in both, and its text is made once for both.

describe("record views' submission and decision times", function () {
  const submitted = new Date('2026-03-02T09:00:03.250Z');
  const student = { id: 'st-1', name: 'Ada', studentNumber: null };
  const record = (times: Pick<AttendanceRecord, 'submittedAt' | 'decidedAt'>): AttendanceRecord => ({
    ...newRecord('se-1', 'su-1', 'st-1', { status: 'present', attempts: 1, ...times }),
    id: 'rec-1',
    orgId: 'org-1',
    version: 1,
    rosterVersion: 1,
    createdAt: submitted,
    updatedAt: submitted,
  });
  const views = (r: AttendanceRecord) => [toCheckinView(r, 2), toRosterEntry(student, r)].map((v) => [v.submittedAt, v.decidedAt]);

  it('one Date in both: the same text in both', function () {
    expect(views(record({ submittedAt: submitted, decidedAt: submitted }))).to.deep.equal([
      ['2026-03-02T09:00:03.250Z', '2026-03-02T09:00:03.250Z'],
      ['2026-03-02T09:00:03.250Z', '2026-03-02T09:00:03.250Z'],
    ]);
  });

  it('decided later (a teacher, a selfie verdict), or equal but read back as two Dates: each its own', function () {
    const decided = new Date('2026-03-02T09:05:00.000Z');
    const later = ['2026-03-02T09:00:03.250Z', '2026-03-02T09:05:00.000Z'];
    expect(views(record({ submittedAt: submitted, decidedAt: decided }))).to.deep.equal([later, later]);
    const same = ['2026-03-02T09:00:03.250Z', '2026-03-02T09:00:03.250Z'];
    expect(views(record({ submittedAt: submitted, decidedAt: new Date(submitted.getTime()) }))).to.deep.equal([same, same]);
  });

  it('never submitted (marked by hand), or not decided yet', function () {
    const decided = new Date('2026-03-02T09:05:00.000Z');
    expect(views(record({ submittedAt: null, decidedAt: decided }))).to.deep.equal([
      [null, '2026-03-02T09:05:00.000Z'],
      [null, '2026-03-02T09:05:00.000Z'],
    ]);
    expect(views(record({ submittedAt: submitted, decidedAt: null }))).to.deep.equal([
      ['2026-03-02T09:00:03.250Z', null],
      ['2026-03-02T09:00:03.250Z', null],
    ]);
  });

  it("a published change: the roster entry shows the times of the student's own view, made once for both", function () {
    const published: DomainEvent[] = [];
    const deps = { events: { publish: (e: DomainEvent) => published.push(e) } } as unknown as DomainDeps;
    const session = { id: 'se-1', status: 'open', policy: { maxAttempts: 2 } } as unknown as AttendanceSession;
    const decided = new Date('2026-03-02T09:05:00.000Z');
    const cases = [
      record({ submittedAt: submitted, decidedAt: submitted }),
      record({ submittedAt: submitted, decidedAt: decided }),
      record({ submittedAt: submitted, decidedAt: null }),
      record({ submittedAt: null, decidedAt: decided }),
    ];
    for (const r of cases) {
      const view = publishRecordChange(deps, session, student, r);
      const event = published.pop();
      if (event?.type !== 'roster.changed') throw new Error('expected a roster change');
      expect([event.update.entry.submittedAt, event.update.entry.decidedAt]).to.deep.equal([view.submittedAt, view.decidedAt]);
      expect([view.submittedAt, view.decidedAt]).to.deep.equal([r.submittedAt?.toISOString() ?? null, r.decidedAt?.toISOString() ?? null]);
    }
  });
});

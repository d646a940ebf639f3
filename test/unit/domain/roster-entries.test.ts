import { expect } from 'chai';
import type { AttendanceSession } from '../../../src/domain/ports/sessions.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { UserName } from '../../../src/domain/ports/users.js';
import { loadRosterEntries } from '../../../src/domain/sessions/roster-entries.js';
import { ERASED } from '../../../src/domain/privacy/erasure-rules.js';
import { insertedRecord } from '../../../src/store/sqlite/attendance.js';
import { newRecord } from '../../contract/fixtures.js';

// A roster needs its students' names, not their accounts: a screen loads it for each session it
// watches, and whole users (hash, email, dates) cost 2.2 times the CPU of the names
// (docs/multi-node.md, "Round 30, CPU").

describe('loadRosterEntries', function () {
  const at = new Date('2026-03-02T09:00:00.000Z');
  const session = { id: 'se-1', orgId: 'org-1', subjectId: 'su-1' } as AttendanceSession;
  const names: UserName[] = [
    { id: 'st-2', name: 'Zoé Martin', studentNumber: 'S2' },
    { id: 'st-1', name: 'Ada Byron', studentNumber: null },
  ];
  const checkedIn = insertedRecord('org-1', newRecord('se-1', 'su-1', 'st-1', { status: 'present', submittedAt: at }), 'rec-1', 1, at);
  const erased = insertedRecord('org-1', newRecord('se-1', 'su-1', 'gone-1', { status: 'present', submittedAt: at }), 'rec-2', 2, at);
  const asked: string[][] = [];
  const store = {
    subjects: { listEnrolled: async () => ['st-1', 'st-2'] },
    records: { listBySession: async () => [checkedIn, erased] },
    users: {
      getNames: async (_orgId: string, ids: string[]) => {
        asked.push(ids);
        return names.filter((n) => ids.includes(n.id));
      },
      getMany: async () => {
        throw new Error('whole users read for a roster');
      },
    },
  } as unknown as Store;

  it("reads the students' names only, once, and builds every entry from them", async function () {
    const entries = await loadRosterEntries(store, session, true);
    expect(asked).to.have.length(1);
    expect(asked[0]).to.have.members(['st-1', 'st-2', 'gone-1']);
    expect(entries.map((e) => [e.studentId, e.name, e.studentNumber, e.status])).to.deep.equal([
      ['gone-1', ERASED, null, 'present'],
      ['st-1', 'Ada Byron', null, 'present'],
      ['st-2', 'Zoé Martin', 'S2', 'not-yet'],
    ]);
  });
});

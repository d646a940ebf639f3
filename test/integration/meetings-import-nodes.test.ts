import { expect } from 'chai';
import path from 'node:path';
import { createOrg, createUser } from '../support/fixtures.js';
import { useRedis } from '../support/redis-server.js';
import { useNodes } from '../support/use-nodes.js';

// One week's meetings file sent to two nodes at the same moment (two admins, or a retry after a
// timeout landing on another node): the "already there" check reads before either writes, so
// only the store's key on the meeting keeps each once.
describe('POST /timetable/meetings/import on two nodes at once', function () {
  this.timeout(60_000);
  const suite = useRedis('meetings-import-nodes');
  const nodes = useNodes(suite);

  it('adds each meeting once; each answer counts a row added or skipped, none refused', async function () {
    const [a, b] = await nodes.start(2, { sqlitePath: path.join(suite.dir, 'attendance.db') });
    const org = await createOrg(a!.store);
    const admin = await createUser(a!.store, org.id, 'admin');
    const teacher = await createUser(a!.store, org.id, 'teacher');
    const room = { location: { lat: 48.85, lon: 2.35, radiusM: 60 }, allowedIpRanges: [] };
    const subjects = await Promise.all(
      ['MATH-7A', 'PHY-7A', 'CHEM-7A'].map((code) =>
        a!.store.subjects.create(org.id, { code, name: code, teacherIds: [teacher.id], ...room }),
      ),
    );
    await a!.store.timetable.createTerm(org.id, { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' });
    const rows = subjects.flatMap((s, i) =>
      [1, 2, 3, 4, 5].map(
        (day) => `${s.code},Autumn,${day},${String(8 + i * 2).padStart(2, '0')}:00,${String(9 + i * 2).padStart(2, '0')}:00`,
      ),
    );
    const csv = ['subject_code,term,weekday,start,end', ...rows].join('\n');
    const send = async (node: typeof a) => {
      const token = node!.app.tokenService.signAccess(admin).token;
      const res = await fetch(`${node!.url}/api/v1/timetable/meetings/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: csv,
      });
      expect(res.status).to.equal(201);
      return (await res.json()) as { added: number; skipped: Array<{ line: number }>; refused: unknown[]; meetings: Array<{ id: string }> };
    };
    const answers = await Promise.all([send(a), send(b), send(a), send(b)]);

    const stored = await a!.store.timetable.listMeetings(org.id);
    expect(stored).to.have.length(rows.length);
    expect(answers.reduce((n, r) => n + r.added, 0)).to.equal(rows.length);
    const added = new Set(answers.flatMap((r) => r.meetings.map((m) => m.id)));
    expect([...added].sort()).to.deep.equal(stored.map((m) => m.id).sort());
    for (const r of answers) {
      expect(r.refused).to.deep.equal([]);
      expect(r.added + r.skipped.length).to.equal(rows.length);
    }
    // Node b's check reading before a's writes, as when the two requests meet (the one above did
    // not on this machine: one import finished before the next read): every row looks new to it,
    // and only the store's key keeps it from adding the week again.
    // The import reads the organisation's meetings whole; the single add's own reads stay.
    const timetable = b!.store.timetable;
    const read = timetable.listMeetings.bind(timetable);
    timetable.listMeetings = async (orgId, subjectId) => (subjectId === undefined ? [] : read(orgId, subjectId));
    const blind = await send(b);
    expect(blind).to.deep.include({ added: 0, refused: [], meetings: [] });
    expect(blind.skipped).to.have.length(rows.length);
    expect(await a!.store.timetable.listMeetings(org.id)).to.have.length(rows.length);
    const created = await Promise.all(subjects.map((s) => a!.store.audit.listForEntity(org.id, 'subject', s.id)));
    expect(created.flat().filter((e) => e.action === 'meeting.create')).to.have.length(rows.length);
  });
});

import { expect } from 'chai';
import { DEMO_HISTORY_WEEKS } from '../../src/domain/seed-history.js';
import { LONGEST_SESSION_MS } from '../../src/domain/ports/sessions.js';
import { seedDemo } from '../../src/domain/seed.js';
import { ReportService } from '../../src/domain/reports/report-service.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { Actor } from '../../src/domain/actor.js';
import { cheapPasswordHasher } from '../support/passwords.js';

const NOW = new Date('2026-12-03T12:00:00Z'); // a Thursday

describe('seedDemo with history', () => {
  let store: Store;
  let reports: ReportService;
  let admin: Actor;
  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    reports = new ReportService({ store, now: () => NOW, defaultTimezone: 'UTC' });
  });
  afterEach(() => store.close());

  async function seed(): Promise<{ orgId: string }> {
    expect(await seedDemo(store, { passwords: cheapPasswordHasher(), history: true, now: NOW })).to.deep.equal({ created: true });
    const org = (await store.organisations.getBySlug('demo'))!;
    const a = (await store.users.getByEmail(org.id, 'admin@demo.school'))!;
    admin = { id: a.id, orgId: org.id, role: 'admin' };
    return { orgId: org.id };
  }

  it('writes a term of closed sessions before today, records and matching summaries', async () => {
    // How long it takes is scripts/bench-seed-history.ts's to say: a loaded machine is no measure.
    const { orgId } = await seed();
    const subjects = (await store.subjects.list(orgId, { limit: 10, offset: 0 })).items;
    expect(subjects.map((s) => s.code).sort()).to.deep.equal(['CS101', 'CS102']);
    const sessions = await store.sessions.list(orgId, { limit: 1_000, offset: 0 });
    // Three CS101 and two CS102 sessions a week, this week's up to yesterday (Mon-Wed: 2 + 1).
    expect(sessions.total).to.equal(DEMO_HISTORY_WEEKS * 5 + 3);
    expect(sessions.items.every((s) => s.status === 'closed' && s.day < '2026-12-03')).to.equal(true);
    // Written past validateWindow (transfer.import): held to the clash reads' bound all the same.
    const longest = Math.max(...sessions.items.map((s) => s.closesAt.getTime() - s.startsAt.getTime()));
    expect(longest).to.be.within(1, LONGEST_SESSION_MS);
    expect(await store.transfer.count('records')).to.equal(sessions.total * 30);

    // Each subject's per-student counts (from records) add up to its trend (from summaries).
    for (const s of subjects) {
      const perStudent = await reports.subjectStudents(admin, s.id, {});
      const trend = await reports.subjectTrend(admin, s.id, '2026-01-01', '2026-12-31', 'week');
      for (const k of ['present', 'late', 'absent', 'excused', 'total'] as const) {
        const fromRecords = perStudent.reduce((n, r) => n + r[k], 0);
        expect(
          trend.reduce((n, b) => n + b[k], 0),
          `${s.code} ${k}`,
        ).to.equal(fromRecords);
      }
    }
  });

  it('shows three students at risk and a class that slips over the term', async () => {
    const { orgId } = await seed();
    const subjects = (await store.subjects.list(orgId, { limit: 10, offset: 0 })).items;
    const cs101 = subjects.find((s) => s.code === 'CS101')!;
    const cs102 = subjects.find((s) => s.code === 'CS102')!;
    const risky = await reports.riskStudents(admin, cs101.id, 75, {});
    expect(risky.map((r) => r.name)).to.have.members(['Student 01', 'Student 02', 'Student 03']);
    const trend = await reports.subjectTrend(admin, cs102.id, '2026-01-01', '2026-12-31', 'week');
    expect(trend.length).to.be.at.least(DEMO_HISTORY_WEEKS);
    expect(trend[0]!.percentage - trend[trend.length - 1]!.percentage).to.be.above(15);
    const riskSubjects = await reports.riskSubjects(admin, 101, {});
    expect(riskSubjects.map((r) => r.subjectCode)).to.include.members(['CS101', 'CS102']);
  });

  // The demo is what a client author first reads through the API: its records must pair status,
  // reason and flags as docs/protocol.md section 14 says (a late record's reason is LATE; the
  // seed once wrote null, so "My attendance" showed late entries without their reason).
  it("pairs each record's status with the reason and flags protocol.md section 14 gives", async () => {
    const { orgId } = await seed();
    const sessions = await store.sessions.list(orgId, { limit: 1_000, offset: 0 });
    const expected: Record<string, [string | null, string[]]> = {
      present: [null, []],
      late: ['LATE', ['LATE']],
      excused: ['MARKED_BY_TEACHER', []],
      absent: ['NO_CHECKIN', []],
    };
    const seen = new Set<string>();
    for (const session of sessions.items) {
      for (const r of await store.records.listBySession(orgId, session.id)) {
        seen.add(r.status);
        expect([r.reason, r.flags], `${r.status} record`).to.deep.equal(expected[r.status]);
      }
    }
    expect([...seen].sort()).to.deep.equal(['absent', 'excused', 'late', 'present']);
  });

  it('is deterministic', async () => {
    const { orgId } = await seed();
    const cs101 = (await store.subjects.list(orgId, { limit: 10, offset: 0 })).items.find((s) => s.code === 'CS101')!;
    const first = (await reports.subjectTrend(admin, cs101.id, '2026-01-01', '2026-12-31', 'day')).map((b) => b.percentage);
    await store.close();
    store = await createSqliteStore({ path: ':memory:' });
    reports = new ReportService({ store, now: () => NOW, defaultTimezone: 'UTC' });
    const again = await seed();
    const cs101b = (await store.subjects.list(again.orgId, { limit: 10, offset: 0 })).items.find((s) => s.code === 'CS101')!;
    expect((await reports.subjectTrend(admin, cs101b.id, '2026-01-01', '2026-12-31', 'day')).map((b) => b.percentage)).to.deep.equal(first);
  });
});

import { expect } from 'chai';
import { ENROLMENT_READ_CHUNK } from '../../../src/domain/sessions/session-service.js';
import { createSubject } from '../../support/fixtures.js';
import { createLiveFixture, type LiveFixture } from '../../support/live-fixture.js';

describe('the enrolment reads of the socket catch-up and the live list (domain)', () => {
  let f: LiveFixture;
  let reads: string[][];

  beforeEach(async () => {
    f = await createLiveFixture();
    const enrolmentsOf = f.store.subjects.enrolmentsOf.bind(f.store.subjects);
    reads = [];
    f.store.subjects.enrolmentsOf = (orgId, ids) => {
      reads.push([...ids]);
      return enrolmentsOf(orgId, ids);
    };
  });
  afterEach(() => f.close());

  it('reads the enrolments of many students a chunk a query, by student', async () => {
    const second = await createSubject(f.store, f.org.id, [f.teacher.id]);
    await f.store.subjects.enrol(f.org.id, second.id, [f.students[1]!.id]);
    const ids = [...f.students.map((s) => s.id), ...Array.from({ length: 2 * ENROLMENT_READ_CHUNK }, (_, i) => `nobody-${i}`)];
    const found = await f.live.sessions.enrolmentsOf(f.org.id, ids);
    expect(reads.map((r) => r.length)).to.deep.equal([ENROLMENT_READ_CHUNK, ENROLMENT_READ_CHUNK, f.students.length]);
    expect([...found.keys()].sort()).to.deep.equal(f.students.map((s) => s.id).sort());
    expect([...found.get(f.students[1]!.id)!].sort()).to.deep.equal([f.subject.id, second.id].sort());
    expect([...found.get(f.students[0]!.id)!]).to.deep.equal([f.subject.id]);
  });

  it("leaves out, and unwatches, a student's subject unenrolled between the read of their subjects and the watch", async () => {
    const student = f.actor(f.students[0]!);
    const opened = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const unwatched: string[][] = [];
    const views = await f.live.sessions.listActiveWatched(
      student,
      async (ids) => {
        expect(ids).to.deep.equal([f.subject.id]);
        await f.store.subjects.unenrol(f.org.id, f.subject.id, [student.id]);
      },
      async (ids) => {
        unwatched.push(ids);
      },
    );
    expect(views).to.deep.equal([]);
    expect(unwatched).to.deep.equal([[f.subject.id]]);
    expect(reads).to.deep.equal([[student.id]]);
    expect(opened.subjectId).to.equal(f.subject.id);
  });

  it('unwatches nothing when the enrolments held, and reads none again for a teacher', async () => {
    await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const unwatched: string[][] = [];
    const unwatch = async (ids: string[]) => void unwatched.push(ids);
    expect(await f.live.sessions.listActiveWatched(f.actor(f.students[0]!), async () => undefined, unwatch)).to.have.length(1);
    expect(await f.live.sessions.listActiveWatched(f.actor(f.teacher), async () => undefined, unwatch)).to.have.length(1);
    expect(unwatched).to.deep.equal([]);
    expect(reads).to.deep.equal([[f.students[0]!.id]]);
  });
});

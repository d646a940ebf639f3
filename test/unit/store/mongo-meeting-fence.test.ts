import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import { LeaseLostError } from '../../../src/domain/ports/common.js';
import { jobRepository } from '../../../src/store/mongo/jobs.js';
import { createModels, type Models } from '../../../src/store/mongo/models.js';
import { subjectRepository } from '../../../src/store/mongo/directory.js';
import { timetableRepository } from '../../../src/store/mongo/timetable.js';
import { useMongo } from '../../support/ferretdb.js';

// MongoDB holds no transaction across a fenced meeting write (or a subject's: a change of its
// first teacher): the leases are renewed before it and read again after it. These cases lose a
// lease in between (another node taking it while the write was on its way), the part the
// contract's renew-before case does not reach: the new meeting must be deleted again, an edit's
// fields put back.

describe('a fenced meeting write on MongoDB whose lease is taken during the write (MONGODB_URI, else FerretDB)', function () {
  this.timeout(30_000);
  const server = useMongo();
  let conn: Connection | null = null;
  let dbUri = '';
  const t = (minutes: number) => new Date(Date.UTC(2026, 2, 2, 9) + minutes * 60_000);
  const never = new Date(8.64e15);
  const names = ['slots:o:subject:sub', 'slots:o:teacher:tch'];
  const fence = { names, owner: 'node-a', until: t(40) };
  const base = { subjectId: 'sub', termId: 'term', weekday: 2, startTime: '09:00', endTime: '10:00', teacherId: 'tch', preset: null };

  /** The models, with node B taking the teacher's lease right before the write's read-after of the leases. */
  function takenDuringWrite(models: Models): Models {
    let armed = true;
    const jobs = new Proxy(models.jobs, {
      get(target, prop, receiver) {
        if (prop !== 'find' || !armed) return Reflect.get(target, prop, receiver);
        return (...args: Parameters<typeof target.find>) => ({
          lean: async () => {
            armed = false;
            expect(await jobRepository(models).claim(names[1]!, 'node-b', t(60), t(41), never)).to.equal(true);
            return target.find(...args).lean();
          },
        });
      },
    });
    return { ...models, jobs };
  }

  beforeEach(async () => {
    dbUri = server.mongo.databaseUri('attendance_meeting_fence');
    conn = mongoose.createConnection(dbUri);
    await conn.asPromise();
  });
  afterEach(async () => {
    await conn?.close();
    conn = null;
    await server.mongo.dropDatabase(dbUri);
  });

  async function setUp(): Promise<Models> {
    const models = createModels(conn!);
    for (const name of names) expect(await jobRepository(models).claim(name, 'node-a', t(10), t(0), never)).to.equal(true);
    return models;
  }

  it('an added meeting is deleted again, LeaseLostError', async () => {
    const models = await setUp();
    const err = await timetableRepository(takenDuringWrite(models))
      .createMeeting('org', { ...base, location: null, allowedIpRanges: [] }, fence)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(LeaseLostError);
    expect(await timetableRepository(models).listMeetings('org')).to.deep.equal([]);
  });

  it("an edited meeting's fields are put back, LeaseLostError", async () => {
    const models = await setUp();
    const meeting = await timetableRepository(models).createMeeting('org', { ...base, location: null, allowedIpRanges: [] });
    const patch = { weekday: 4, startTime: '11:00', teacherId: null, allowedIpRanges: ['10.0.0.0/8'] };
    const err = await timetableRepository(takenDuringWrite(models))
      .updateMeeting('org', meeting.id, patch, fence)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(LeaseLostError);
    expect(await timetableRepository(models).getMeeting('org', meeting.id)).to.deep.equal(meeting);
  });

  it('an edited meeting of the previous release (no naturalKey) is put back without one, not with null, LeaseLostError', async () => {
    const models = await setUp();
    // Written by the release before migration 26 during a rolling deploy: no naturalKey field.
    // Put back with null, the partial index ($exists) would hold it against every such meeting.
    const doc = { _id: 'm-prev', orgId: 'org', ...base, location: null, allowedIpRanges: [], revision: 0, createdAt: t(0) };
    await models.meetings.collection.insertOne(doc as never);
    const meeting = await timetableRepository(models).getMeeting('org', 'm-prev');
    const err = await timetableRepository(takenDuringWrite(models))
      .updateMeeting('org', 'm-prev', { weekday: 4, startTime: '11:00' }, fence)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(LeaseLostError);
    expect(await timetableRepository(models).getMeeting('org', 'm-prev')).to.deep.equal(meeting);
    const stored = await models.meetings.collection.findOne({ _id: 'm-prev' as never });
    expect(stored).to.not.have.property('naturalKey');
    expect(stored).to.include({ weekday: 2, startTime: '09:00', revision: 0 });
  });

  it("a subject's changed teachers are put back, updatedAt too, LeaseLostError (a change of its first teacher)", async () => {
    const models = await setUp();
    const clock = () => t(1);
    const subject = await subjectRepository(models, () => t(0)).create('org', {
      code: 'BIO1',
      name: 'Biology',
      teacherIds: ['tch'],
      location: null,
      allowedIpRanges: [],
    });
    const err = await subjectRepository(takenDuringWrite(models), clock)
      .update('org', subject.id, { teacherIds: ['other', 'tch'] }, fence)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(LeaseLostError);
    expect(await subjectRepository(models, clock).get('org', subject.id)).to.deep.equal(subject);
  });
});

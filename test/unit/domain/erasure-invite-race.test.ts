import { expect } from 'chai';
import mongoose from 'mongoose';
import type { OutboxRepository } from '../../../src/domain/ports/outbox.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { personOf } from '../../../src/domain/privacy/erasure-rules.js';
import { createMongoStore } from '../../../src/store/mongo/mongo-store.js';
import { testMongoStoreConfig, useMongo } from '../../support/ferretdb.js';
import { createOrg, createUser } from '../../support/fixtures.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// An invitation on its way while another admin erases the person (docs/privacy.md, "Answering
// an erasure request"): the invitation read the user before the erasure and queues its email
// (their address and name) and its audit entry after it. Neither may outlive the erasure.

onBothStores('erasure racing an invitation', 'attendance_erasure_invite_race', erasureInviteSuite);

function erasureInviteSuite(setup: RaceStore): void {
  let f: LiveFixture;
  let student: User;
  let original: OutboxRepository['enqueueMany'];

  const fixture = useLiveFixture(setup, { students: 2 });
  beforeEach(async () => {
    f = fixture();
    student = f.students[0]!;
    original = f.store.outbox.enqueueMany;
  });

  const invite = () => f.domain.accounts.inviteMany(f.actor(f.admin), [student.id, f.students[1]!.id]).catch((err: unknown) => err);
  const erase = () => f.domain.privacy.erasePerson(f.actor(f.admin), student.id, 'erasure request 43');
  /** The erasure runs when the invitation is about to be queued, or alongside it (`step` staggers later). */
  const injectErasure = (at: 'before' | 'alongside', step = 0): (() => Promise<unknown>) => {
    let erasure: Promise<unknown> = Promise.resolve();
    f.store.outbox.enqueueMany = async (...args) => {
      f.store.outbox.enqueueMany = original;
      if (at === 'before') await erase();
      else erasure = setup.stagger(step).then(erase);
      return original(...args);
    };
    return () => erasure;
  };
  const expectNothingLeft = async () => {
    expect(await f.store.users.get(f.org.id, student.id)).to.equal(null);
    const mails = (await f.store.outbox.list(f.org.id, { limit: 100, offset: 0 })).items;
    const text = JSON.stringify(mails).toLowerCase();
    for (const value of [student.id, student.email, student.name]) expect(text).not.to.contain(value.toLowerCase());
    // The other student's invitation stands.
    expect(mails.map((m) => m.to)).to.include(f.students[1]!.email);
    const trail = await f.store.privacy.auditAbout({ orgId: f.org.id, userId: student.id, identifiers: [student.email, student.name] });
    expect(trail).to.deep.equal([]);
  };

  it('an invitation whose user is erased before it is queued leaves no email or audit entry of them, and says so', async () => {
    injectErasure('before');
    const report = await invite();
    await expectNothingLeft();
    expect(report).to.deep.equal({ queued: 1, skipped: [student.id], resets: 0 });
  });

  for (const step of [0, 1, 2, 4, 8]) {
    it(`an erasure alongside the invitation (stagger ${step}) leaves no email or audit entry of the person, whichever wins`, async () => {
      const erased = injectErasure('alongside', step);
      await invite();
      await erased();
      await expectNothingLeft();
    });
  }
}

// On MongoDB the erasure is a sequence of writes. An invitation that read the account before
// the erasure deleted it, and queued its email after the erasure had swept the outbox, finds
// the user still there when it looks again: the erasure's own sweep after the account must
// catch that email.
describe('erasure racing an invitation (MongoDB: the outbox swept again after the account)', function () {
  this.timeout(60_000);
  const server = useMongo();
  let dbUri = '';
  let store: Store | null = null;
  afterEach(async () => {
    await store?.close();
    store = null;
    await server.mongo.dropDatabase(dbUri);
  });

  it('deletes an invitation queued between its outbox sweep and the deletion of the account', async () => {
    dbUri = server.mongo.databaseUri('attendance_erasure_outbox_sweep');
    const s = await createMongoStore(testMongoStoreConfig(dbUri));
    store = s;
    const org = await createOrg(s);
    const student = await createUser(s, org.id, 'student');
    // The erasure's step just before it deletes the account (store/mongo/privacy.ts), on this store's connection.
    const conn = mongoose.connections.find((c) => c.name === new URL(dbUri).pathname.slice(1));
    const model = conn!.models['TeacherSettings']!;
    const deleteMany = model.deleteMany.bind(model);
    let queued = false;
    model.deleteMany = ((...args: Parameters<typeof model.deleteMany>) => {
      if (!queued) {
        queued = true;
        return s.outbox
          .enqueue(
            {
              orgId: org.id,
              category: 'invitation',
              userId: student.id,
              to: student.email,
              subject: 'Invitation',
              text: student.name,
              html: student.name,
              headers: {},
            },
            100,
          )
          .then(() => deleteMany(...args));
      }
      return deleteMany(...args);
    }) as typeof model.deleteMany;

    await s.privacy.erase(personOf(student), 'erased-test');

    expect(queued).to.equal(true);
    const mails = (await s.outbox.list(org.id, { limit: 10, offset: 0 })).items;
    expect(mails.map((m) => m.to)).not.to.include(student.email);
  });
});

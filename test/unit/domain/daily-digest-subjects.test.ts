import { expect } from 'chai';
import { sendDigests } from '../../../src/domain/notifications/daily-digest.js';
import type { RenderedEmail } from '../../../src/domain/notifications/email-templates.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { createCodeSession, createOrg, createSubject, createUser } from '../../support/fixtures.js';

const NOW = new Date('2026-09-07T09:00:00.000Z');

describe('daily digest: the subjects a teacher is told about', () => {
  let store: Store;
  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => NOW });
  });
  afterEach(async () => store.close());

  it('names today’s sessions of the subjects in use only: an archived subject (last year’s) is left out', async () => {
    const org = await createOrg(store);
    const teacher = await createUser(store, org.id, 'teacher');
    const current = await createSubject(store, org.id, [teacher.id]);
    const lastYear = await createSubject(store, org.id, [teacher.id]);
    const at = new Date('2026-09-07T07:00:00.000Z');
    await createCodeSession(store, org.id, current.id, teacher.id, { startsAt: at, status: 'closed' });
    await createCodeSession(store, org.id, lastYear.id, teacher.id, { startsAt: at, status: 'closed' });
    await store.subjects.update(org.id, lastYear.id, { archivedAt: new Date('2026-09-07T08:00:00.000Z') });

    const mails: RenderedEmail[] = [];
    const emails = {
      each: async (_org: string, _ids: string[], _category: string, render: (u: User, lang: 'en', url: string) => RenderedEmail) => {
        mails.push(render(teacher, 'en', 'https://school.test/unsubscribe'));
        return 1;
      },
    };
    expect(await sendDigests({ store, emails, owner: 'node-a', hour: 8 }, NOW)).to.equal(1);
    expect(mails).to.have.length(1);
    expect(mails[0]!.text).to.include(`${current.code} Fixture subject`).and.not.include(`${lastYear.code} Fixture subject`);
  });
});

import { expect } from 'chai';
import { guardianEmailKey } from '../../src/domain/guardians/guardian-unsubscribes.js';
import type { NewExcuse } from '../../src/domain/ports/excuses.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser, rejection } from './fixtures.js';
import { ActorGoneError } from '../../src/domain/ports/common.js';
import type { Store } from '../../src/domain/ports/store.js';

// Excuse requests, their documents, the absence category of records and organisations, and
// guardian contacts.

const base = (over: Partial<NewExcuse> = {}): NewExcuse => ({
  studentId: 'st',
  submittedBy: 'st',
  subjectId: 'subj',
  sessionId: null,
  fromDay: '2026-03-02',
  toDay: '2026-03-06',
  category: 'MEDICAL',
  text: 'ill',
  ...over,
});

/** The audit entry of a decision by `actorId`. */
const entryBy = (orgId: string, excuseId: string, actorId: string) => ({
  orgId,
  entityType: 'excuse' as const,
  entityId: excuseId,
  sessionId: null,
  actorId,
  action: 'excuse.approve' as const,
  from: { status: 'pending' },
  to: { status: 'approved' },
  reason: null,
  ip: null,
  at: new Date(),
});

/** Teachers of the organisation, by id: a decision is refused when its decider is not a user. */
async function staffOf(s: Store, orgId: string, n: number): Promise<string[]> {
  const users = await s.users.createMany(
    orgId,
    Array.from({ length: n }, () => newUser({ role: 'teacher' })),
  );
  return users.map((u) => u.id);
}

export function excusesContract(ctx: ContractContext): void {
  describe('excuses', function () {
    it('creates pending, reads back inside its organisation only, lists newest first with filters', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const { excuse: first } = await s.excuses.create(org.id, base());
      const { excuse: second } = await s.excuses.create(org.id, base({ studentId: 'st2', submittedBy: 'st2', subjectId: 'subj2' }));
      const { excuse: third } = await s.excuses.create(org.id, base({ subjectId: null }));
      expect(first).to.include({
        orgId: org.id,
        status: 'pending',
        document: null,
        decidedBy: null,
        decidedAt: null,
        decisionNote: null,
        subjectId: 'subj',
        sessionId: null,
      });
      expect(await s.excuses.get(org.id, first.id)).to.deep.equal(first);
      expect(await s.excuses.get(other.id, first.id)).to.equal(null);
      const all = await s.excuses.list(org.id, { limit: 10, offset: 0 });
      expect(all.total).to.equal(3);
      expect(all.items.map((e) => e.id)).to.have.members([first.id, second.id, third.id]);
      expect((await s.excuses.list(org.id, { limit: 10, offset: 0, studentId: 'st' })).items.map((e) => e.id)).to.have.members([
        first.id,
        third.id,
      ]);
      // An excuse for all subjects is not in a subject filter.
      expect((await s.excuses.list(org.id, { limit: 10, offset: 0, subjectIds: ['subj', 'subj2'] })).total).to.equal(2);
      expect((await s.excuses.list(org.id, { limit: 10, offset: 0, subjectIds: [] })).total).to.equal(0);
      expect((await s.excuses.list(org.id, { limit: 1, offset: 0 })).items).to.have.length(1);
      expect((await s.excuses.list(other.id, { limit: 10, offset: 0 })).total).to.equal(0);
    });

    it('keeps one pending excuse per student and scope, under concurrent creates too; a decision frees the scope', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const [tch] = await staffOf(s, org.id, 1);
      const bySession = base({ sessionId: 'sess', fromDay: '2026-03-04', toDay: '2026-03-04' });
      // Ten at once of each scope (a double tap, two tabs, two nodes): one is created, the others answer it.
      const burst = (input: NewExcuse) =>
        Promise.all(Array.from({ length: 10 }, (_, i) => s.excuses.create(org.id, { ...input, text: `try ${i}` })));
      const [range, session] = await Promise.all([burst(base()), burst(bySession)]);
      for (const answers of [range, session]) {
        expect(answers.filter((a) => a.created)).to.have.length(1);
        const made = answers.find((a) => a.created)!.excuse;
        for (const a of answers) expect(a.excuse).to.deep.equal(made);
      }
      expect((await s.excuses.list(org.id, { limit: 50, offset: 0 })).total).to.equal(2);
      const pending = range[0]!.excuse;

      // Other scopes are excuses of their own: another student, subject, days, all subjects, organisation.
      for (const over of [{ studentId: 'st2' }, { subjectId: 'subj2' }, { toDay: '2026-03-05' }, { subjectId: null }]) {
        expect((await s.excuses.create(org.id, base(over))).created, JSON.stringify(over)).to.equal(true);
      }
      expect((await s.excuses.create(other.id, base())).created).to.equal(true);

      // Decided (declined here): the next one of the scope is new, and itself the one pending.
      await s.excuses.decide(org.id, pending.id, { status: 'declined', decidedBy: tch!, decidedAt: new Date(), decisionNote: null });
      const again = await s.excuses.create(org.id, base({ text: 'with the letter' }));
      expect(again.created).to.equal(true);
      expect(again.excuse.id).to.not.equal(pending.id);
      expect(again.excuse).to.include({ status: 'pending', text: 'with the letter' });
      expect(await s.excuses.create(org.id, base())).to.deep.equal({ excuse: again.excuse, created: false });
      expect((await s.excuses.get(org.id, pending.id))!.status).to.equal('declined');
    });

    it('pages newest first after a key: a decision taken between two pages neither skips an excuse nor shows one twice', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const newest: string[] = [];
      for (let i = 0; i < 5; i += 1)
        newest.unshift((await s.excuses.create(org.id, base({ fromDay: `2026-03-0${i + 1}`, toDay: `2026-03-0${i + 1}` }))).excuse.id);
      const pending = { status: 'pending' as const, limit: 2, offset: 0 };
      const ids = (p: { items: { id: string }[] }) => p.items.map((e) => e.id);
      const first = await s.excuses.list(org.id, pending);
      expect(ids(first)).to.deep.equal(newest.slice(0, 2));
      // Decided on another screen while the first page is read: an offset of 2 would now skip two.
      await s.excuses.decide(org.id, newest[0]!, { status: 'approved', decidedBy: null, decidedAt: new Date(), decisionNote: null });
      const second = await s.excuses.list(org.id, { ...pending, after: first.items.at(-1)! });
      expect(ids(second)).to.deep.equal(newest.slice(2, 4));
      expect(second.total).to.equal(4);
      const last = await s.excuses.list(org.id, { ...pending, after: second.items.at(-1)! });
      expect(ids(last)).to.deep.equal(newest.slice(4));
      expect(last.total).to.equal(4);
      // The key's own excuse decided since: the place in the list stays.
      await s.excuses.decide(org.id, newest[3]!, { status: 'declined', decidedBy: null, decidedAt: new Date(), decisionNote: null });
      expect(ids(await s.excuses.list(org.id, { ...pending, after: second.items.at(-1)! }))).to.deep.equal(newest.slice(4));
    });

    it('decides once: compare-and-set on pending', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const [tch, adm] = (await staffOf(s, org.id, 2)) as [string, string];
      const { excuse: e } = await s.excuses.create(org.id, base());
      const at = new Date(Date.UTC(2026, 2, 9, 10));
      const decided = await s.excuses.decide(
        org.id,
        e.id,
        { status: 'approved', decidedBy: tch, decidedAt: at, decisionNote: 'ok' },
        entryBy(org.id, e.id, tch),
      );
      expect(decided).to.include({ status: 'approved', decidedBy: tch, decisionNote: 'ok' });
      expect(decided!.decidedAt!.getTime()).to.equal(at.getTime());
      expect(
        await s.excuses.decide(
          org.id,
          e.id,
          { status: 'declined', decidedBy: adm, decidedAt: at, decisionNote: null },
          entryBy(org.id, e.id, adm),
        ),
      ).to.equal(null);
      expect((await s.excuses.get(org.id, e.id))!.status).to.equal('approved');
      // The entry written with the decision, none with the refused one.
      expect((await s.audit.listForEntity(org.id, 'excuse', e.id)).map((a) => [a.actorId, a.action])).to.deep.equal([
        [tch, 'excuse.approve'],
      ]);
      expect(await s.excuses.decide(org.id, 'missing', { status: 'declined', decidedBy: adm, decidedAt: at, decisionNote: null })).to.equal(
        null,
      );
    });

    it('decides only as the decider saw it: an edit since the read refuses it, leaving the edit pending and no entry', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const [tch] = (await staffOf(s, org.id, 1)) as [string];
      const { excuse: seen } = await s.excuses.create(org.id, base());
      const edited = (await s.excuses.edit(org.id, seen.id, { category: 'SCHOOL_TRIP', text: 'trip' }))!;
      const decision = { status: 'approved', decidedBy: tch, decidedAt: new Date(), decisionNote: null } as const;
      const revision = (e: typeof seen) => ({ updatedAt: e.updatedAt, category: e.category, text: e.text });
      // The category and text read before the edit.
      expect(await s.excuses.decide(org.id, seen.id, decision, entryBy(org.id, seen.id, tch), revision(seen))).to.equal(null);
      // The edit's category and text but another revision (a document attached since, say).
      const otherTime = { ...revision(edited), updatedAt: new Date(edited.updatedAt.getTime() + 1) };
      expect(await s.excuses.decide(org.id, seen.id, decision, entryBy(org.id, seen.id, tch), otherTime)).to.equal(null);
      expect(await s.excuses.get(org.id, seen.id)).to.deep.equal(edited);
      expect(await s.audit.listForEntity(org.id, 'excuse', seen.id)).to.deep.equal([]);
      // Still the scope's one pending excuse.
      expect((await s.excuses.create(org.id, base())).created).to.equal(false);
      const decided = await s.excuses.decide(org.id, seen.id, decision, entryBy(org.id, seen.id, tch), revision(edited));
      expect(decided).to.include({ status: 'approved', category: 'SCHOOL_TRIP', text: 'trip' });
      expect((await s.audit.listForEntity(org.id, 'excuse', seen.id)).map((a) => a.actorId)).to.deep.equal([tch]);
    });

    it('edits the category and text while pending only, inside its organisation, keeping its scope, key and document', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const [tch] = await staffOf(s, org.id, 1);
      const { excuse: e } = await s.excuses.create(org.id, base());
      await s.excuses.putDocument(
        org.id,
        e.id,
        { fileName: `excuse-${e.id}.pdf`, contentType: 'application/pdf', size: 4 },
        Buffer.from('%PDF'),
      );
      expect(await s.excuses.edit(other.id, e.id, { category: 'SCHOOL_TRIP', text: 'trip' })).to.equal(null);
      const edited = await s.excuses.edit(org.id, e.id, { category: 'SCHOOL_TRIP', text: 'trip' });
      expect(edited).to.deep.include({
        id: e.id,
        status: 'pending',
        category: 'SCHOOL_TRIP',
        text: 'trip',
        subjectId: 'subj',
        fromDay: '2026-03-02',
      });
      expect(edited!.document).to.deep.equal({ fileName: `excuse-${e.id}.pdf`, contentType: 'application/pdf', size: 4 });
      expect(await s.excuses.get(org.id, e.id)).to.deep.equal(edited);
      // Still the scope's one pending excuse.
      expect(await s.excuses.create(org.id, base())).to.deep.equal({ excuse: edited, created: false });
      await s.excuses.decide(org.id, e.id, { status: 'approved', decidedBy: tch!, decidedAt: new Date(), decisionNote: null });
      expect(await s.excuses.edit(org.id, e.id, { category: 'MEDICAL', text: 'late' })).to.equal(null);
      expect(await s.excuses.get(org.id, e.id)).to.include({ status: 'approved', category: 'SCHOOL_TRIP', text: 'trip' });
      expect(await s.excuses.edit(org.id, 'missing', { category: 'MEDICAL', text: '' })).to.equal(null);
    });

    it('refuses a decision by a user who is not one of the organisation (a teacher erased meanwhile), leaving it pending', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const [elsewhere] = await staffOf(s, other.id, 1);
      const { excuse: e } = await s.excuses.create(org.id, base());
      for (const decidedBy of ['erased-teacher', elsewhere!]) {
        const err = await rejection(
          s.excuses.decide(
            org.id,
            e.id,
            { status: 'approved', decidedBy, decidedAt: new Date(), decisionNote: 'ok' },
            entryBy(org.id, e.id, decidedBy),
          ),
        );
        expect(err).to.be.instanceOf(ActorGoneError);
        expect(err).to.include({ actorId: decidedBy });
      }
      expect(await s.excuses.get(org.id, e.id)).to.deep.equal(e);
      expect(await s.audit.listForEntity(org.id, 'excuse', e.id)).to.deep.equal([]);
      // A decision by nobody in particular (decidedBy null) is not a decider's.
      expect(
        await s.excuses.decide(org.id, e.id, { status: 'declined', decidedBy: null, decidedAt: new Date(), decisionNote: null }),
      ).to.include({ status: 'declined', decidedBy: null });
    });

    it('stores a document as bytes, never in reads but getDocument, and only while pending', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const { excuse: e } = await s.excuses.create(org.id, base());
      expect(await s.excuses.getDocument(org.id, e.id)).to.equal(null);
      const bytes = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x2d, 0x00, 0xff, 0x10]);
      const info = { fileName: `excuse-${e.id}.pdf`, contentType: 'application/pdf' as const, size: bytes.length };
      const withDoc = await s.excuses.putDocument(org.id, e.id, info, bytes);
      expect(withDoc!.document).to.deep.equal(info);
      expect((await s.excuses.get(org.id, e.id))!.document).to.deep.equal(info);
      expect(JSON.stringify(await s.excuses.list(org.id, { limit: 10, offset: 0 }))).not.to.contain('bytes');
      const doc = await s.excuses.getDocument(org.id, e.id);
      expect(doc!.info).to.deep.equal(info);
      expect(Buffer.compare(doc!.bytes, bytes)).to.equal(0);
      expect(await s.excuses.getDocument((await makeOrg(s)).id, e.id)).to.equal(null);
      const [tch] = await staffOf(s, org.id, 1);
      await s.excuses.decide(org.id, e.id, { status: 'declined', decidedBy: tch!, decidedAt: new Date(), decisionNote: null });
      expect(await s.excuses.putDocument(org.id, e.id, info, Buffer.from('%PDF-x'))).to.equal(null);
      expect(Buffer.compare((await s.excuses.getDocument(org.id, e.id))!.bytes, bytes)).to.equal(0);
    });

    it('finds the approved excuses covering a session: by session, or by a range of the subject or of all subjects', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const [tch] = await staffOf(s, org.id, 1);
      const approve = async (over: Partial<NewExcuse>) => {
        const { excuse: e } = await s.excuses.create(org.id, base(over));
        return (await s.excuses.decide(org.id, e.id, { status: 'approved', decidedBy: tch!, decidedAt: new Date(), decisionNote: null }))!;
      };
      const bySession = await approve({ studentId: 'a', sessionId: 'sess', fromDay: '2026-03-04', toDay: '2026-03-04' });
      const bySubject = await approve({ studentId: 'b' });
      const allSubjects = await approve({ studentId: 'c', subjectId: null });
      await approve({ studentId: 'd', subjectId: 'elsewhere' });
      await approve({ studentId: 'e', fromDay: '2026-03-05', toDay: '2026-03-06' });
      await s.excuses.create(org.id, base({ studentId: 'f' }));
      const found = await s.excuses.listApprovedCovering(org.id, ['a', 'b', 'c', 'd', 'e', 'f'], 'sess', 'subj', '2026-03-04');
      expect(found.map((e) => e.id)).to.have.members([bySession.id, bySubject.id, allSubjects.id]);
      expect(await s.excuses.listApprovedCovering(org.id, ['b'], 'other', 'subj', '2026-03-07')).to.deep.equal([]);
      expect(await s.excuses.listApprovedCovering(org.id, [], 'sess', 'subj', '2026-03-04')).to.deep.equal([]);
      expect(await s.excuses.listApprovedCovering((await makeOrg(s)).id, ['a', 'b', 'c'], 'sess', 'subj', '2026-03-04')).to.deep.equal([]);
    });

    it('keeps the absence category of a record and of the organisation settings', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const teacher = await s.users.create(org.id, newUser({ role: 'teacher' }));
      const subject = await s.subjects.create(org.id, newSubject({ teacherIds: [teacher.id] }));
      const sess = await s.sessions.create(org.id, newSession(subject.id, teacher.id));
      const { record } = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st'));
      expect(record.absenceCategory ?? null).to.equal(null);
      const updated = await s.records.update(org.id, record.id, record.version, { status: 'excused', absenceCategory: 'MEDICAL' });
      expect(updated).to.include({ absenceCategory: 'MEDICAL' });
      expect(await s.records.get(org.id, record.id)).to.include({ status: 'excused', absenceCategory: 'MEDICAL' });
      const { record: inserted } = await s.records.insertIfAbsent(org.id, {
        ...newRecord(sess.id, subject.id, 'st2'),
        status: 'excused',
        absenceCategory: 'SCHOOL_TRIP',
      });
      expect(await s.records.get(org.id, inserted.id)).to.include({ absenceCategory: 'SCHOOL_TRIP' });

      expect(org.settings.absenceCategories).to.equal(undefined);
      const categories = [{ code: 'SICK', label: 'Sick', authorised: true }];
      const changed = await s.organisations.update(org.id, { settings: { ...org.settings, absenceCategories: categories } });
      expect(changed!.settings.absenceCategories).to.deep.equal(categories);
      expect((await s.organisations.get(org.id))!.settings.absenceCategories).to.deep.equal(categories);
    });
  });

  describe('guardian contacts', function () {
    it("replaces a student's list as a whole, per organisation, and removes it with an empty list", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([]);
      const two = [
        { name: 'Ana', relation: 'mother', email: 'ana@example.test', language: 'fr' },
        { name: 'Ben', relation: 'father', email: 'ben@example.test', language: 'en' },
      ];
      expect(await s.guardians.put(org.id, 'st', two)).to.deep.equal(two);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal(two);
      expect(await s.guardians.get(other.id, 'st')).to.deep.equal([]);
      expect(await s.guardians.get(org.id, 'st2')).to.deep.equal([]);
      await s.guardians.put(org.id, 'st', [two[1]!]);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([two[1]]);
      await s.guardians.put(org.id, 'st', []);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([]);
    });

    it('records an unsubscribe by address key, idempotently, and keeps it through a replacement and an emptied list', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const ana = { name: 'Ana', relation: 'mother', email: 'ana@example.test', language: 'fr' };
      const ben = { name: 'Ben', relation: 'father', email: 'ben@example.test', language: 'en' };
      await s.guardians.put(org.id, 'st', [ana, ben]);
      const anaKey = guardianEmailKey(ana.email);
      expect(await s.guardians.unsubscribe(org.id, 'st', guardianEmailKey('nobody@example.test'), 'alert')).to.equal(false);
      expect(await s.guardians.unsubscribe(org.id, 'st2', anaKey, 'alert'), 'another student').to.equal(false);
      expect(await s.guardians.unsubscribe(org.id, 'st', anaKey, 'alert')).to.equal(true);
      expect(await s.guardians.unsubscribe(org.id, 'st', anaKey, 'alert'), 'again').to.equal(true);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([{ ...ana, unsubscribed: ['alert'] }, ben]);

      // An admin's replacement (the same address, another spelling and name) keeps it, and says so.
      const again = { ...ana, name: 'Ana M.', email: 'ANA@example.test ' };
      expect(await s.guardians.put(org.id, 'st', [ben, again])).to.deep.equal([ben, { ...again, unsubscribed: ['alert'] }]);
      // A given `unsubscribed` is not taken from the caller.
      await s.guardians.put(org.id, 'st', [
        { ...ben, unsubscribed: ['alert'] },
        { ...ana, unsubscribed: [] },
      ]);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([ben, { ...ana, unsubscribed: ['alert'] }]);

      await s.guardians.put(org.id, 'st', []);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([]);
      expect(await s.guardians.unsubscribe(org.id, 'st', anaKey, 'alert'), 'no contact left').to.equal(false);
      await s.guardians.put(org.id, 'st', [ana]);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([{ ...ana, unsubscribed: ['alert'] }]);
    });

    it('undoes an unsubscribe by address key, idempotently, leaving the other entries', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const ana = { name: 'Ana', relation: 'mother', email: 'ana@example.test', language: 'fr' };
      const ben = { name: 'Ben', relation: 'father', email: 'ben@example.test', language: 'en' };
      await s.guardians.put(org.id, 'st', [ana, ben]);
      const [anaKey, benKey] = [guardianEmailKey(ana.email), guardianEmailKey(ben.email)];
      await s.guardians.unsubscribe(org.id, 'st', anaKey, 'alert');
      await s.guardians.unsubscribe(org.id, 'st', anaKey, 'digest');
      await s.guardians.unsubscribe(org.id, 'st', benKey, 'alert');
      expect(await s.guardians.resubscribe(org.id, 'st', guardianEmailKey('nobody@example.test'), 'alert')).to.equal(false);
      expect(await s.guardians.resubscribe(org.id, 'st2', anaKey, 'alert'), 'another student').to.equal(false);
      expect(await s.guardians.resubscribe(org.id, 'st', anaKey, 'alert')).to.equal(true);
      expect(await s.guardians.resubscribe(org.id, 'st', anaKey, 'alert'), 'again').to.equal(true);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([
        { ...ana, unsubscribed: ['digest'] },
        { ...ben, unsubscribed: ['alert'] },
      ]);
      await s.guardians.resubscribe(org.id, 'st', anaKey, 'digest');
      await s.guardians.resubscribe(org.id, 'st', benKey, 'alert');
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([ana, ben]);
      // Nothing left to keep: an emptied list now goes with its row.
      await s.guardians.put(org.id, 'st', []);
      await s.guardians.put(org.id, 'st', [ana]);
      expect(await s.guardians.get(org.id, 'st')).to.deep.equal([ana]);
    });
  });
}

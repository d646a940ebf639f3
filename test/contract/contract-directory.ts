import { expect } from 'chai';
import { DEFAULT_RETENTION } from '../../src/domain/ports/organisations.js';
import { LeaseLostError, StoreConflictError } from '../../src/domain/ports/common.js';
import { personOf } from '../../src/domain/privacy/erasure-rules.js';
import type { AuditEntry } from '../../src/domain/ports/audit.js';
import type { ContractContext } from './store-contract.js';
import { expectConflict, makeOrg, newSubject, newUser, page, studentIds } from './fixtures.js';

// Organisations, users, subjects and enrolments.

export function directoryContract(ctx: ContractContext): void {
  describe('organisations', function () {
    it('creates, gets by id and slug, and counts', async function () {
      const s = ctx.store();
      expect(await s.organisations.count()).to.equal(0);
      const org = await s.organisations.create({ name: 'Uni', slug: 'uni', timezone: 'Asia/Tokyo' });
      expect(org).to.include({ name: 'Uni', slug: 'uni', timezone: 'Asia/Tokyo', active: true });
      expect(org.settings).to.deep.equal({
        sessionMinutes: null,
        lateGraceMinutes: null,
        codePeriodS: null,
        defaultPolicy: {},
        sharedDevice: 'flag',
        retention: DEFAULT_RETENTION,
        riskThreshold: 75,
      });
      expect(org.id).to.be.a('string').with.length.greaterThan(0);
      expect(org.createdAt).to.be.instanceOf(Date);
      expect(await s.organisations.get(org.id)).to.deep.equal(org);
      expect(await s.organisations.getBySlug('uni')).to.deep.equal(org);
      expect(await s.organisations.get('missing')).to.equal(null);
      expect(await s.organisations.getBySlug('missing')).to.equal(null);
      expect(await s.organisations.count()).to.equal(1);
    });

    it('lists every organisation by slug, a page at a time', async function () {
      const s = ctx.store();
      const b = await s.organisations.create({ name: 'B', slug: 'b-org', timezone: 'UTC' });
      const a = await s.organisations.create({ name: 'A', slug: 'a-org', timezone: 'UTC', active: false });
      const c = await s.organisations.create({ name: 'C', slug: 'c-org', timezone: 'UTC' });
      const all = await s.organisations.list({ limit: 10, offset: 0 });
      expect(all.total).to.equal(3);
      expect(all.items).to.deep.equal([a, b, c]);
      expect(await s.organisations.list({ limit: 1, offset: 1 })).to.deep.equal({ items: [b], total: 3 });
    });

    it('updates name, time zone, status and settings, and nothing else', async function () {
      const s = ctx.store();
      const org = await s.organisations.create({ name: 'Uni', slug: 'uni', timezone: 'UTC' });
      const other = await s.organisations.create({ name: 'Other', slug: 'other', timezone: 'UTC' });
      const renamed = await s.organisations.update(org.id, { name: 'University' });
      expect(renamed).to.deep.equal({ ...org, name: 'University' });

      const settings = {
        sharedDevice: 'refuse' as const,
        retention: { ...DEFAULT_RETENTION, locationMode: 'never' as const, ipDays: 0 },
        riskThreshold: 60,
        sessionMinutes: 45,
        lateGraceMinutes: 0,
        codePeriodS: 30,
        defaultPolicy: { geofence: false, maxAttempts: 3 },
      };
      const changed = await s.organisations.update(org.id, { timezone: 'Europe/Paris', active: false, settings });
      expect(changed).to.deep.equal({ ...org, name: 'University', timezone: 'Europe/Paris', active: false, settings });
      expect(await s.organisations.get(org.id)).to.deep.equal(changed);
      expect(await s.organisations.getBySlug('uni')).to.deep.equal(changed);

      // Settings are replaced as a whole: a policy field left out is unset again.
      const cleared = await s.organisations.update(org.id, { settings: { ...settings, defaultPolicy: { selfie: true } } });
      expect(cleared!.settings.defaultPolicy).to.deep.equal({ selfie: true });
      // Who hears of alerts: stored when on, absent (off) otherwise.
      expect(other.settings).not.to.have.any.keys('notifyStudent', 'notifyGuardians');
      const notify = await s.organisations.update(org.id, { settings: { ...settings, notifyStudent: true, notifyGuardians: true } });
      expect(notify!.settings).to.include({ notifyStudent: true, notifyGuardians: true });
      expect((await s.organisations.get(org.id))!.settings).to.include({ notifyStudent: true, notifyGuardians: true });
      await s.organisations.update(org.id, { settings: { ...settings, notifyGuardians: true } });
      const one = (await s.organisations.get(org.id))!.settings;
      expect(one).to.include({ notifyGuardians: true }).and.not.to.have.property('notifyStudent');
      expect(await s.organisations.get(other.id)).to.deep.equal(other);
      expect(await s.organisations.update('missing', { name: 'X' })).to.equal(null);
    });

    it('rejects a taken slug with StoreConflictError("slug")', async function () {
      const s = ctx.store();
      await makeOrg(s, 'dup');
      await expectConflict(s.organisations.create({ name: 'Other', slug: 'dup', timezone: 'UTC' }), 'slug');
      expect(await s.organisations.count()).to.equal(1);
    });
  });

  describe('users', function () {
    it('creates with a lower-cased email and round-trips every field', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const u = await s.users.create(org.id, newUser({ email: 'Ada.Lovelace@Example.TEST', passwordHash: '$2a$hash', role: 'teacher' }));
      expect(u.email).to.equal('ada.lovelace@example.test');
      expect(u.orgId).to.equal(org.id);
      expect(u.createdAt.getTime()).to.equal(u.updatedAt.getTime());
      expect(await s.users.get(org.id, u.id)).to.deep.equal(u);
      expect(await s.users.getByEmail(org.id, 'ADA.lovelace@example.test')).to.deep.equal(u);
      expect(await s.users.get(org.id, 'missing')).to.equal(null);
    });

    it('keeps the forced password change flag: false unless asked, then set and cleared by update', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const plain = await s.users.create(org.id, newUser({ email: 'plain@example.test' }));
      expect(plain.mustChangePassword).to.equal(false);
      const forced = await s.users.create(org.id, { ...newUser({ email: 'forced@example.test' }), mustChangePassword: true });
      expect((await s.users.get(org.id, forced.id))!.mustChangePassword).to.equal(true);
      expect((await s.users.update(org.id, forced.id, { mustChangePassword: false }))!.mustChangePassword).to.equal(false);
      expect((await s.users.get(org.id, forced.id))!.mustChangePassword).to.equal(false);
      expect((await s.users.update(org.id, plain.id, { name: 'Renamed' }))!.mustChangePassword).to.equal(false);
    });

    it('keeps emails unique per organisation only', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      await s.users.create(a.id, newUser({ email: 'same@example.test' }));
      await expectConflict(s.users.create(a.id, newUser({ email: 'SAME@example.test' })), 'email');
      const other = await s.users.create(b.id, newUser({ email: 'same@example.test' }));
      expect((await s.users.list(a.id, page())).total).to.equal(1);
      const found = await s.users.findByEmailAnyOrg('Same@Example.test');
      expect(found.map((u) => u.orgId).sort()).to.deep.equal([a.id, b.id].sort());
      expect(found.find((u) => u.orgId === b.id)).to.deep.equal(other);
      expect(await s.users.findByEmailAnyOrg('nobody@example.test')).to.deep.equal([]);
    });

    it('createMany creates all or none', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const made = await s.users.createMany(org.id, [newUser(), newUser(), newUser()]);
      expect(made).to.have.length(3);
      expect(new Set(made.map((u) => u.id)).size).to.equal(3);
      for (const u of made) expect(await s.users.get(org.id, u.id)).to.deep.equal(u);

      const fresh = newUser();
      await expectConflict(s.users.createMany(org.id, [fresh, newUser({ email: made[0]!.email })]), 'email');
      await expectConflict(
        s.users.createMany(org.id, [newUser({ email: 'x@example.test' }), newUser({ email: 'X@example.test' })]),
        'email',
      );
      expect((await s.users.list(org.id, page())).total).to.equal(3);
      expect(await s.users.getByEmail(org.id, fresh.email)).to.equal(null);
      expect(await s.users.createMany(org.id, [])).to.deep.equal([]);
    });

    it('createEach creates each on its own, answering a conflict for an email taken or repeated', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const [taken] = await s.users.createMany(org.id, [newUser()]);
      const elsewhere = await s.users.create(other.id, newUser());
      const inputs = [
        newUser(),
        newUser({ email: taken!.email }),
        newUser({ email: 'twice@example.test' }),
        newUser({ email: 'TWICE@example.test' }),
        newUser({ email: elsewhere.email }),
      ];
      const out = await s.users.createEach(org.id, inputs);
      expect(out.map((o) => (o instanceof StoreConflictError ? `conflict:${o.key}` : 'created'))).to.deep.equal([
        'created',
        'conflict:email',
        'created',
        'conflict:email',
        'created',
      ]);
      for (const o of out) if (!(o instanceof StoreConflictError)) expect(await s.users.get(org.id, o.id)).to.deep.equal(o);
      expect((await s.users.list(org.id, page())).total).to.equal(4);
      expect(await s.users.createEach(org.id, [])).to.deep.equal([]);
    });

    it('getMany returns only the organisation’s users', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const [u1, u2] = await s.users.createMany(a.id, [newUser(), newUser()]);
      const foreign = await s.users.create(b.id, newUser());
      const got = await s.users.getMany(a.id, [u1!.id, u2!.id, foreign.id, 'missing']);
      expect(got.map((u) => u.id).sort()).to.deep.equal([u1!.id, u2!.id].sort());
      expect(await s.users.getMany(a.id, [])).to.deep.equal([]);
    });

    it('getByEmails and getByStudentNumbers match exactly, within the organisation', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const [one, longer, twin, teacher] = await s.users.createMany(a.id, [
        newUser({ email: 'one@example.test', studentNumber: '1000' }),
        newUser({ email: 'xone@example.test', studentNumber: '10001' }),
        newUser({ studentNumber: '1000' }),
        newUser({ role: 'teacher', studentNumber: null }),
      ]);
      await s.users.create(b.id, newUser({ email: 'one@example.test', studentNumber: '1000' }));
      const ids = (us: Array<{ id: string }>) => us.map((u) => u.id).sort();
      expect(ids(await s.users.getByStudentNumbers(a.id, ['1000', 'missing']))).to.deep.equal(ids([one!, twin!]));
      expect(ids(await s.users.getByStudentNumbers(a.id, ['10001', '100']))).to.deep.equal([longer!.id]);
      expect(ids(await s.users.getByEmails(a.id, ['ONE@example.test', teacher!.email, 'ne@example.test']))).to.deep.equal(
        ids([one!, teacher!]),
      );
      expect((await s.users.getByEmails(a.id, ['one@example.test']))[0]).to.deep.equal(one);
      expect(await s.users.getByEmails(a.id, [])).to.deep.equal([]);
      expect(await s.users.getByStudentNumbers(a.id, [])).to.deep.equal([]);
    });

    it('getNames and getStandings read those columns of the organisation’s users, as stored now', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const [u1, u2] = await s.users.createMany(a.id, [
        newUser({ name: 'Ada', studentNumber: 'N1' }),
        newUser({ name: 'Bo', studentNumber: null }),
      ]);
      const foreign = await s.users.create(b.id, newUser());
      const ids = [u1!.id, u2!.id, foreign.id, 'missing'];
      const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((x, y) => x.id.localeCompare(y.id));
      expect(byId(await s.users.getNames(a.id, ids))).to.deep.equal(
        byId([
          { id: u1!.id, name: 'Ada', studentNumber: 'N1' },
          { id: u2!.id, name: 'Bo', studentNumber: null },
        ]),
      );
      expect(byId(await s.users.getStandings(a.id, ids))).to.deep.equal(
        byId([
          { id: u1!.id, role: 'student', active: true, mustChangePassword: false },
          { id: u2!.id, role: 'student', active: true, mustChangePassword: false },
        ]),
      );
      // Nothing is kept between reads: a rename, a deactivation and an erasure show at the next one.
      await s.users.update(a.id, u1!.id, { name: 'Ada Lovelace', studentNumber: 'N9', role: 'teacher', mustChangePassword: true });
      await s.users.update(a.id, u2!.id, { active: false });
      expect(byId(await s.users.getNames(a.id, [u1!.id]))).to.deep.equal([{ id: u1!.id, name: 'Ada Lovelace', studentNumber: 'N9' }]);
      expect(byId(await s.users.getStandings(a.id, [u1!.id, u2!.id]))).to.deep.equal(
        byId([
          { id: u1!.id, role: 'teacher', active: true, mustChangePassword: true },
          { id: u2!.id, role: 'student', active: false, mustChangePassword: false },
        ]),
      );
      await s.privacy.erase({ orgId: a.id, userId: u2!.id, identifiers: [u2!.email, u2!.name] }, 'tomb-names');
      expect(await s.users.getNames(a.id, [u2!.id])).to.deep.equal([]);
      expect(await s.users.getStandings(a.id, [u2!.id])).to.deep.equal([]);
      expect(await s.users.getNames(a.id, [])).to.deep.equal([]);
      expect(await s.users.getStandings(a.id, [])).to.deep.equal([]);
    });

    it('searches users and subjects by q whatever the accents and case of either side', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const helene = await s.users.create(org.id, newUser({ name: 'Hélène Dupré' }));
      const elodie = await s.users.create(org.id, newUser({ name: 'Elodie Garçon' }));
      await s.users.create(org.id, newUser({ name: 'Hector Martin' }));
      const found = async (q: string) => (await s.users.list(org.id, { ...page(), q })).items.map((u) => u.id);
      expect(await found('helene')).to.deep.equal([helene.id]);
      expect(await found('DUPRE')).to.deep.equal([helene.id]);
      expect(await found('élodie')).to.deep.equal([elodie.id]);
      expect(await found('garcon')).to.deep.equal([elodie.id]);
      expect(await found('hél')).to.deep.equal([helene.id]);
      const french = await s.subjects.create(org.id, newSubject({ code: 'FR1', name: 'Français' }));
      await s.subjects.create(org.id, newSubject({ code: 'EN1', name: 'Anglais' }));
      expect((await s.subjects.list(org.id, { ...page(), q: 'francais' })).items.map((x) => x.id)).to.deep.equal([french.id]);
    });

    it('lists with role, active, password and case-insensitive q filters, paging and total', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.users.create(other.id, newUser({ name: 'Zed Outsider' }));
      const teacher = await s.users.create(org.id, newUser({ role: 'teacher', name: 'Grace Hopper', studentNumber: null }));
      const inactive = await s.users.create(org.id, newUser({ active: false, name: 'Alan Turing' }));
      const students = await s.users.createMany(
        org.id,
        [1, 2, 3, 4].map((i) => newUser({ name: `Pupil ${i}` })),
      );
      const numbered = await s.users.create(org.id, newUser({ name: 'Barbara', studentNumber: 'MATR-77x', email: 'liskov@uni.test' }));

      const all = await s.users.list(org.id, page());
      expect(all.total).to.equal(7);
      expect(all.items).to.have.length(7);

      const teachers = await s.users.list(org.id, { ...page(), role: 'teacher' });
      expect(teachers.items.map((u) => u.id)).to.deep.equal([teacher.id]);
      expect(teachers.total).to.equal(1);

      const inactives = await s.users.list(org.id, { ...page(), active: false });
      expect(inactives.items.map((u) => u.id)).to.deep.equal([inactive.id]);
      expect((await s.users.list(org.id, { ...page(), active: true })).total).to.equal(6);

      // Who has not accepted an invitation yet: no password, whichever way the store left it unset.
      await s.users.update(org.id, students[0]!.id, { passwordHash: 'hash-1' });
      await s.users.update(org.id, teacher.id, { passwordHash: 'hash-2' });
      const pending = await s.users.list(org.id, { ...page(), hasPassword: false, active: true });
      expect(pending.items.map((u) => u.id).sort()).to.deep.equal([...students.slice(1), numbered].map((u) => u.id).sort());
      expect(pending.total).to.equal(4);
      const chosen = await s.users.list(org.id, { ...page(), hasPassword: true });
      expect(chosen.items.map((u) => u.id).sort()).to.deep.equal([students[0]!.id, teacher.id].sort());
      expect(chosen.total).to.equal(2);

      const byName = await s.users.list(org.id, { ...page(), q: 'gRACE' });
      expect(byName.items.map((u) => u.id)).to.deep.equal([teacher.id]);
      const byEmail = await s.users.list(org.id, { ...page(), q: 'LISKOV@' });
      expect(byEmail.items.map((u) => u.id)).to.deep.equal([numbered.id]);
      const byNumber = await s.users.list(org.id, { ...page(), q: 'matr-77X' });
      expect(byNumber.items.map((u) => u.id)).to.deep.equal([numbered.id]);
      const pupils = await s.users.list(org.id, { ...page(), q: 'pupil', role: 'student', active: true });
      expect(pupils.items.map((u) => u.id).sort()).to.deep.equal(students.map((u) => u.id).sort());
      expect(pupils.total).to.equal(4);
      expect((await s.users.list(org.id, { ...page(), q: 'outsider' })).total).to.equal(0);

      const seen: string[] = [];
      for (let offset = 0; offset < 7; offset += 3) {
        const p = await s.users.list(org.id, page(3, offset));
        expect(p.total).to.equal(7);
        expect(p.items).to.have.length(Math.min(3, 7 - offset));
        seen.push(...p.items.map((u) => u.id));
      }
      expect(new Set(seen)).to.deep.equal(new Set(all.items.map((u) => u.id)));
      expect((await s.users.list(org.id, page(3, 9))).items).to.deep.equal([]);
    });

    it('updates a patch, lower-cases a new email and keeps emails unique', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const u = await s.users.create(org.id, newUser());
      const taken = await s.users.create(org.id, newUser());
      const updated = await s.users.update(org.id, u.id, {
        name: 'Renamed',
        email: 'New@Example.TEST',
        active: false,
        studentNumber: null,
      });
      expect(updated).to.include({ name: 'Renamed', email: 'new@example.test', active: false, studentNumber: null, role: u.role });
      expect(updated!.createdAt.getTime()).to.equal(u.createdAt.getTime());
      expect(updated!.updatedAt.getTime()).to.be.at.least(u.updatedAt.getTime());
      expect(await s.users.get(org.id, u.id)).to.deep.equal(updated);
      expect(await s.users.getByEmail(org.id, 'new@example.test')).to.deep.equal(updated);

      await expectConflict(s.users.update(org.id, u.id, { email: taken.email.toUpperCase() }), 'email');
      expect(await s.users.get(org.id, u.id)).to.deep.equal(updated);
      expect(await s.users.update(org.id, 'missing', { name: 'x' })).to.equal(null);
    });

    it('hides users of another organisation', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const theirs = await s.users.create(b.id, newUser());
      expect(await s.users.get(a.id, theirs.id)).to.equal(null);
      expect(await s.users.getByEmail(a.id, theirs.email)).to.equal(null);
      expect(await s.users.list(a.id, page())).to.deep.equal({ items: [], total: 0 });
      expect(await s.users.update(a.id, theirs.id, { name: 'hijacked' })).to.equal(null);
      expect(await s.users.get(b.id, theirs.id)).to.deep.equal(theirs);
    });
  });

  describe('subjects and enrolments', function () {
    it('creates and round-trips JSON fields; codes are unique per organisation', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const sub = await s.subjects.create(a.id, newSubject({ code: 'CS101', teacherIds: ['t1', 't2'] }));
      expect(sub).to.include({ code: 'CS101', orgId: a.id });
      expect(await s.subjects.get(a.id, sub.id)).to.deep.equal(sub);
      const noLoc = await s.subjects.create(a.id, newSubject({ location: null, allowedIpRanges: [] }));
      expect(await s.subjects.get(a.id, noLoc.id)).to.deep.equal(noLoc);
      await expectConflict(s.subjects.create(a.id, newSubject({ code: 'CS101' })), 'code');
      await s.subjects.create(b.id, newSubject({ code: 'CS101' }));
      expect((await s.subjects.list(a.id, page())).total).to.equal(2);
      expect(await s.subjects.get(a.id, 'missing')).to.equal(null);
    });

    it('getByCodes matches codes exactly, within the organisation', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const bio = await s.subjects.create(a.id, newSubject({ code: 'BIO201' }));
      await s.subjects.create(a.id, newSubject({ code: 'A-BIO201' }));
      await s.subjects.create(b.id, newSubject({ code: 'BIO202' }));
      expect(await s.subjects.getByCodes(a.id, ['BIO201', 'BIO', 'bio201', 'BIO202'])).to.deep.equal([bio]);
      expect(await s.subjects.getByCodes(a.id, [])).to.deep.equal([]);
    });

    it('getMany reads subjects by id, within the organisation', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const bio = await s.subjects.create(a.id, newSubject({ code: 'BIO201' }));
      const chem = await s.subjects.create(a.id, newSubject({ code: 'CHEM1' }));
      const other = await s.subjects.create(b.id, newSubject({ code: 'BIO202' }));
      const got = await s.subjects.getMany(a.id, [chem.id, 'missing', other.id, bio.id]);
      expect(got.sort((x, y) => x.code.localeCompare(y.code))).to.deep.equal([bio, chem]);
      expect(await s.subjects.getMany(a.id, [])).to.deep.equal([]);
    });

    it("a subject's teachers changed with a fence are written only while its leases are the owner's, and extend them", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const lease = (minutes: number) => new Date(Date.UTC(2026, 2, 2, 9) + minutes * 60_000);
      const never = new Date(8.64e15);
      const names = ['slots:o:subject:sub', 'slots:o:teacher:t2'];
      for (const name of names) expect(await s.jobs.claim(name, 'node-a', lease(10), lease(0), never)).to.equal(true);
      const fence = (until: number) => ({ names, owner: 'node-a', until: lease(until) });
      const sub = await s.subjects.create(org.id, newSubject({ teacherIds: ['t1'] }));
      const changed = await s.subjects.update(org.id, sub.id, { teacherIds: ['t2', 't1'] }, fence(40));
      expect(changed?.teacherIds).to.deep.equal(['t2', 't1']);
      expect(await s.subjects.get(org.id, sub.id)).to.deep.equal(changed);
      // Extended to the fence's `until`: another owner cannot take them before it.
      expect(await s.jobs.claim(names[1]!, 'node-b', lease(50), lease(20), never)).to.equal(false);
      expect(await s.jobs.claim(names[1]!, 'node-b', lease(50), lease(41), never)).to.equal(true);
      const refused = await s.subjects.update(org.id, sub.id, { teacherIds: ['t3'], name: 'Renamed' }, fence(60)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).to.be.instanceOf(LeaseLostError);
      // Nothing of it: the teachers and name as the fenced change left them.
      expect(await s.subjects.get(org.id, sub.id)).to.deep.equal(changed);
    });

    it("several subjects' teachers change together only while each is as the change found it, else none does", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const art = await s.subjects.create(org.id, newSubject({ code: 'ART', teacherIds: ['t1'] }));
      const bio = await s.subjects.create(org.id, newSubject({ code: 'BIO', teacherIds: ['t2', 't1'] }));
      const chem = await s.subjects.create(org.id, newSubject({ code: 'CHEM', teacherIds: ['t1', 't2'] }));
      const foreign = await s.subjects.create(other.id, newSubject({ code: 'ART', teacherIds: ['t1'] }));
      const swapped = await s.subjects.setTeachersEach(org.id, [
        { id: art.id, from: ['t1'], to: ['t3'] },
        { id: bio.id, from: ['t2', 't1'], to: ['t2', 't3', 't1'] },
      ]);
      expect(swapped.map((x) => [x.id, x.teacherIds])).to.deep.equal([
        [art.id, ['t3']],
        [bio.id, ['t2', 't3', 't1']],
      ]);
      expect(await s.subjects.get(org.id, art.id)).to.deep.equal(swapped[0]);
      // Chemistry's teachers are not as found (same ids, other order): art's change, first, is not kept either.
      await expectConflict(
        s.subjects.setTeachersEach(org.id, [
          { id: art.id, from: ['t3'], to: ['t1'] },
          { id: chem.id, from: ['t2', 't1'], to: ['t1'] },
        ]),
        `teacherIds:${chem.id}`,
      );
      expect((await s.subjects.get(org.id, art.id))?.teacherIds).to.deep.equal(['t3']);
      expect((await s.subjects.get(org.id, chem.id))?.teacherIds).to.deep.equal(['t1', 't2']);
      // Another organisation's subject is not found, so refused.
      await expectConflict(s.subjects.setTeachersEach(org.id, [{ id: foreign.id, from: ['t1'], to: ['t3'] }]), `teacherIds:${foreign.id}`);
      expect((await s.subjects.get(other.id, foreign.id))?.teacherIds).to.deep.equal(['t1']);
    });

    it('setTeachersEach writes its audit entries with the change, and none when it is refused or its lease lost', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const at = (minutes: number) => new Date(Date.UTC(2026, 2, 2, 9) + minutes * 60_000);
      const art = await s.subjects.create(org.id, newSubject({ code: 'ART', teacherIds: ['t1'] }));
      const bio = await s.subjects.create(org.id, newSubject({ code: 'BIO', teacherIds: ['t1'] }));
      const entry = (note: string) => ({
        orgId: org.id,
        entityType: 'user' as const,
        entityId: 't1',
        sessionId: null,
        actorId: null,
        action: 'user.handover' as const,
        from: null,
        to: { note },
        reason: null,
        ip: null,
        at: at(0),
      });
      const notes = async () => (await s.audit.listForEntity(org.id, 'user', 't1')).map((e) => (e.to as { note: string }).note);
      // Biology is not as found: art, written first, is put back and the entry is not kept.
      await expectConflict(
        s.subjects.setTeachersEach(
          org.id,
          [
            { id: art.id, from: ['t1'], to: ['t2'] },
            { id: bio.id, from: ['t3'], to: ['t2'] },
          ],
          undefined,
          [entry('refused')],
        ),
        `teacherIds:${bio.id}`,
      );
      const name = 'slots:o:handover:t1';
      const never = new Date(8.64e15);
      expect(await s.jobs.claim(name, 'node-a', at(10), at(0), never)).to.equal(true);
      expect(await s.jobs.claim(name, 'node-b', at(30), at(11), never)).to.equal(true);
      const lost = s.subjects.setTeachersEach(
        org.id,
        [{ id: art.id, from: ['t1'], to: ['t2'] }],
        { names: [name], owner: 'node-a', until: at(40) },
        [entry('lost')],
      );
      expect(
        await lost.then(
          () => null,
          (e: unknown) => e,
        ),
      ).to.be.instanceOf(LeaseLostError);
      expect(await notes()).to.deep.equal([]);
      expect((await s.subjects.getMany(org.id, [art.id, bio.id])).map((x) => x.teacherIds)).to.deep.equal([['t1'], ['t1']]);

      await s.subjects.setTeachersEach(org.id, [{ id: art.id, from: ['t1'], to: ['t2'] }], undefined, [entry('made')]);
      expect(await notes()).to.deep.equal(['made']);
      // An entry with no subject left to change (a hand back of subjects already as before) is written alone.
      await s.subjects.setTeachersEach(org.id, [], undefined, [entry('alone')]);
      expect(await notes()).to.deep.equal(['made', 'alone']);
    });

    it('setTeachersEach with a fence writes nothing once a lease is lost', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const at = (minutes: number) => new Date(Date.UTC(2026, 2, 2, 9) + minutes * 60_000);
      const never = new Date(8.64e15);
      const name = 'slots:o:handover:t1';
      expect(await s.jobs.claim(name, 'node-a', at(10), at(0), never)).to.equal(true);
      const art = await s.subjects.create(org.id, newSubject({ code: 'ART', teacherIds: ['t1'] }));
      const bio = await s.subjects.create(org.id, newSubject({ code: 'BIO', teacherIds: ['t1'] }));
      expect(await s.jobs.claim(name, 'node-b', at(30), at(11), never)).to.equal(true);
      const refused = await s.subjects
        .setTeachersEach(
          org.id,
          [
            { id: art.id, from: ['t1'], to: ['t2'] },
            { id: bio.id, from: ['t1'], to: ['t2'] },
          ],
          { names: [name], owner: 'node-a', until: at(40) },
        )
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(refused).to.be.instanceOf(LeaseLostError);
      expect((await s.subjects.getMany(org.id, [art.id, bio.id])).map((x) => x.teacherIds)).to.deep.equal([['t1'], ['t1']]);
    });

    it('unenrolStudent takes one student out of several subjects at once, within the organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const art = await s.subjects.create(org.id, newSubject({ code: 'ART' }));
      const bio = await s.subjects.create(org.id, newSubject({ code: 'BIO' }));
      const chem = await s.subjects.create(org.id, newSubject({ code: 'CHEM' }));
      const foreign = await s.subjects.create(other.id, newSubject({ code: 'ART' }));
      const [st1, st2] = (await studentIds(s, org.id, 2)) as [string, string];
      const [theirs] = (await studentIds(s, other.id, 1)) as [string];
      for (const sub of [art, bio, chem]) await s.subjects.enrol(org.id, sub.id, [st1, st2]);
      await s.subjects.enrol(other.id, foreign.id, [theirs]);
      expect(await s.subjects.unenrolStudent(org.id, st1, [art.id, bio.id, foreign.id, 'missing'])).to.equal(2);
      expect(await s.subjects.unenrolStudent(org.id, theirs, [foreign.id])).to.equal(0);
      expect(await s.subjects.listEnrolled(org.id, art.id)).to.deep.equal([st2]);
      expect(await s.subjects.listEnrolled(org.id, bio.id)).to.deep.equal([st2]);
      expect(await s.subjects.listEnrolled(org.id, chem.id)).to.have.members([st1, st2]);
      expect(await s.subjects.listEnrolled(other.id, foreign.id)).to.deep.equal([theirs]);
      expect(await s.subjects.unenrolStudent(org.id, st1, [])).to.equal(0);
    });

    it('lists by teacher, student and q with paging and total', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const math = await s.subjects.create(org.id, newSubject({ code: 'MATH1', name: 'Linear Algebra', teacherIds: ['t1'] }));
      const phys = await s.subjects.create(org.id, newSubject({ code: 'PHYS1', name: 'Mechanics', teacherIds: ['t1', 't2'] }));
      const chem = await s.subjects.create(org.id, newSubject({ code: 'CHEM1', name: 'Organic', teacherIds: ['t2'] }));
      const [st1, st2] = (await studentIds(s, org.id, 2)) as [string, string];
      await s.subjects.enrol(org.id, phys.id, [st1, st2]);
      await s.subjects.enrol(org.id, chem.id, [st1]);

      const ids = async (f: object) => (await s.subjects.list(org.id, { ...page(), ...f })).items.map((x) => x.id).sort();
      expect(await ids({ teacherId: 't1' })).to.deep.equal([math.id, phys.id].sort());
      expect(await ids({ teacherId: 't2' })).to.deep.equal([phys.id, chem.id].sort());
      expect(await ids({ teacherId: 't9' })).to.deep.equal([]);
      expect(await ids({ studentId: st1 })).to.deep.equal([phys.id, chem.id].sort());
      expect(await ids({ studentId: st2, teacherId: 't2' })).to.deep.equal([phys.id]);
      expect(await ids({ q: 'algebra' })).to.deep.equal([math.id]);
      expect(await ids({ q: 'phys' })).to.deep.equal([phys.id]);

      const p1 = await s.subjects.list(org.id, page(2, 0));
      const p2 = await s.subjects.list(org.id, page(2, 2));
      expect(p1.total).to.equal(3);
      expect(p2.total).to.equal(3);
      expect(p1.items).to.have.length(2);
      expect(p2.items).to.have.length(1);
      expect([...p1.items, ...p2.items].map((x) => x.id).sort()).to.deep.equal([math.id, phys.id, chem.id].sort());
      expect((await s.subjects.list(org.id, { ...page(1, 0), teacherId: 't1' })).total).to.equal(2);
    });

    it("gives a page's total without a count query when the page is shorter than its limit, and counts when it cannot tell", async function () {
      const counted = ctx.countQueries();
      if (!counted) return this.skip();
      const s = ctx.store();
      const org = await makeOrg(s);
      const [st1] = (await studentIds(s, org.id, 3)) as [string];
      const math = await s.subjects.create(org.id, newSubject());
      await s.subjects.create(org.id, newSubject());
      await s.subjects.enrol(org.id, math.id, [st1]);
      const before = counted();
      // A short page is the last one: its offset and its items are the total.
      expect((await s.users.list(org.id, page(10, 0))).total).to.equal(3);
      const last = await s.users.list(org.id, page(2, 2));
      expect([last.items.length, last.total]).to.deep.equal([1, 3]);
      // A student's subjects, as a reconnect's resync reads them (readAllPages, 500 a page).
      const mine = await s.subjects.list(org.id, { ...page(500, 0), studentId: st1 });
      expect([mine.items.map((x) => x.id), mine.total]).to.deep.equal([[math.id], 1]);
      expect((await s.subjects.list(org.id, { ...page(500, 0), studentId: 'nobody' })).total).to.equal(0);
      expect((await s.organisations.list(page(10, 0))).total).to.equal(1);
      expect(counted() - before).to.equal(0);
      // A full page, or an empty one past the first, tells nothing of the rows after it: counted.
      expect((await s.users.list(org.id, page(3, 0))).total).to.equal(3);
      expect(await s.users.list(org.id, page(2, 5))).to.deep.equal({ items: [], total: 3 });
      expect((await s.subjects.list(org.id, page(1, 0))).total).to.equal(2);
      expect(counted() - before).to.equal(3);
    });

    it('archives and unarchives by patch, and lists archived, in use or both, with other filters', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const old = await s.subjects.create(org.id, newSubject({ code: 'OLD1', name: 'Last year', teacherIds: ['t1'] }));
      const cur = await s.subjects.create(org.id, newSubject({ code: 'NEW1', name: 'This year', teacherIds: ['t1'] }));
      expect(old.archivedAt).to.equal(null);
      const at = new Date('2026-06-30T16:00:00.000Z');
      const archived = await s.subjects.update(org.id, old.id, { archivedAt: at });
      expect(archived!.archivedAt).to.deep.equal(at);
      expect(await s.subjects.get(org.id, old.id)).to.deep.equal(archived);
      expect((await s.subjects.getMany(org.id, [old.id]))[0]!.archivedAt).to.deep.equal(at);

      const ids = async (f: object) => (await s.subjects.list(org.id, { ...page(), ...f })).items.map((x) => x.id).sort();
      expect(await ids({ archived: false })).to.deep.equal([cur.id]);
      expect(await ids({ archived: true })).to.deep.equal([old.id]);
      expect(await ids({})).to.deep.equal([old.id, cur.id].sort());
      expect(await ids({ archived: true, teacherId: 't1', q: 'last' })).to.deep.equal([old.id]);
      expect((await s.subjects.list(org.id, { ...page(1, 0), archived: false })).total).to.equal(1);
      // A change of name leaves the archiving alone; a null patch undoes it.
      expect((await s.subjects.update(org.id, old.id, { name: 'Last year (2025)' }))!.archivedAt).to.deep.equal(at);
      expect((await s.subjects.update(org.id, old.id, { archivedAt: null }))!.archivedAt).to.equal(null);
      expect(await ids({ archived: true })).to.deep.equal([]);
    });

    it('updates a patch and keeps codes unique', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const sub = await s.subjects.create(org.id, newSubject());
      const other = await s.subjects.create(org.id, newSubject());
      const up = await s.subjects.update(org.id, sub.id, {
        name: 'New',
        teacherIds: ['t3'],
        location: null,
        allowedIpRanges: ['192.168.0.0/16'],
      });
      expect(up).to.include({ name: 'New', code: sub.code });
      expect(up!.teacherIds).to.deep.equal(['t3']);
      expect(up!.location).to.equal(null);
      expect(up!.allowedIpRanges).to.deep.equal(['192.168.0.0/16']);
      expect(await s.subjects.get(org.id, sub.id)).to.deep.equal(up);
      await expectConflict(s.subjects.update(org.id, sub.id, { code: other.code }), 'code');
      expect(await s.subjects.get(org.id, sub.id)).to.deep.equal(up);
      expect(await s.subjects.update(org.id, 'missing', { name: 'x' })).to.equal(null);
    });

    it('enrols and unenrols idempotently, counting only changes', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const sub = await s.subjects.create(org.id, newSubject());
      const [a, b, c] = (await studentIds(s, org.id, 3)) as [string, string, string];
      expect(await s.subjects.enrol(org.id, sub.id, [a, b])).to.deep.equal({ added: 2, refused: [] });
      expect(await s.subjects.enrol(org.id, sub.id, [b, c, c])).to.deep.equal({ added: 1, refused: [] });
      expect(await s.subjects.enrol(org.id, sub.id, [])).to.deep.equal({ added: 0, refused: [] });
      expect((await s.subjects.listEnrolled(org.id, sub.id)).sort()).to.deep.equal([a, b, c].sort());
      expect(await s.subjects.isEnrolled(org.id, sub.id, b)).to.equal(true);
      expect((await s.subjects.enrolledAmong(org.id, sub.id, [c, 'zzz', a])).sort()).to.deep.equal([a, c].sort());
      expect(await s.subjects.enrolledAmong(org.id, sub.id, [])).to.deep.equal([]);
      expect(await s.subjects.unenrol(org.id, sub.id, [b, 'zzz'])).to.equal(1);
      expect(await s.subjects.unenrol(org.id, sub.id, [b])).to.equal(0);
      expect(await s.subjects.isEnrolled(org.id, sub.id, b)).to.equal(false);
      expect((await s.subjects.listEnrolled(org.id, sub.id)).sort()).to.deep.equal([a, c].sort());
    });

    it('enrol refuses, in its own write, a student deactivated or erased, a teacher, one of another organisation and an unknown id', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const sub = await s.subjects.create(org.id, newSubject());
      const [fine, kept, gone, erased] = await s.users.createMany(org.id, [newUser(), newUser(), newUser(), newUser()]);
      const teacher = await s.users.create(org.id, newUser({ role: 'teacher', studentNumber: null }));
      const [foreign] = await studentIds(s, other.id, 1);
      // Enrolled while active: deactivating does not unenrol, and enrolling again changes nothing.
      await s.subjects.enrol(org.id, sub.id, [kept!.id]);
      // What another admin does between an import's check and its write.
      await s.users.update(org.id, gone!.id, { active: false });
      await s.users.update(org.id, kept!.id, { active: false });
      await s.privacy.erase(personOf(erased!), 'tomb-enrol');
      const asked = [fine!.id, kept!.id, gone!.id, erased!.id, teacher.id, foreign!, 'nobody'];
      const outcome = await s.subjects.enrol(org.id, sub.id, asked);
      expect(outcome.added).to.equal(1);
      expect([...outcome.refused].sort()).to.deep.equal(asked.slice(1).sort());
      expect((await s.subjects.listEnrolled(org.id, sub.id)).sort()).to.deep.equal([fine!.id, kept!.id].sort());
      expect(await s.transfer.count('enrolments')).to.equal(2);
    });

    it('enrolMany enrols several subjects at once, each as enrol would: its own outcome, a foreign subject a no-op', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const [art, bio, empty] = [
        await s.subjects.create(org.id, newSubject()),
        await s.subjects.create(org.id, newSubject()),
        await s.subjects.create(org.id, newSubject()),
      ];
      const theirs = await s.subjects.create(other.id, newSubject());
      const [a, b, c, off] = (await studentIds(s, org.id, 4)) as [string, string, string, string];
      await s.subjects.enrol(org.id, art.id, [a]);
      await s.users.update(org.id, off, { active: false });
      const outcomes = await s.subjects.enrolMany(
        org.id,
        new Map([
          [art.id, [a, b, b, off]],
          [bio.id, [a, c, 'nobody']],
          [empty.id, []],
          [theirs.id, [a]],
          ['missing', [a]],
        ]),
      );
      expect([...outcomes].map(([id, o]) => [id, o.added, [...o.refused].sort(), o.gone])).to.deep.equal([
        [art.id, 1, [off], undefined],
        [bio.id, 2, ['nobody'], undefined],
        [empty.id, 0, [], undefined],
        [theirs.id, 0, [], 'deleted'],
        ['missing', 0, [], 'deleted'],
      ]);
      expect((await s.subjects.listEnrolled(org.id, art.id)).sort()).to.deep.equal([a, b].sort());
      expect((await s.subjects.listEnrolled(org.id, bio.id)).sort()).to.deep.equal([a, c].sort());
      expect(await s.subjects.listEnrolled(other.id, theirs.id)).to.deep.equal([]);
      expect((await s.subjects.enrolMany(org.id, new Map([[art.id, [a, b]]]))).get(art.id)).to.deep.equal({ added: 0, refused: [] });
    });

    it('enrolMany enrols nobody in a subject deleted or archived since the caller read it (gone), and writes each entry with its enrolments', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const [kept, archived, deleted] = [
        await s.subjects.create(org.id, newSubject()),
        await s.subjects.create(org.id, newSubject()),
        await s.subjects.create(org.id, newSubject()),
      ];
      const [a, b, off] = (await studentIds(s, org.id, 3)) as [string, string, string];
      await s.users.update(org.id, off, { active: false });
      await s.subjects.enrol(org.id, kept.id, [a]);
      // What another admin does between an import's check and its write.
      await s.subjects.update(org.id, archived.id, { archivedAt: new Date() });
      await s.subjects.delete(org.id, deleted.id);
      const at = new Date('2026-09-07T08:00:00.000Z');
      const entry = (id: string, ids: string[]): Omit<AuditEntry, 'id'> => ({
        orgId: org.id,
        entityType: 'subject',
        entityId: id,
        sessionId: null,
        actorId: 'admin-1',
        action: 'subject.enrol',
        from: null,
        to: { studentIds: ids },
        reason: null,
        ip: null,
        at,
      });
      const outcomes = await s.subjects.enrolMany(
        org.id,
        new Map([
          [kept.id, [a, b, off]],
          [archived.id, [a, b]],
          [deleted.id, [a]],
        ]),
        entry,
      );
      expect(Object.fromEntries(outcomes)).to.deep.equal({
        [kept.id]: { added: 1, refused: [off] },
        [archived.id]: { added: 0, refused: [], gone: 'archived' },
        [deleted.id]: { added: 0, refused: [], gone: 'deleted' },
      });
      expect(await s.subjects.listEnrolled(org.id, archived.id)).to.deep.equal([]);
      expect(await s.subjects.listEnrolled(org.id, deleted.id)).to.deep.equal([]);
      const enrolEntries = async (id: string) =>
        (await s.audit.listForEntity(org.id, 'subject', id)).filter((e) => e.action === 'subject.enrol').map((e) => e.to);
      // Those already enrolled included, as the single route's entry names them.
      expect(await enrolEntries(kept.id)).to.deep.equal([{ studentIds: [a, b] }]);
      expect(await enrolEntries(archived.id)).to.deep.equal([]);
      expect(await enrolEntries(deleted.id)).to.deep.equal([]);
      expect((await s.subjects.enrol(org.id, archived.id, [b])).gone).to.equal('archived');
    });

    it("lists the roll-over entries of several subjects, oldest first: only those, only the organisation's", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const entry = (orgId: string, entityId: string, action: AuditEntry['action'], at: string): Omit<AuditEntry, 'id'> => ({
        orgId,
        entityType: 'subject',
        entityId,
        sessionId: null,
        actorId: 'admin-1',
        action,
        from: { subjectId: 'src' },
        to: { carried: false },
        reason: null,
        ip: null,
        at: new Date(at),
      });
      await s.audit.appendMany([
        entry(org.id, 'a', 'subject.rollover', '2026-09-01T08:00:02Z'),
        entry(org.id, 'a', 'subject.enrol', '2026-09-01T08:00:03Z'),
        entry(org.id, 'b', 'subject.rollover', '2026-09-01T08:00:01Z'),
        entry(org.id, 'a', 'subject.rollover', '2026-09-01T08:00:04Z'),
        entry(org.id, 'c', 'subject.rollover', '2026-09-01T08:00:05Z'),
        entry(other.id, 'a', 'subject.rollover', '2026-09-01T08:00:00Z'),
      ]);
      const listed = await s.audit.listRollovers(org.id, ['a', 'b', 'nobody']);
      expect(listed.map((e) => [e.entityId, e.action, e.at.toISOString()])).to.deep.equal([
        ['b', 'subject.rollover', '2026-09-01T08:00:01.000Z'],
        ['a', 'subject.rollover', '2026-09-01T08:00:02.000Z'],
        ['a', 'subject.rollover', '2026-09-01T08:00:04.000Z'],
      ]);
      expect(await s.audit.listRollovers(org.id, [])).to.deep.equal([]);
    });

    it('enrolMany leaves no enrolment without its entry: an entry that cannot be written enrols nobody', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const sub = await s.subjects.create(org.id, newSubject());
      const [a] = await studentIds(s, org.id, 1);
      const failing = (): Omit<AuditEntry, 'id'> => {
        throw new Error('entry not written');
      };
      let error: unknown = null;
      await s.subjects.enrolMany(org.id, new Map([[sub.id, [a!]]]), failing).catch((err: unknown) => (error = err));
      expect((error as Error | null)?.message).to.equal('entry not written');
      expect(await s.subjects.listEnrolled(org.id, sub.id)).to.deep.equal([]);
    });

    it("reads the enrolments of several students at once, only this organisation's, none once unenrolled", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const first = await s.subjects.create(org.id, newSubject());
      const second = await s.subjects.create(org.id, newSubject());
      const theirs = await s.subjects.create(other.id, newSubject());
      const [a, b, c] = (await studentIds(s, org.id, 3)) as [string, string, string];
      const [z] = (await studentIds(s, other.id, 1)) as [string];
      await s.subjects.enrol(org.id, first.id, [a, b, c]);
      await s.subjects.enrol(org.id, second.id, [a]);
      await s.subjects.enrol(other.id, theirs.id, [z]);
      const pairs = async (ids: string[]) =>
        (await s.subjects.enrolmentsOf(org.id, ids)).map((e) => `${e.studentId} ${e.subjectId}`).sort();
      expect(await pairs([a, c, z, 'zzz'])).to.deep.equal([`${a} ${first.id}`, `${a} ${second.id}`, `${c} ${first.id}`].sort());
      expect(await s.subjects.enrolmentsOf(org.id, [])).to.deep.equal([]);
      await s.subjects.unenrol(org.id, first.id, [a]);
      expect(await pairs([a])).to.deep.equal([`${a} ${second.id}`]);
      expect(await s.subjects.enrolmentsOf(other.id, [z, a])).to.deep.equal([{ studentId: z, subjectId: theirs.id }]);
    });

    it('concurrent enrols of overlapping students enrol each once and count each once', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const sub = await s.subjects.create(org.id, newSubject());
      const ids = await studentIds(s, org.id, 30);
      await s.subjects.enrol(org.id, sub.id, [ids[0]!]);
      // Four calls over the same 30 students, one already enrolled, in different orders.
      const counts = await Promise.all(
        [ids, [...ids].reverse(), ids.slice(10), ids.slice(0, 20)].map((part) => s.subjects.enrol(org.id, sub.id, part)),
      );
      expect(counts.reduce((n, c) => n + c.added, 0)).to.equal(29);
      expect(counts.flatMap((c) => c.refused)).to.deep.equal([]);
      expect((await s.subjects.listEnrolled(org.id, sub.id)).sort()).to.deep.equal([...ids].sort());
      expect(await s.transfer.count('enrolments')).to.equal(30);
    });

    it('delete removes the subject and its enrolments', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const sub = await s.subjects.create(org.id, newSubject({ code: 'GONE' }));
      const keep = await s.subjects.create(org.id, newSubject());
      const [a, b] = (await studentIds(s, org.id, 2)) as [string, string];
      await s.subjects.enrol(org.id, sub.id, [a, b]);
      await s.subjects.enrol(org.id, keep.id, [a]);
      expect(await s.subjects.delete(org.id, sub.id)).to.equal(true);
      expect(await s.subjects.delete(org.id, sub.id)).to.equal(false);
      expect(await s.subjects.get(org.id, sub.id)).to.equal(null);
      expect(await s.subjects.listEnrolled(org.id, sub.id)).to.deep.equal([]);
      expect(await s.subjects.isEnrolled(org.id, sub.id, a)).to.equal(false);
      expect(await s.subjects.listEnrolled(org.id, keep.id)).to.deep.equal([a]);
      expect((await s.subjects.list(org.id, { ...page(), studentId: a })).items.map((x) => x.id)).to.deep.equal([keep.id]);
      expect(await s.transfer.count('enrolments')).to.equal(1);
      await s.subjects.create(org.id, newSubject({ code: 'GONE' }));
    });

    it('hides subjects and enrolments of another organisation', async function () {
      const s = ctx.store();
      const a = await makeOrg(s);
      const b = await makeOrg(s);
      const theirs = await s.subjects.create(b.id, newSubject({ teacherIds: ['t1'] }));
      const [st1] = (await studentIds(s, b.id, 1)) as [string];
      const [st2] = (await studentIds(s, a.id, 1)) as [string];
      await s.subjects.enrol(b.id, theirs.id, [st1]);
      expect(await s.subjects.get(a.id, theirs.id)).to.equal(null);
      expect(await s.subjects.list(a.id, { ...page(), teacherId: 't1' })).to.deep.equal({ items: [], total: 0 });
      expect(await s.subjects.list(a.id, { ...page(), studentId: st1 })).to.deep.equal({ items: [], total: 0 });
      expect(await s.subjects.update(a.id, theirs.id, { name: 'x' })).to.equal(null);
      expect(await s.subjects.delete(a.id, theirs.id)).to.equal(false);
      expect(await s.subjects.enrol(a.id, theirs.id, [st2])).to.deep.equal({ added: 0, refused: [], gone: 'deleted' });
      expect(await s.subjects.unenrol(a.id, theirs.id, [st1])).to.equal(0);
      expect(await s.subjects.listEnrolled(a.id, theirs.id)).to.deep.equal([]);
      expect(await s.subjects.isEnrolled(a.id, theirs.id, st1)).to.equal(false);
      expect(await s.subjects.enrolledAmong(a.id, theirs.id, [st1])).to.deep.equal([]);
      expect(await s.subjects.get(b.id, theirs.id)).to.deep.equal(theirs);
      expect(await s.subjects.listEnrolled(b.id, theirs.id)).to.deep.equal([st1]);
    });
  });
}

import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { AppError } from '../../../src/shared/app-error.js';
import { OrganisationService } from '../../../src/domain/organisations/organisation-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { DEFAULT_RETENTION, type Organisation } from '../../../src/domain/ports/organisations.js';
import { type Store } from '../../../src/domain/ports/store.js';

const T = new Date('2026-03-02T09:00:00.000Z');

async function codeOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return err.code;
  }
}

describe('OrganisationService', () => {
  let store: Store;
  let service: OrganisationService;
  let org: Organisation;
  let admin: Actor;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    service = new OrganisationService({ store, clock: () => T });
    org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'UTC' });
    admin = { id: 'admin-1', orgId: org.id, role: 'admin', ip: '10.0.0.1' };
  });
  afterEach(() => store.close());

  describe('the admin API', () => {
    it('shows any user of the organisation its name, time zone and settings', async () => {
      const view = await service.get({ id: 's', orgId: org.id, role: 'student' });
      expect(view).to.deep.equal({
        id: org.id,
        name: 'School',
        slug: 'school',
        timezone: 'UTC',
        active: true,
        settings: {
          sessionMinutes: null,
          lateGraceMinutes: null,
          codePeriodS: null,
          defaultPolicy: {},
          sharedDevice: 'flag',
          retention: DEFAULT_RETENTION,
          riskThreshold: 75,
        },
      });
    });

    it('lets only the admin change it', async () => {
      expect(await codeOf(service.update({ id: 't', orgId: org.id, role: 'teacher' }, { name: 'X' }))).to.equal('FORBIDDEN');
      expect((await store.organisations.get(org.id))!.name).to.equal('School');
    });

    it('changes name, time zone (canonical IANA name) and settings field by field, with an audit entry', async () => {
      await service.update(admin, { settings: { sessionMinutes: 45, defaultPolicy: { geofence: false } } });
      const view = await service.update(admin, { name: ' New name ', timezone: 'europe/paris', settings: { lateGraceMinutes: 0 } });
      expect(view).to.include({ name: 'New name', timezone: 'Europe/Paris' });
      expect(view.settings).to.deep.equal({
        sessionMinutes: 45,
        lateGraceMinutes: 0,
        codePeriodS: null,
        defaultPolicy: { geofence: false },
        sharedDevice: 'flag',
        retention: DEFAULT_RETENTION,
        riskThreshold: 75,
      });
      const unset = await service.update(admin, { settings: { sessionMinutes: null, defaultPolicy: {} } });
      expect(unset.settings).to.deep.equal({
        sessionMinutes: null,
        lateGraceMinutes: 0,
        codePeriodS: null,
        defaultPolicy: {},
        sharedDevice: 'flag',
        retention: DEFAULT_RETENTION,
        riskThreshold: 75,
      });

      const entries = await store.audit.listForEntity(org.id, 'organisation', org.id);
      expect(entries).to.have.length(3);
      expect(entries[1]).to.deep.include({
        actorId: 'admin-1',
        action: 'organisation.update',
        ip: '10.0.0.1',
        reason: null,
        at: T,
        from: {
          name: 'School',
          timezone: 'UTC',
          settings: {
            sessionMinutes: 45,
            lateGraceMinutes: null,
            codePeriodS: null,
            defaultPolicy: { geofence: false },
            sharedDevice: 'flag',
            retention: DEFAULT_RETENTION,
            riskThreshold: 75,
          },
        },
      });
      expect(entries[1]!.to).to.deep.include({ name: 'New name', timezone: 'Europe/Paris' });
    });

    it('changes retention settings field by field, from safe defaults', async () => {
      expect((await service.get(admin)).settings.retention).to.deep.equal({
        probeDays: 7,
        locationDays: 30,
        locationMode: 'keep',
        ipDays: 30,
      });
      await service.update(admin, { settings: { retention: { locationMode: 'never', ipDays: 0 } } });
      const view = await service.update(admin, { settings: { retention: { probeDays: 1 } } });
      expect(view.settings.retention).to.deep.equal({ probeDays: 1, locationDays: 30, locationMode: 'never', ipDays: 0 });
      expect((await store.organisations.get(org.id))!.settings.retention).to.deep.equal(view.settings.retention);
    });

    it('refuses an unknown time zone, an empty name and out-of-range settings, changing nothing', async () => {
      const before = await store.organisations.get(org.id);
      expect(await codeOf(service.update(admin, { timezone: 'Mars/Olympus' }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { name: '   ' }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { sessionMinutes: 0 } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { lateGraceMinutes: 24 * 60 + 1 } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { codePeriodS: 4 } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { codePeriodS: 1.5 } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { defaultPolicy: { maxAttempts: 6 } } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { retention: { probeDays: -1 } } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { retention: { ipDays: 3651 } } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { retention: { locationDays: 0.5 } } }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.update(admin, { settings: { retention: { locationMode: 'blurred' as 'never' } } }))).to.equal(
        'VALIDATION_FAILED',
      );
      expect(await store.organisations.get(org.id)).to.deep.equal(before);
      expect(await store.audit.listForEntity(org.id, 'organisation', org.id)).to.deep.equal([]);
    });
  });

  describe('the operator (CLI)', () => {
    it('creates organisations with a checked slug and time zone, audited without a user', async () => {
      const made = await service.create('admin-cli', { name: 'Other', slug: 'Other-1', timezone: 'asia/tokyo' });
      expect(made).to.include({ slug: 'other-1', timezone: 'Asia/Tokyo', active: true });
      const [entry] = await store.audit.listForEntity(made.id, 'organisation', made.id);
      expect(entry).to.deep.include({ actorId: null, reason: 'admin-cli', action: 'organisation.create', orgId: made.id });

      expect(await codeOf(service.create('admin-cli', { name: 'Dup', slug: 'school', timezone: 'UTC' }))).to.equal(
        'ORGANISATION_SLUG_TAKEN',
      );
      expect(await codeOf(service.create('admin-cli', { name: 'Bad', slug: 'no spaces', timezone: 'UTC' }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.create('admin-cli', { name: 'Bad', slug: '-x', timezone: 'UTC' }))).to.equal('VALIDATION_FAILED');
      expect(await codeOf(service.create('admin-cli', { name: 'Bad', slug: 'zone', timezone: 'Nowhere/Land' }))).to.equal(
        'VALIDATION_FAILED',
      );
      expect(await store.organisations.count()).to.equal(2);
    });

    it('renames, deactivates and activates by slug; lists every organisation', async () => {
      await service.create('admin-cli', { name: 'Alpha', slug: 'alpha', timezone: 'UTC' });
      expect(await service.rename('admin-cli', 'school', 'Renamed')).to.include({ name: 'Renamed' });
      expect(await service.setActive('admin-cli', 'SCHOOL', false)).to.include({ active: false });
      const page = await service.list({ limit: 10, offset: 0 });
      expect(page.items.map((o) => [o.slug, o.active])).to.deep.equal([
        ['alpha', true],
        ['school', false],
      ]);
      expect(await service.setActive('admin-cli', 'school', true)).to.include({ active: true });
      const actions = (await store.audit.listForEntity(org.id, 'organisation', org.id)).map((a) => [a.action, a.actorId, a.reason]);
      expect(actions).to.deep.equal([
        ['organisation.update', null, 'admin-cli'],
        ['organisation.deactivate', null, 'admin-cli'],
        ['organisation.activate', null, 'admin-cli'],
      ]);
      expect(await codeOf(service.rename('admin-cli', 'missing', 'X'))).to.equal('NOT_FOUND');
    });
  });
});

import { expect } from 'chai';
import { createLiveFixture, northOf, type LiveFixture, setOrganisationSettings } from '../../support/live-fixture.js';
import { expectCode } from '../../support/expect-code.js';
import { POLICY_PRESETS, PRESET_CHECKS, needsLocation, presetOf } from '../../../src/shared/policy-presets.js';

describe('policy presets (session:open, checkin:submit)', () => {
  let f: LiveFixture;
  beforeEach(async () => {
    f = await createLiveFixture();
  });
  afterEach(() => f.close());

  const open = (preset: (typeof POLICY_PRESETS)[number]) =>
    f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, policy: { preset } });

  it('opens each preset with exactly its checks and reports the preset back', async () => {
    await f.store.subjects.update(f.org.id, f.subject.id, { allowedIpRanges: ['10.0.0.0/8'] });
    for (const preset of POLICY_PRESETS.filter((p) => !PRESET_CHECKS[p].selfie)) {
      const s = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, policy: { preset }, parallel: true });
      expect(s.policy).to.include({ ...PRESET_CHECKS[preset], preset });
    }
    expect(presetOf({ geofence: false, network: true, rotatingCode: true, selfie: false })).to.equal('custom');
  });

  it('a preset overrides the organisation defaults, and explicit flags override the preset', async () => {
    await setOrganisationSettings(f, { defaultPolicy: { geofence: true, rotatingCode: true } });
    const manual = await open('manual');
    expect(manual.policy).to.include({ preset: 'manual', geofence: false, rotatingCode: false });
    const custom = await f.live.sessions.open(f.actor(f.teacher), {
      subjectId: f.subject.id,
      policy: { preset: 'location', rotatingCode: true },
      parallel: true,
    });
    expect(custom.policy).to.include({ preset: 'location-code', geofence: true, rotatingCode: true });
  });

  it('manual: a tap without a location or code checks the student in', async () => {
    const s = await open('manual');
    expect(needsLocation(s.policy)).to.equal(false);
    const view = await f.live.checkins.submit(f.actor(f.students[0]!), { sessionId: s.id, location: null, ip: null });
    expect(view.status).to.equal('present');
    expect(view.flags).to.deep.equal([]);
  });

  it('manual: an old fix the policy does not need neither rejects nor is required', async () => {
    const s = await open('manual');
    const stale = { ...northOf(5), accuracyM: 10, timestamp: new Date(f.clock.now().getTime() - 3_600_000) };
    const view = await f.live.checkins.submit(f.actor(f.students[0]!), { sessionId: s.id, location: stale, ip: null });
    expect(view.status).to.equal('present');
  });

  it('location: no fix is LOCATION_REQUIRED naming the field, and nothing is written', async () => {
    const s = await open('location');
    const err = await expectCode(
      f.live.checkins.submit(f.actor(f.students[0]!), { sessionId: s.id, location: null, ip: null }),
      'LOCATION_REQUIRED',
    );
    expect(err.details).to.deep.equal({ field: 'location' });
    expect(await f.store.records.getForStudent(f.org.id, s.id, f.students[0]!.id)).to.equal(null);
  });

  it('network: the address decides, no location needed', async () => {
    await f.store.subjects.update(f.org.id, f.subject.id, { allowedIpRanges: ['10.0.0.0/8'] });
    const s = await open('network');
    const inside = await f.live.checkins.submit(f.actor(f.students[0]!), { sessionId: s.id, location: null, ip: '10.1.2.3' });
    expect(inside.status).to.equal('present');
    const outside = await f.live.checkins.submit(f.actor(f.students[1]!), { sessionId: s.id, location: null, ip: '192.0.2.1' });
    expect(outside.reason).to.equal('NETWORK_NOT_ALLOWED');
  });
});

import { expect } from 'chai';
import { createLiveFixture, type LiveFixture, setOrganisationSettings } from '../../support/live-fixture.js';

const MINUTE = 60_000;
/** A session's policy when neither the teacher nor the organisation sets one, on a subject with a location. */
const BUILT_IN_POLICY = {
  preset: 'location-code',
  geofence: true,
  network: false,
  rotatingCode: true,
  selfie: false,
  liveness: false,
  codePeriodS: 15,
  maxAttempts: 2,
};

describe('session defaults from the organisation (session:open)', () => {
  let f: LiveFixture;
  beforeEach(async () => {
    f = await createLiveFixture();
  });
  afterEach(() => f.close());

  const open = (input: Record<string, unknown> = {}) => f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, ...input });
  const at = (ms: number) => new Date(f.clock.now().getTime() + ms).toISOString();

  it('without settings: 60 minutes, late after 10, CODE_PERIOD_S, geofence when the subject has a location', async () => {
    const s = await open();
    expect(s.closesAt).to.equal(at(60 * MINUTE));
    expect(s.lateAfter).to.equal(at(10 * MINUTE));
    expect(s.policy).to.deep.equal(BUILT_IN_POLICY);
  });

  it("uses the organisation's session length, late grace, code period and default policy", async () => {
    await setOrganisationSettings(f, {
      sessionMinutes: 90,
      lateGraceMinutes: 5,
      codePeriodS: 30,
      defaultPolicy: { geofence: false, network: true, maxAttempts: 3 },
    });
    const s = await open();
    expect(s.closesAt).to.equal(at(90 * MINUTE));
    expect(s.lateAfter).to.equal(at(5 * MINUTE));
    expect(s.policy).to.deep.equal({
      ...BUILT_IN_POLICY,
      preset: 'custom',
      geofence: false,
      network: true,
      codePeriodS: 30,
      maxAttempts: 3,
    });
  });

  it("lets the teacher's values win over the organisation's", async () => {
    await setOrganisationSettings(f, {
      sessionMinutes: 90,
      lateGraceMinutes: 5,
      codePeriodS: 30,
      defaultPolicy: { geofence: false, maxAttempts: 3 },
    });
    const s = await open({
      closesAt: at(20 * MINUTE),
      lateAfter: at(2 * MINUTE),
      policy: { geofence: true, codePeriodS: 10, maxAttempts: 1 },
    });
    expect(s.closesAt).to.equal(at(20 * MINUTE));
    expect(s.lateAfter).to.equal(at(2 * MINUTE));
    expect(s.policy).to.include({ geofence: true, codePeriodS: 10, maxAttempts: 1 });
  });

  it('counts the grace from a scheduled start, and never past the close', async () => {
    await setOrganisationSettings(f, { lateGraceMinutes: 15 });
    const later = await open({ startsAt: at(30 * MINUTE) });
    expect(later.lateAfter).to.equal(at(45 * MINUTE));
    expect(later.closesAt).to.equal(at(90 * MINUTE));
    const short = await open({ closesAt: at(5 * MINUTE) });
    expect(short.lateAfter).to.equal(at(5 * MINUTE));
  });

  it('refuses a default policy the subject cannot run, as if the teacher had asked for it', async () => {
    await setOrganisationSettings(f, { defaultPolicy: { selfie: true } });
    const err = await open().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.have.property('code', 'POLICY_UNSUPPORTED');
  });
});

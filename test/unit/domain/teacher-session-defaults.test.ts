import { expect } from 'chai';
import { resolvePolicy, sessionDefaults, type TeacherDefaults } from '../../../src/domain/sessions/policy.js';
import { mergeTeacherSettings } from '../../../src/domain/timetable/teacher-settings.js';
import { NO_ORGANISATION_SETTINGS, type OrganisationSettings } from '../../../src/domain/ports/organisations.js';
import { type Subject } from '../../../src/domain/ports/subjects.js';
import { defaultTeacherSettings } from '../../../src/domain/ports/timetable.js';
import type { PolicyInput } from '../../../src/shared/events.js';
import { createLiveFixture, type LiveFixture, setOrganisationSettings } from '../../support/live-fixture.js';

const MINUTE = 60_000;
const CONFIG_CODE_PERIOD_S = 15;
const subject = { location: { lat: 0, lng: 0, radiusM: 50 }, allowedIpRanges: [] } as unknown as Subject;

const org: OrganisationSettings = {
  ...NO_ORGANISATION_SETTINGS,
  lateGraceMinutes: 5,
  codePeriodS: 30,
  defaultPolicy: { geofence: true, rotatingCode: false, maxAttempts: 3 },
};
const teacher: TeacherDefaults = { defaultPolicy: { rotatingCode: true, maxAttempts: 4 }, lateGraceMinutes: 7, codePeriodS: 40 };

function resolved(orgSettings: OrganisationSettings, teacherDefaults: TeacherDefaults | undefined, input?: PolicyInput) {
  const d = sessionDefaults(orgSettings, CONFIG_CODE_PERIOD_S, teacherDefaults);
  return { lateGraceMs: d.lateGraceMs, policy: resolvePolicy(input, subject, d.policy, { selfie: false }) };
}

describe('session defaults: request > meeting preset > teacher > organisation > built-in', () => {
  it('built-in when nobody set anything', () => {
    const r = resolved(NO_ORGANISATION_SETTINGS, { defaultPolicy: {}, lateGraceMinutes: null, codePeriodS: null });
    expect(r.lateGraceMs).to.equal(10 * MINUTE);
    expect(r.policy).to.include({ geofence: true, rotatingCode: true, codePeriodS: CONFIG_CODE_PERIOD_S, maxAttempts: 2 });
  });

  it('the organisation wins over the built-in', () => {
    const r = resolved(org, { defaultPolicy: {}, lateGraceMinutes: null, codePeriodS: null });
    expect(r.lateGraceMs).to.equal(5 * MINUTE);
    expect(r.policy).to.include({ rotatingCode: false, codePeriodS: 30, maxAttempts: 3 });
  });

  it('the teacher wins over the organisation: grace, code period, checks, attempts', () => {
    const r = resolved(org, teacher);
    expect(r.lateGraceMs).to.equal(7 * MINUTE);
    expect(r.policy).to.include({ geofence: true, rotatingCode: true, codePeriodS: 40, maxAttempts: 4 });
  });

  it("the teacher's preset stands for all four checks over the organisation's, and the teacher's own checks over the preset", () => {
    expect(resolved(org, { ...teacher, defaultPolicy: { preset: 'manual' } }).policy).to.include({
      geofence: false,
      rotatingCode: false,
      maxAttempts: 3,
    });
    expect(resolved(org, { ...teacher, defaultPolicy: { preset: 'manual', rotatingCode: true } }).policy).to.include({
      geofence: false,
      rotatingCode: true,
    });
  });

  it("a requested (or the meeting's) preset wins over the teacher's checks, and requested checks over that preset", () => {
    expect(resolved(org, teacher, { preset: 'location' }).policy).to.include({ geofence: true, rotatingCode: false, maxAttempts: 4 });
    expect(resolved(org, teacher, { preset: 'location', rotatingCode: true, codePeriodS: 10, maxAttempts: 1 }).policy).to.include({
      rotatingCode: true,
      codePeriodS: 10,
      maxAttempts: 1,
    });
  });
});

describe('teacher settings applied when a session opens', () => {
  let f: LiveFixture;
  beforeEach(async () => {
    f = await createLiveFixture();
    await setOrganisationSettings(f, { lateGraceMinutes: 5, codePeriodS: 30, defaultPolicy: { maxAttempts: 3 } });
    await f.store.timetable.putTeacherSettings({
      ...defaultTeacherSettings(f.org.id, f.teacher.id),
      defaultPolicy: { preset: 'location', maxAttempts: 4 },
      lateGraceMinutes: 0,
      codePeriodS: 45,
    });
  });
  afterEach(() => f.close());

  const at = (ms: number) => new Date(f.clock.now().getTime() + ms).toISOString();

  it("by hand: the teacher's grace, code period and policy", async () => {
    const s = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    expect(s.lateAfter).to.equal(at(0));
    expect(s.policy).to.include({ preset: 'location', codePeriodS: 45, maxAttempts: 4 });
  });

  it("from the timetable: the meeting's preset over the teacher's, the teacher's grace and code period", async () => {
    const actor = { ...f.actor(f.teacher), system: 'timetable' as const };
    const s = await f.live.sessions.open(actor, { subjectId: f.subject.id, policy: { preset: 'location-code' } });
    expect(s.lateAfter).to.equal(at(0));
    expect(s.policy).to.include({ preset: 'location-code', codePeriodS: 45, maxAttempts: 4 });
  });

  it("another staff member's sessions keep the organisation's defaults", async () => {
    const s = await f.live.sessions.open(f.actor(f.admin), { subjectId: f.subject.id });
    expect(s.lateAfter).to.equal(at(5 * MINUTE));
    expect(s.policy).to.include({ preset: 'location-code', codePeriodS: 30, maxAttempts: 3 });
  });
});

describe('teacher settings validation', () => {
  const current = defaultTeacherSettings('o', 'u');
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return null;
  };

  it("refuses values outside the organisation's limits, and keeps what is left out", () => {
    expect(code(() => mergeTeacherSettings(current, { lateGraceMinutes: -1 }))).to.equal('VALIDATION_FAILED');
    expect(code(() => mergeTeacherSettings(current, { codePeriodS: 4 }))).to.equal('VALIDATION_FAILED');
    expect(code(() => mergeTeacherSettings(current, { defaultPolicy: { maxAttempts: 6 } }))).to.equal('VALIDATION_FAILED');
    const set = mergeTeacherSettings(current, { codePeriodS: 600, defaultPolicy: { preset: 'manual' } });
    expect(mergeTeacherSettings(set, { timetableOpen: 'tap' })).to.deep.include({
      codePeriodS: 600,
      defaultPolicy: { preset: 'manual' },
      timetableOpen: 'tap',
    });
    expect(mergeTeacherSettings(set, { codePeriodS: null, defaultPolicy: {} })).to.deep.include({ codePeriodS: null, defaultPolicy: {} });
  });
});

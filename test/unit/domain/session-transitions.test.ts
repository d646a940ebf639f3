import { expect } from 'chai';
import { AppError } from '../../../src/shared/app-error.js';
import { applyTransition, assertTransition, canTransition, SESSION_TRANSITIONS } from '../../../src/domain/sessions/lifecycle.js';
import { SESSION_STATES } from '../../../src/shared/events.js';
import { createLiveFixture, type LiveFixture } from '../../support/live-fixture.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return 'allowed';
}

describe('session lifecycle: the transition table', () => {
  it('allows exactly the listed transitions', () => {
    const allowed = Object.entries(SESSION_TRANSITIONS).flatMap(([name, rule]) =>
      SESSION_STATES.filter((s) => canTransition(name as keyof typeof SESSION_TRANSITIONS, s)).map(
        (s) => `${s} -${name}-> ${rule.to ?? s}`,
      ),
    );
    expect(allowed).to.have.members([
      'scheduled -start-> open',
      'scheduled -close-> closing',
      'open -close-> closing',
      'closing -finishClose-> closed',
      'scheduled -cancel-> cancelled',
      'open -cancel-> cancelled',
      'closed -cancel-> cancelled',
      'scheduled -extend-> scheduled',
      'open -extend-> open',
      'scheduled -reschedule-> scheduled',
      'closed -reopen-> open',
    ]);
  });

  it('refuses an illegal transition with its code', () => {
    expect(refusal(() => assertTransition('reopen', 'open'))).to.equal('SESSION_NOT_CLOSED');
    expect(refusal(() => assertTransition('reopen', 'cancelled'))).to.equal('SESSION_CANCELLED');
    expect(refusal(() => assertTransition('cancel', 'closing'))).to.equal('RECORD_CHANGED');
    expect(refusal(() => assertTransition('extend', 'closed'))).to.equal('SESSION_CLOSED');
    expect(refusal(() => assertTransition('start', 'open'))).to.equal('SESSION_TRANSITION_REFUSED');
    expect(refusal(() => assertTransition('finishClose', 'open'))).to.equal('SESSION_TRANSITION_REFUSED');
    expect(refusal(() => assertTransition('reschedule', 'open'))).to.equal('SESSION_ALREADY_OPEN');
    expect(refusal(() => assertTransition('close', 'open'))).to.equal('allowed');
  });

  describe('against the store', () => {
    let f: LiveFixture;
    beforeEach(async () => {
      f = await createLiveFixture({ students: 2 });
    });
    afterEach(() => f.close());

    it('refuses an illegal starting status before writing anything', async () => {
      const view = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
      const session = (await f.store.sessions.get(f.org.id, view.id))!;
      let code = 'none';
      await applyTransition(f.store, session, 'reopen', {}, ['open']).catch((err: AppError) => (code = err.code));
      expect(code).to.equal('SESSION_NOT_CLOSED');
      expect((await f.store.sessions.get(f.org.id, view.id))!.status).to.equal('open');
      // A legal transition from a status the session is no longer in is a lost race: null, no change.
      expect(await applyTransition(f.store, session, 'reopen')).to.equal(null);
      expect((await f.store.sessions.get(f.org.id, view.id))!.status).to.equal('open');
    });
  });
});

describe('session lifecycle: the scheduled open', () => {
  let f: LiveFixture;
  beforeEach(async () => {
    f = await createLiveFixture({ students: 2 });
  });
  afterEach(() => f.close());

  it('stores and announces scheduled -> open once at startsAt, with two nodes racing; views say open in between', async () => {
    const startsAt = new Date(f.clock.now().getTime() + 10 * 60_000);
    const view = await f.live.sessions.open(f.actor(f.teacher), {
      subjectId: f.subject.id,
      startsAt: startsAt.toISOString(),
      closesAt: new Date(startsAt.getTime() + 60 * 60_000).toISOString(),
    });
    expect(view.status).to.equal('scheduled');
    // A second node wired as the application wires its own.
    const nodeB = f.build({ nodeId: 'node-b' }).attendance.scheduler;

    await Promise.all([f.live.scheduler.tick(), nodeB.tick()]);
    expect((await f.store.sessions.get(f.org.id, view.id))!.status).to.equal('scheduled');

    f.clock.advance(10 * 60_000);
    // Before any scheduler pass: stored 'scheduled', reported 'open'.
    expect((await f.store.sessions.get(f.org.id, view.id))!.status).to.equal('scheduled');
    expect((await f.live.sessions.get(f.actor(f.teacher), view.id)).status).to.equal('open');
    const seen = f.events.length;

    await Promise.all([f.live.scheduler.tick(), nodeB.tick()]);
    expect((await f.store.sessions.get(f.org.id, view.id))!.status).to.equal('open');
    const announced = f.events.slice(seen).filter((e) => e.type === 'session.changed');
    expect(announced).to.have.length(1);
    expect(announced[0]).to.deep.include({ orgId: f.org.id });
    if (announced[0]?.type === 'session.changed') expect(announced[0].session).to.include({ id: view.id, status: 'open' });
    const starts = (await f.store.audit.listForSession(f.org.id, view.id)).filter((a) => a.action === 'session.start');
    expect(starts).to.have.length(1);
    expect(starts[0]).to.include({ actorId: null, reason: 'SCHEDULED_OPEN' });

    // Later passes find nothing to open.
    await f.live.scheduler.tick();
    expect(f.events.slice(seen).filter((e) => e.type === 'session.changed')).to.have.length(1);
  });
});

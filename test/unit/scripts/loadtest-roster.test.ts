import { expect } from 'chai';
import { RosterLatency, ScreenArrivals } from '../../../scripts/lib/loadtest-roster.js';

describe('load test roster figures (scripts/lib/loadtest-roster.ts)', () => {
  it('pairs each acknowledgement with the last screen that showed the change, in either order', () => {
    const r = new RosterLatency(0);
    r.acked('a', 100);
    r.shown('a', 130);
    // The screen's message read before the acknowledgement: a negative figure, not a lost one.
    r.shown('b', 200);
    r.acked('b', 205);
    // Never shown: not paired.
    r.acked('c', 300);
    expect(r.ackToScreen()).to.deep.include({ n: 2, p50: -5, max: 30 });
  });

  it('pairs a key once: the first acknowledgement and the first showing, whatever repeats', () => {
    const r = new RosterLatency(0);
    // Acknowledged twice before the screen showed it: from the first acknowledgement (10), not the second.
    r.acked('a', 100);
    r.acked('a', 140);
    r.shown('a', 150);
    // Acknowledged again after it was paired, then shown again (a later change of the same
    // student): no second figure, and nothing left over that pairs with what comes later.
    r.acked('b', 200);
    r.shown('b', 220);
    r.acked('b', 300);
    r.shown('b', 900);
    // Shown twice before the acknowledgement: from the first showing.
    r.shown('c', 400);
    r.shown('c', 460);
    r.acked('c', 410);
    expect(r.ackToScreen()).to.deep.include({ n: 3, p50: 20, max: 50 });
  });

  it('counts roster messages per screen per second, over the seconds a screen received any', () => {
    const r = new RosterLatency(1_000);
    for (const at of [1_000, 1_100, 1_900, 2_000]) r.message(0, at);
    r.message(1, 4_500);
    expect(r.messages).to.equal(5);
    // Screen 0: 3 in second 0 and 1 in second 1; screen 1: 1 in second 3.
    expect(r.messageRate()).to.deep.equal({ screens: 2, meanPerActiveSecond: 1.7, maxPerSecond: 3 });
  });

  it('completes a check-in once every screen of its room has shown it, a screen showing it twice counted once', () => {
    const a = new ScreenArrivals();
    a.expect('k', 100, 2);
    // Screen 0 shows the selfie's change while verifying, then its decision: screen 1 still has not.
    expect(a.shown('k', 0, 110)).to.equal(null);
    expect(a.shown('k', 0, 150)).to.equal(null);
    expect(a.size).to.equal(1);
    expect(a.shown('k', 1, 130)).to.equal(30);
    expect(a.size).to.equal(0);
    // Shown after completion, or never expected: nothing.
    expect(a.shown('k', 1, 200)).to.equal(null);
    expect(a.shown('other', 0, 200)).to.equal(null);
  });

  it('holdEarly: showings before the submit is known count once it is, and complete it then', () => {
    const a = new ScreenArrivals(true);
    // A sender thread reports the send after both screens showed it.
    expect(a.shown('k', 0, 120)).to.equal(null);
    expect(a.shown('k', 1, 140)).to.equal(null);
    expect(a.expect('k', 100, 2)).to.deep.equal({ worst: 40, at: 140 });
    expect(a.size).to.equal(0);
    // One screen before the report, one after.
    a.shown('j', 0, 220);
    expect(a.expect('j', 200, 2)).to.equal(null);
    expect(a.shown('j', 1, 260)).to.equal(60);
    // A later change of a completed key is not held for a submit that will not come.
    a.shown('k', 0, 300);
    expect(a.expect('k', 400, 1)).to.equal(null);
  });
});

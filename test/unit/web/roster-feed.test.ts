import { expect } from 'chai';
import type { RosterEntry, RosterSnapshot, RosterUpdate } from '../../../src/shared/events.js';
import { RosterFeed, type GapTimers } from '../../../src/web/lib/roster.js';
import { rosterEntry } from '../../support/roster-entry.js';
import { waitFor } from '../../support/sockets.js';

// The screens' version rules (docs/protocol.md §8), without sockets: a fake server answers
// snapshots from a map that the test changes as "the store".

const SESSION = 's1';

const entry = (studentId: string, recordVersion: number, status: RosterEntry['status'] = 'present'): RosterEntry =>
  rosterEntry(studentId, { recordVersion, status });

function harness(onEntries?: (entries: RosterEntry[]) => void) {
  const store = new Map<string, RosterEntry>();
  let version = 0;
  let fetches = 0;
  // The gap wait runs on timers the test fires by hand: "stays missing" is a fired timer.
  const pending = new Map<number, () => void>();
  let nextHandle = 1;
  const timers: GapTimers = {
    set: (fn) => {
      pending.set(nextHandle, fn);
      return nextHandle++;
    },
    clear: (handle) => void pending.delete(handle as number),
  };
  const fireGapTimers = () => {
    const due = [...pending.values()];
    pending.clear();
    for (const fn of due) fn();
  };
  const snapshot = (): RosterSnapshot => ({
    session: { id: SESSION } as RosterSnapshot['session'],
    version,
    entries: [...store.values()],
    counts: {} as RosterSnapshot['counts'],
  });
  const feed = new RosterFeed({
    fetchSnapshot: async () => {
      fetches += 1;
      return snapshot();
    },
    gapWaitMs: 30,
    timers,
    ...(onEntries ? { onEntries } : {}),
  });
  /** A stored change; returns its update (which the test may or may not deliver). */
  const change = (studentId: string, status: RosterEntry['status'] = 'present'): RosterUpdate => {
    const e = entry(studentId, (store.get(studentId)?.recordVersion ?? 0) + 1, status);
    store.set(studentId, e);
    version += 1;
    return { sessionId: SESSION, version, entry: e };
  };
  const shown = () => Object.fromEntries(feed.roster.list().map((e) => [e.studentId, e.status]));
  const until = (check: () => boolean) => waitFor(check, 500, 1);
  return { feed, change, shown, until, fireGapTimers, gapTimers: () => pending.size, fetches: () => fetches };
}

describe('RosterFeed (screen roster rules)', () => {
  it('applies contiguous updates without fetching again', async () => {
    const h = harness();
    await h.feed.watch(SESSION);
    h.feed.update(h.change('a'));
    h.feed.update(h.change('b', 'late'));
    expect(h.shown()).to.deep.equal({ a: 'present', b: 'late' });
    expect(h.fetches()).to.equal(1);
  });

  it('applies a roster:updates message change by change, and resyncs on a version missing from it', async () => {
    const h = harness();
    await h.feed.watch(SESSION);
    const strip = (u: RosterUpdate) => ({ version: u.version, entry: u.entry });
    h.feed.updates({ sessionId: SESSION, updates: [h.change('a'), h.change('b', 'late'), h.change('a', 'rejected')].map(strip) });
    expect(h.shown()).to.deep.equal({ a: 'rejected', b: 'late' });
    expect(h.fetches()).to.equal(1);
    h.change('c');
    h.feed.updates({ sessionId: SESSION, updates: [strip(h.change('d'))] });
    // Version 4 stays missing: the gap wait ends and the screen fetches a snapshot.
    h.fireGapTimers();
    await h.until(() => h.fetches() === 2);
    expect(h.fetches()).to.equal(2);
    expect(h.shown()).to.deep.equal({ a: 'rejected', b: 'late', c: 'present', d: 'present' });
  });

  it('reports the entries a message changed once, the latest per student, so a page redraws a burst once', async () => {
    const calls: string[][] = [];
    const h = harness((entries) => calls.push(entries.map((e) => `${e.studentId}:${e.status}`)));
    await h.feed.watch(SESSION);
    const strip = (u: RosterUpdate) => ({ version: u.version, entry: u.entry });
    h.feed.updates({ sessionId: SESSION, updates: [h.change('a'), h.change('b', 'late'), h.change('a', 'rejected')].map(strip) });
    expect(calls).to.deep.equal([['a:rejected', 'b:late']]);
    // A stale update changes nothing and reports nothing.
    const stale = h.change('c');
    h.feed.update(stale);
    h.feed.update(stale);
    expect(calls).to.deep.equal([['a:rejected', 'b:late'], ['c:present']]);
  });

  it('resyncs by itself when a version stays missing, and not when it only arrives late', async () => {
    const h = harness();
    await h.feed.watch(SESSION);
    const u1 = h.change('a');
    const u2 = h.change('b');
    h.feed.update(u2);
    expect(h.gapTimers()).to.equal(1);
    h.feed.update(u1);
    expect(h.gapTimers()).to.equal(0);
    h.fireGapTimers();
    expect(h.fetches()).to.equal(1);

    h.change('c'); // lost on the way
    h.feed.update(h.change('d'));
    h.fireGapTimers();
    await h.until(() => h.fetches() === 2);
    expect(h.fetches()).to.equal(2);
    expect(h.shown()).to.deep.equal({ a: 'present', b: 'present', c: 'present', d: 'present' });
  });

  it('resyncs on a roster:resync notice of its session only', async () => {
    const h = harness();
    await h.feed.watch(SESSION);
    h.change('a'); // lost, and no later change shows the gap
    h.feed.resyncNotice({ sessionId: 'other' });
    expect(h.fetches()).to.equal(1);
    h.feed.resyncNotice({ sessionId: SESSION });
    await h.until(() => h.shown()['a'] === 'present');
    expect(h.shown()).to.deep.equal({ a: 'present' });
  });

  it('applies updates that arrive while a snapshot is in flight after it', async () => {
    const h = harness();
    const watching = h.feed.watch(SESSION);
    const u = h.change('a', 'pending');
    h.feed.update(u);
    await watching;
    expect(h.shown()).to.deep.equal({ a: 'pending' });
  });
});

import type { Actor } from '../../src/domain/actor.js';
import type { SessionTransitionPatch } from '../../src/domain/ports/sessions.js';
import type { Domain } from '../../src/domain/services.js';
import { SLOT_LOCK_TTL_MS } from '../../src/domain/sessions/slot-locks.js';
import type { LiveFixture } from './live-fixture.js';
import { beforeNextCall } from './race-fixture.js';

// The fence suites play a node paused past its slot locks' 15 s (docs/deploy.md, "A node
// pauses") by holding one of its session writes while the clock passes the locks' life and node
// B, another domain over the same store, takes them.

/**
 * Holds the `nth` session write (sessions.transition) whose patch `match` accepts: the clock
 * passes the slot locks' life, then `nodeB` runs on node B. Returns the undo, should that write
 * never come.
 */
export function holdNthTransition(
  f: LiveFixture,
  nth: number,
  match: (patch: SessionTransitionPatch) => boolean,
  nodeB: (b: Domain) => Promise<unknown>,
): () => void {
  let matched = 0;
  return beforeNextCall(
    f.store.sessions,
    'transition',
    async () => {
      f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
      await nodeB(f.build({ nodeId: 'node-b' }));
    },
    (_orgId: string, _id: string, _from: string[], patch: SessionTransitionPatch) => match(patch) && (matched += 1) === nth,
  );
}

/** The fixture subject's meeting of Wednesdays 10:00 to 11:00 in `termId`, and its sessions of 4 and 11 March, tapped ahead (scheduled). */
export async function meetingTappedTwice(f: LiveFixture, teacher: Actor, termId: string) {
  const meeting = await f.domain.timetable.createMeeting(teacher, f.subject.id, {
    termId,
    weekday: 3,
    startTime: '10:00',
    endTime: '11:00',
  });
  const first = await f.domain.timetable.start(teacher, meeting.id, '2026-03-04');
  const second = await f.domain.timetable.start(teacher, meeting.id, '2026-03-11');
  return { meeting, first, second };
}

/**
 * A meeting edit's cancellation as the release before keys carried a revision wrote it (a node
 * of that release during a rolling upgrade): the session cancelled, the edit's mark (`mark`, the
 * hash alone) in its audit entry only, and its day forgotten.
 */
export async function cancelAsReleaseBefore(
  f: LiveFixture,
  meetingId: string,
  session: { id: string; day: string },
  mark: string,
): Promise<void> {
  const at = f.clock.now();
  await f.store.sessions.transition(f.org.id, session.id, ['scheduled'], { status: 'cancelled', closedAt: at, closedBy: f.teacher.id });
  await f.store.audit.append({
    orgId: f.org.id,
    entityType: 'session',
    entityId: session.id,
    sessionId: session.id,
    actorId: f.teacher.id,
    action: 'session.cancel',
    from: { status: 'scheduled' },
    to: { status: 'cancelled', meetingEdit: mark },
    reason: 'MEETING_WEEKDAY_CHANGED',
    ip: null,
    at,
  });
  await f.store.timetable.forgetOccurrence(f.org.id, meetingId, session.day, session.id);
}

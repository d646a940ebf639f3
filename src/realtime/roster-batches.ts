import type { RosterUpdate, RosterUpdates } from '../shared/events.js';

/** Runs `fn` after `ms`; returns the cancel. Injected so tests can drive time by hand. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

/** Runs `fn` once the promise steps queued so far have run; returns the cancel. */
export type EndOfTurn = (fn: () => void) => () => void;

/**
 * `process.nextTick` from a promise step runs once the microtask queue is empty: after every
 * check-in of the group commit that stored this one has published its change, and before the
 * loop reads more packets (a `setImmediate` waited for the whole poll phase, which on a loaded
 * node is hundreds of packets' handlers).
 */
const realEndOfTurn: EndOfTurn = (fn) => {
  let live = true;
  process.nextTick(() => {
    if (live) fn();
  });
  return () => (live = false);
};

interface Pending {
  updates: RosterUpdates['updates'];
  /** Cancels what sends next: the interval's timer, or the send after the promise steps when `leaving`. */
  cancel: () => void;
  /**
   * When the session's current interval started (-Infinity: none yet): the last message's send,
   * or the end of the interval before it when its timer ran late.
   */
  sentAt: number;
  /** The held changes leave once the promise steps queued with them have run. */
  leaving: boolean;
}

/**
 * Roster changes of one session, sent to its screens at most once per `intervalMs`: the first
 * change after a quiet interval leaves as soon as the promise steps queued with it have run,
 * together with the changes they brought (a group commit stores many check-ins at once and their
 * changes come in one run of the microtask queue: sent at once, the first left alone and the rest
 * waited a whole interval); the ones that follow within the interval leave together at its end,
 * in one message (one publish through the Redis adapter). A burst of 500 check-ins in a second is
 * about 1000 / intervalMs messages instead of 500. Each change keeps its own roster version, so
 * the gap rule of docs/protocol.md §8 still finds a lost message.
 *
 * A change that comes when the interval is already over leaves the same way with the ones held,
 * without waiting for the timer: on a saturated node one turn of the event loop can last longer
 * than the interval, and the acknowledgements sent during it must not leave the screens behind.
 *
 * The intervals follow one another from the session's first message: a timer that ran late on a
 * busy loop ends the next interval one interval after the late one was due, not one interval
 * after the late send (the changes held since would wait both delays). Two messages may then be
 * closer than `intervalMs`, never more of them than intervals.
 *
 * Only this node's changes are held, for at most one interval; `flush` sends them at once when
 * the order against another broadcast matters (a session's status, a resync notice) and on
 * shutdown, so the last change is never dropped.
 */
export class RosterBatches {
  private readonly sessions = new Map<string, Pending>();

  constructor(
    private readonly intervalMs: number,
    private readonly send: (batch: RosterUpdates) => void,
    private readonly schedule: Schedule = realSchedule,
    private readonly now: () => number = () => performance.now(),
    private readonly endOfTurn: EndOfTurn = realEndOfTurn,
  ) {}

  add(update: RosterUpdate): void {
    const change = { version: update.version, entry: update.entry };
    if (this.intervalMs === 0) {
      this.send({ sessionId: update.sessionId, updates: [change] });
      return;
    }
    const { sessionId } = update;
    const pending = this.sessions.get(sessionId);
    if (!pending) {
      this.sessions.set(sessionId, {
        updates: [change],
        cancel: this.endOfTurn(() => this.tick(sessionId)),
        sentAt: Number.NEGATIVE_INFINITY,
        leaving: true,
      });
      return;
    }
    pending.updates.push(change);
    if (!pending.leaving && this.now() - pending.sentAt >= this.intervalMs) {
      pending.cancel();
      pending.leaving = true;
      pending.cancel = this.endOfTurn(() => this.tick(sessionId));
    }
  }

  /** Sends what is held for the session now (before its status or a resync notice goes out). */
  flush(sessionId: string): void {
    const pending = this.sessions.get(sessionId);
    if (!pending) return;
    pending.cancel();
    this.sessions.delete(sessionId);
    if (pending.updates.length > 0) this.send({ sessionId, updates: pending.updates });
  }

  /** Sends everything held and stops the timers (shutdown). */
  flushAll(): void {
    for (const sessionId of [...this.sessions.keys()]) this.flush(sessionId);
  }

  /** Sessions with a running interval (tests, metrics). */
  get active(): number {
    return this.sessions.size;
  }

  private arm(sessionId: string, delayMs: number): () => void {
    return this.schedule(() => this.tick(sessionId), delayMs);
  }

  /** End of an interval (or the send of changes that came after one): send what is held and start another, or forget a quiet session. */
  private tick(sessionId: string): void {
    const pending = this.sessions.get(sessionId);
    if (!pending) return;
    if (pending.updates.length === 0) {
      this.sessions.delete(sessionId);
      return;
    }
    const updates = pending.updates;
    pending.updates = [];
    pending.leaving = false;
    const now = this.now();
    // A loaded loop runs a timer late; the next interval still ends one interval after this one
    // was due, not one interval after the late send: the change that came just after that send
    // would otherwise wait the interval and both delays. The messages stay one per interval on
    // average. After a longer delay (or the first message) the interval starts now.
    const due = pending.sentAt + this.intervalMs;
    pending.sentAt = now - due < this.intervalMs ? due : now;
    pending.cancel = this.arm(sessionId, Math.max(0, pending.sentAt + this.intervalMs - now));
    this.send({ sessionId, updates });
  }
}

import type { RosterUpdate, RosterUpdates } from '../shared/events.js';

/** Runs `fn` after `ms`; returns the cancel. Injected so tests can drive time by hand. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

/** Runs `fn` at the end of the event loop's current turn; returns the cancel. */
export type EndOfTurn = (fn: () => void) => () => void;

const realEndOfTurn: EndOfTurn = (fn) => {
  const immediate = setImmediate(fn);
  return () => clearImmediate(immediate);
};

interface Pending {
  updates: RosterUpdates['updates'];
  /** Cancels what sends next: the interval's timer, or the end of the turn when `leaving`. */
  cancel: () => void;
  /** When the session's last message left (-Infinity: none yet). */
  sentAt: number;
  /** The held changes leave at the end of this turn. */
  leaving: boolean;
}

/**
 * Roster changes of one session, sent to its screens at most once per `intervalMs`: the first
 * change after a quiet interval leaves at the end of its event-loop turn, with the changes that
 * turn brought (a group commit stores many check-ins at once, and their changes come in one
 * turn: sent at once, the first left alone and the rest waited a whole interval); the ones that
 * follow within the interval leave together at its end, in one message (one publish through the
 * Redis adapter). A burst of 500 check-ins in a second is about 1000 / intervalMs messages instead
 * of 500. Each change keeps its own roster version, so the gap rule of docs/protocol.md §8 still
 * finds a lost message.
 *
 * A change that comes when the interval is already over leaves at the end of its turn with the
 * ones held, without waiting for the timer: on a saturated node one turn of the event loop can
 * last longer than the interval, and the acknowledgements sent during it must not leave the
 * screens behind.
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

  private arm(sessionId: string): () => void {
    return this.schedule(() => this.tick(sessionId), this.intervalMs);
  }

  /** End of an interval (or of the turn that ended one): send what is held and start another, or forget a quiet session. */
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
    pending.cancel = this.arm(sessionId);
    pending.sentAt = this.now();
    this.send({ sessionId, updates });
  }
}

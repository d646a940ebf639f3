/**
 * The roster side of `scripts/loadtest.ts`: besides submit -> last screen (what a student and the
 * teacher see together), the time from the check-in's acknowledgement to the last screen of its
 * room. The acknowledgement leaves only once the record is stored, and both messages cross the
 * same node loop, wire and generator loop, so the difference is what the roster path adds after
 * storage: mostly the session's batch window (ROSTER_BATCH_MS). Submit -> screen also holds the
 * wait for the group commit, which no roster setting changes. Both ends are read on the
 * generator's one clock; an acknowledgement read after the screen's message gives a negative value.
 */
import type { Quantiles } from './loadtest-timeline.js';
import { quantiles } from './loadtest-timeline.js';

export interface RosterMessageRate {
  /** Screens that received at least one message. */
  screens: number;
  /** Messages per screen per second, over the seconds in which that screen received any. */
  meanPerActiveSecond: number | null;
  /** The most messages one screen received in one wall second. */
  maxPerSecond: number;
}

/** `K`: a check-in's key (the loadtest uses its plan index: a number hashes without a string). */
export class RosterLatency<K = string> {
  private readonly ackedAt = new Map<K, number>();
  private readonly shownAt = new Map<K, number>();
  /**
   * Keys already paired. A key can be acknowledged again (a selfie's retry after BUSY, a submit
   * answered twice) or shown again (a later change of the same student): a leftover time would
   * pair with that later event and count the gap between two unrelated ones.
   */
  private readonly paired = new Set<K>();
  private readonly fromAck: number[] = [];
  /** Per screen: messages per whole second since `start`. */
  private readonly perScreen = new Map<number, Map<number, number>>();
  messages = 0;

  constructor(private readonly start: number) {}

  /** The check-in `key` was acknowledged (stored) at `at` (generator clock); only its first acknowledgement counts. */
  acked(key: K, at: number): void {
    this.pair(key, at, this.ackedAt, this.shownAt, (shown) => shown - at);
  }

  /** The last screen of the room showed `key` at `at`; only its first showing counts. */
  shown(key: K, at: number): void {
    this.pair(key, at, this.shownAt, this.ackedAt, (acked) => at - acked);
  }

  /** Screen number `screen` received one `roster:updates` message at `at`. */
  message(screen: number, at: number): void {
    this.messages += 1;
    let seconds = this.perScreen.get(screen);
    if (!seconds) this.perScreen.set(screen, (seconds = new Map()));
    const s = Math.floor((at - this.start) / 1000);
    seconds.set(s, (seconds.get(s) ?? 0) + 1);
  }

  /** Keeps the first time of `key` in `mine`, or pairs it with the other side's and closes the key. */
  private pair(key: K, at: number, mine: Map<K, number>, theirs: Map<K, number>, gap: (other: number) => number): void {
    if (this.paired.has(key) || mine.has(key)) return;
    const other = theirs.get(key);
    if (other === undefined) {
      mine.set(key, at);
      return;
    }
    theirs.delete(key);
    this.paired.add(key);
    this.fromAck.push(gap(other));
  }

  ackToScreen(): Quantiles {
    return quantiles(this.fromAck);
  }

  messageRate(): RosterMessageRate {
    let seconds = 0;
    let max = 0;
    for (const perSecond of this.perScreen.values()) {
      seconds += perSecond.size;
      for (const n of perSecond.values()) max = Math.max(max, n);
    }
    const total = [...this.perScreen.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0);
    return {
      screens: this.perScreen.size,
      meanPerActiveSecond: seconds === 0 ? null : Math.round((total / seconds) * 10) / 10,
      maxPerSecond: max,
    };
  }
}

/** Screens of one room ScreenArrivals can tell apart (a bit each in a 32-bit integer). */
export const MAX_SCREENS = 31;

/**
 * Each check-in's way to every teacher screen of its room: complete once each screen has shown
 * it. A screen may show a student twice (a selfie's change while verifying, then its decision):
 * counting messages, the second one stood for a screen that had shown nothing yet.
 */
export class ScreenArrivals<K = string> {
  /** `seen`: a bit per screen of the room (screens are numbered 0 to 30 within their room). */
  private readonly waiting = new Map<K, { t0: number; screens: number; seen: number; count: number; worst: number }>();
  /** With `holdEarly`: showings of keys not yet expected, and the keys expected so far. */
  private readonly early = new Map<K, { screen: number; at: number }[]>();
  private readonly expected = new Set<K>();

  /**
   * `holdEarly`: a screen may show a check-in before its submit is known here (a sender thread
   * reports its sends in batches, `loadtest --senders`): such showings are held until `expect`.
   */
  constructor(private readonly holdEarly = false) {}

  /**
   * The check-in `key` was submitted at `t0` to a room with `screens` screens (again: the clock
   * starts over). With `holdEarly`, the showings held for it count now: when they complete it,
   * the time from the submit to the last screen and when that screen showed it.
   */
  expect(key: K, t0: number, screens: number): { worst: number; at: number } | null {
    if (screens > MAX_SCREENS) throw new RangeError(`at most ${MAX_SCREENS} screens per room`);
    this.waiting.set(key, { t0, screens, seen: 0, count: 0, worst: 0 });
    if (!this.holdEarly) return null;
    this.expected.add(key);
    const held = this.early.get(key) ?? [];
    this.early.delete(key);
    let done: { worst: number; at: number } | null = null;
    for (const e of held) {
      const worst = this.shown(key, e.screen, e.at);
      if (worst !== null) done = { worst, at: e.at };
    }
    return done;
  }

  /** Nothing was stored (BUSY): no screen will show it. */
  drop(key: K): void {
    this.waiting.delete(key);
  }

  /** Screen `screen` (its number within the room) showed `key` at `at`: the time from the submit to the last screen once every screen has, else null. */
  shown(key: K, screen: number, at: number): number | null {
    const w = this.waiting.get(key);
    if (!w && this.holdEarly && !this.expected.has(key)) {
      const held = this.early.get(key);
      if (held) held.push({ screen, at });
      else this.early.set(key, [{ screen, at }]);
      return null;
    }
    const bit = 1 << screen;
    if (!w || w.seen & bit) return null;
    w.seen |= bit;
    w.count += 1;
    w.worst = Math.max(w.worst, at - w.t0);
    if (w.count < w.screens) return null;
    this.waiting.delete(key);
    return w.worst;
  }

  /** Check-ins not yet shown on every screen of their room. */
  get size(): number {
    return this.waiting.size;
  }
}

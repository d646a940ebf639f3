/**
 * The roster a screen holds: replaced wholesale by each snapshot (first connect and every
 * resync), patched by the changes of `roster:updates` only when the entry's record version is newer.
 * RosterFeed adds the version rules of docs/protocol.md §8 (gaps and resync notices); it has
 * no DOM or socket of its own, so the pages and the tests run the same logic.
 */
import { byName } from './by-name.js';
import type {
  RosterCounts,
  RosterEntry,
  RosterResyncNotice,
  RosterSnapshot,
  RosterUpdate,
  RosterUpdates,
  SessionView,
} from '../../shared/events.js';
import { countRoster } from '../../shared/counts.js';

export class RosterState {
  session: SessionView | null = null;
  private readonly entries = new Map<string, RosterEntry>();

  /** Replaces everything held with the snapshot. */
  replace(snapshot: RosterSnapshot): void {
    this.session = snapshot.session;
    this.entries.clear();
    for (const entry of snapshot.entries) this.entries.set(entry.studentId, entry);
  }

  /** Applies an update; returns the entry when it changed what is held, else null (stale or foreign). */
  apply(update: RosterUpdate): RosterEntry | null {
    if (!this.session || update.sessionId !== this.session.id) return null;
    const held = this.entries.get(update.entry.studentId);
    if (held && held.recordVersion >= update.entry.recordVersion) return null;
    this.entries.set(update.entry.studentId, update.entry);
    return update.entry;
  }

  /** Stores an entry a command acknowledged (same version rule as updates). */
  put(entry: RosterEntry): RosterEntry | null {
    if (!this.session) return null;
    return this.apply({ sessionId: this.session.id, version: 0, entry });
  }

  get(studentId: string): RosterEntry | undefined {
    return this.entries.get(studentId);
  }

  /** Entries by name, so rows do not jump around as statuses change. */
  list(): RosterEntry[] {
    return [...this.entries.values()].sort(byName);
  }

  /** Counts from the held entries, so they always agree with the roster shown (src/shared/counts.ts). */
  counts(): RosterCounts {
    return countRoster(this.entries.values());
  }
}

export interface RosterFeedOptions {
  /** Reads a fresh snapshot (`session:watch`); a rejection is reported to onError. */
  fetchSnapshot: (sessionId: string) => Promise<RosterSnapshot>;
  /** The whole roster was replaced by a snapshot. */
  onSnapshot?: (snapshot: RosterSnapshot) => void;
  /** One entry changed (an update newer than the one held). */
  onEntry?: (entry: RosterEntry) => void;
  /**
   * The entries one `roster:updates` message (or the updates held during a snapshot) changed,
   * once, the latest per student: a page redraws and announces a burst once, not per student.
   */
  onEntries?: (entries: RosterEntry[]) => void;
  onError?: (err: unknown) => void;
  /** How long a missing version may be awaited (swapped arrivals across nodes) before resyncing. */
  gapWaitMs?: number;
  /** Timers for the gap wait; a test passes its own to run them by hand. */
  timers?: GapTimers;
}

export interface GapTimers {
  set: (fn: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
}

const realTimers: GapTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * One watched session, kept by docs/protocol.md §8: the snapshot's version V, then updates
 * V+1, V+2, ...; a version that stays missing for gapWaitMs, or a `roster:resync` notice,
 * means updates were lost, and a fresh snapshot replaces the roster. Updates received while a
 * snapshot is in flight are applied after it.
 */
export class RosterFeed {
  readonly roster = new RosterState();
  private sessionId: string | null = null;
  /** Highest version up to which every update is held (snapshot or contiguous updates). */
  private version = 0;
  /** Versions received beyond version + 1, waiting for the ones before them. */
  private readonly ahead = new Set<number>();
  private gapTimer: unknown = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private buffered: RosterUpdate[] = [];
  /** The entries changed by the update or batch being applied, latest per student. */
  private changed: Map<string, RosterEntry> | null = null;
  private readonly gapWaitMs: number;
  private readonly timers: GapTimers;

  constructor(private readonly opts: RosterFeedOptions) {
    this.gapWaitMs = opts.gapWaitMs ?? 1_000;
    this.timers = opts.timers ?? realTimers;
  }

  get watching(): string | null {
    return this.sessionId;
  }

  /** Watches a session (or the same one again, after a reconnect): a snapshot replaces the roster. */
  watch(sessionId: string): Promise<void> {
    if (sessionId !== this.sessionId) {
      this.sessionId = sessionId;
      this.buffered = [];
      this.clearGap();
    }
    if (this.inFlight) {
      // The snapshot in flight may predate what made us ask: read another one after it.
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.load().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  /** A `roster:updates` event: its changes in order, each by the rules of one update. */
  updates(batch: RosterUpdates): void {
    this.collect(() => {
      for (const change of batch.updates) this.update({ sessionId: batch.sessionId, version: change.version, entry: change.entry });
    });
  }

  /** One change of a session's roster. */
  update(update: RosterUpdate): void {
    if (update.sessionId !== this.sessionId) return;
    if (this.inFlight) {
      this.buffered.push(update);
      return;
    }
    this.collect(() => this.applyUpdate(update));
  }

  /** Runs `apply`, then reports what it changed in one onEntries call (nested calls report once, outermost). */
  private collect(apply: () => void): void {
    if (this.changed) return apply();
    const changed = new Map<string, RosterEntry>();
    this.changed = changed;
    try {
      apply();
    } finally {
      this.changed = null;
    }
    if (changed.size > 0) this.opts.onEntries?.([...changed.values()]);
  }

  /** A `roster:resync` event: the server may have lost updates of this session. */
  resyncNotice(notice: RosterResyncNotice): void {
    if (notice.sessionId === this.sessionId) this.resync();
  }

  /** Stops watching (`session:unwatch` is the caller's). */
  stop(): void {
    this.sessionId = null;
    this.buffered = [];
    this.clearGap();
  }

  private resync(): void {
    if (!this.sessionId) return;
    this.watch(this.sessionId).catch((err: unknown) => this.opts.onError?.(err));
  }

  private async load(): Promise<void> {
    do {
      this.again = false;
      const sessionId = this.sessionId;
      if (!sessionId) return;
      const snapshot = await this.opts.fetchSnapshot(sessionId);
      // Switched or stopped meanwhile: this snapshot is of no use.
      if (sessionId !== this.sessionId) continue;
      this.roster.replace(snapshot);
      this.version = snapshot.version;
      for (const v of this.ahead) if (v <= this.version) this.ahead.delete(v);
      this.opts.onSnapshot?.(snapshot);
      const buffered = this.buffered;
      this.buffered = [];
      this.collect(() => {
        for (const u of buffered) this.applyUpdate(u);
      });
      this.armGap();
    } while (this.again);
  }

  private applyUpdate(update: RosterUpdate): void {
    const entry = this.roster.apply(update);
    if (entry) {
      this.opts.onEntry?.(entry);
      this.changed?.set(entry.studentId, entry);
    }
    if (update.version > this.version + 1) this.ahead.add(update.version);
    else if (update.version === this.version + 1) {
      this.version = update.version;
      while (this.ahead.delete(this.version + 1)) this.version += 1;
    }
    if (this.ahead.size === 0) this.clearGap();
    else this.armGap();
  }

  private armGap(): void {
    if (this.ahead.size === 0 || this.gapTimer) return;
    this.gapTimer = this.timers.set(() => {
      this.gapTimer = null;
      if (this.ahead.size > 0) this.resync();
    }, this.gapWaitMs);
  }

  private clearGap(): void {
    if (this.gapTimer) this.timers.clear(this.gapTimer);
    this.gapTimer = null;
    this.ahead.clear();
  }
}

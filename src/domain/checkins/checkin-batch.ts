import { AppError } from '../../shared/app-error.js';
import type { Logger } from '../../logger.js';
import { PeerIndex, PeerLookups } from '../checks/peer-index.js';
import type { PeerLookup } from '../checks/proxy-signals.js';
import { StoreBusyError } from '../ports/common.js';
import type { OrganisationSettings } from '../ports/organisations.js';
import type { AttendanceRecord, PeerMark, RecordWrite, RecordWriteResult } from '../ports/records.js';
import type { Store } from '../ports/store.js';
import { SessionPeers } from './session-peers.js';
import type { CheckinTrace } from './checkin-trace.js';

/** Defaults of CHECKIN_BATCH_WINDOW_MS, CHECKIN_BATCH_MAX and CHECKIN_BATCH_PIPELINE (README configuration table). */
export const DEFAULT_CHECKIN_BATCH = { windowMs: 0, max: 200, pipeline: 1, resumePerTurn: 0 } as const;

/** Check-ins waiting beyond this many batches are refused BUSY rather than queued without end. */
const QUEUED_BATCHES = 8;
/** The longest retry hint of a full queue: a store this slow is better retried by hand. */
const MAX_FULL_RETRY_MS = 30_000;

/**
 * Pauses before trying a batch again when the store was busy with another writer (SQLite's lock
 * held by a checkpoint, a backup or another process past the busy wait). The batch is stored
 * on a later try, or its check-ins are refused BUSY (retryable), never INTERNAL.
 */
const BUSY_RETRY_PAUSES_MS = [20, 100, 400] as const;

export interface CheckinBatchOptions {
  /**
   * How long the first check-in of a batch waits for others while no batch is being written. 0:
   * it is cut at the end of the event loop's turn (setImmediate), with the check-ins whose
   * packets that turn read; what arrives while a batch is written waits for that batch anyway.
   */
  windowMs: number;
  /** A batch is written as soon as it holds this many. */
  max: number;
  /**
   * Batches handed to the store and not yet stored, at most (1 when absent: CHECKIN_BATCH_PIPELINE). Above 1 only on
   * SQLite, whose writes of one node commit one at a time in the order they are handed over (the
   * record writer thread's queue, or the main connection's synchronous commit); a MongoDB batch
   * is several round trips that two batches could interleave, so it stays at 1 there.
   */
  pipeline?: number;
  /**
   * Submitters of a stored batch resumed per turn of the event loop, a `setImmediate` between
   * (CHECKIN_RESUME_PER_TURN; 0 or absent: all in the turn it is stored). Each resumes into its
   * publish, its view and its acknowledgement (about 0.1 ms of the main thread), and the
   * acknowledgements leave only when the turn's promise steps are done (write-coalescing.ts): a
   * full batch of 200 resumed at once holds the loop 30 to 60 ms, the first of its
   * acknowledgements waiting as long as the last, and no packet read meanwhile (round 30,
   * `scripts/long-turns.ts`). Off by default: on a saturated shared machine it cut the rate
   * reached (docs/multi-node.md, round 30).
   */
  resumePerTurn?: number;
  /**
   * Monotonic milliseconds that time each batch's write (performance.now when absent): a test
   * passes its own, so the retry hint it checks does not stretch with a loaded machine.
   */
  elapsed?: () => number;
}

/** One accepted check-in waiting for its group commit. */
export interface BatchItem {
  orgId: string;
  sessionId: string;
  /** What the later check-ins of the batch compare with this one. */
  mark: PeerMark;
  /**
   * The write, given the session's other records as the proxy signals ask about them (stored
   * ones and the check-ins ahead in the batch) and the organisation's settings (null when it is
   * gone), read once per batch. Called once, in batch order, and must not throw.
   */
  write(peers: PeerLookup, settings: OrganisationSettings | null): RecordWrite;
}

interface Waiting {
  item: BatchItem;
  resolve: (r: RecordWriteResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of check-ins (docs/multi-node.md, "Group commit"): accepted check-ins wait up to
 * `windowMs` (or until `max` are waiting) and are written with one store call, one transaction
 * on SQLite; each promise resolves only once its batch is stored, so an acknowledgement never
 * runs ahead of the store. The proxy signals are computed here too, from each session's index
 * of peers kept across batches (./session-peers.ts), brought up to date with one read of what
 * changed per session and batch. On SQLite up to `pipeline` batches are out at once (the next
 * one built and handed over while one commits, in cut order); what arrives meanwhile forms the next one. Nothing here is shared between nodes: the store's
 * unique key keeps one record per (session, student) whichever node writes first.
 */
export class CheckinBatcher {
  private queue: Waiting[] = [];
  /** Cancels the pending cut of an idle batcher's window (null: none pending). */
  private cancelWindow: (() => void) | null = null;
  /** Batches cut and not yet stored (at most `depth`). */
  private writing = 0;
  private readonly depth: number;
  /** Settles once the batch cut last has been handed to the store: the next one is built after it, in cut order. */
  private handedOver: Promise<void> = Promise.resolve();
  /**
   * The check-ins of batches handed to the store and not yet stored, by session: a batch built
   * meanwhile compares with them as with stored ones (the store's read cannot see them yet).
   */
  private readonly unstored = new Set<Map<string, PeerIndex>>();
  /** Set by drain(): from then on every check-in is written at once, without a window. */
  private draining = false;
  private idle: (() => void)[] = [];
  /** Outcomes of stored (or failed) batches not yet handed to their submitters, in cut order. */
  private toSettle: (() => void)[] = [];
  /** A turn that settles the next `resumePerTurn` of `toSettle` is scheduled. */
  private settling = false;
  private readonly peers: SessionPeers;
  /** How long the last batch took to store (wall time): what a full queue's retry hint is made of. */
  private lastBatchMs = 0;
  /** When the batches being written started (options.elapsed), oldest first. */
  private readonly writeStarts: number[] = [];
  private readonly elapsed: () => number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: CheckinBatchOptions,
    now: () => number = Date.now,
    private readonly trace: CheckinTrace | null = null,
  ) {
    this.peers = new SessionPeers(store.records, now);
    this.elapsed = options.elapsed ?? (() => performance.now());
    this.depth = store.kind === 'sqlite' ? Math.max(1, options.pipeline ?? 1) : 1;
  }

  /** Resolves with the stored outcome of the item's write once its batch is durable. */
  submit(item: BatchItem): Promise<RecordWriteResult> {
    if (this.queue.length >= this.options.max * QUEUED_BATCHES) {
      // About when the queue ahead is stored: on a slow store (a slow disk, an overloaded
      // database server) the window alone said 100 ms, and the page's one automatic retry came
      // back to the same full queue.
      // The batch being written counts for as long as it has taken so far: a queue filled before
      // the first batch on a slow store is stored has no last batch to go by.
      const batchMs = Math.max(this.lastBatchMs, this.writeStarts.length === 0 ? 0 : this.elapsed() - this.writeStarts[0]!);
      const drainMs = Math.min(MAX_FULL_RETRY_MS, Math.ceil(batchMs * QUEUED_BATCHES));
      return Promise.reject(
        new AppError('BUSY', undefined, { retryAfterMs: Math.max(100, this.options.windowMs * QUEUED_BATCHES, drainMs) }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Shutdown: what is queued is written now rather than after its window, and so is whatever
   * still arrives. Resolves once nothing is queued or being written; each submitter has its
   * answer (stored, or the write's error) by then.
   */
  drain(): Promise<void> {
    this.draining = true;
    this.cancelWindow?.();
    this.cancelWindow = null;
    // Outcomes waiting for a later turn are handed over now; the turn scheduled finds none left.
    for (const o of this.toSettle.splice(0)) o();
    if (this.writing === 0 && this.queue.length === 0) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.idle.push(resolve));
    void this.writeNext();
    return idle;
  }

  private schedule(): void {
    if (this.writing >= this.depth) return; // the oldest running batch starts the next one when it is stored
    if (this.queue.length >= this.options.max || this.draining) {
      this.cancelWindow?.();
      this.cancelWindow = null;
      void this.writeNext();
    } else if (!this.cancelWindow) {
      const cut = () => {
        this.cancelWindow = null;
        void this.writeNext();
      };
      // A timer of 0 is a millisecond at least and runs only in the loop's next timers phase;
      // the end of this turn is as soon as the turn's other check-ins can join.
      if (this.options.windowMs === 0) {
        const immediate = setImmediate(cut);
        this.cancelWindow = () => clearImmediate(immediate);
      } else {
        const timer = setTimeout(cut, this.options.windowMs);
        this.cancelWindow = () => clearTimeout(timer);
      }
    }
  }

  private async writeNext(): Promise<void> {
    if (this.writing >= this.depth || this.queue.length === 0) return;
    this.writing += 1;
    const batch = this.queue.splice(0, this.options.max);
    const cut = this.trace?.now() ?? 0;
    const started = this.elapsed();
    this.writeStarts.push(started);
    // Built and handed over in cut order: the previous batch's check-ins are in `unstored` (or
    // stored) before this one's peers are read, and the store commits them in that order.
    const previous = this.handedOver;
    let handedOver!: () => void;
    this.handedOver = new Promise((resolve) => (handedOver = resolve));
    const ahead = new Map<string, PeerIndex>();
    try {
      await previous;
      const results = await this.write(
        batch.map((w) => w.item),
        cut,
        ahead,
        handedOver,
      );
      this.settle(batch.map((w, i) => () => w.resolve(results[i]!)));
    } catch (err) {
      // The batch's transaction did not commit: none of it is stored, each submitter hears so.
      this.logger.error({ err, size: batch.length }, 'check-in batch not stored');
      this.settle(batch.map((w) => () => w.reject(err)));
    } finally {
      handedOver();
      this.unstored.delete(ahead);
      this.writing -= 1;
      this.lastBatchMs = this.elapsed() - started;
      this.writeStarts.splice(this.writeStarts.indexOf(started), 1);
    }
    // Those that arrived during the write have waited long enough: no second window.
    if (this.queue.length > 0) void this.writeNext();
    else this.wakeIdle();
  }

  /**
   * Hands batches' outcomes to their submitters, `resumePerTurn` a turn (setImmediate between):
   * the acknowledgements of the first ones leave, and packets are read, before the rest resume.
   * One queue for every batch keeps them in cut order, so a session's roster changes are still
   * published in version order when a later batch is stored before an earlier one is all
   * resumed. Draining (shutdown) hands them all at once: nothing is left for a later turn.
   */
  private settle(outcomes: (() => void)[]): void {
    for (const o of outcomes) this.toSettle.push(o);
    if (this.draining) {
      for (const o of this.toSettle.splice(0)) o();
      return;
    }
    if (this.settling) return;
    this.settleSome();
  }

  private readonly settleSome = (): void => {
    const perTurn = this.options.resumePerTurn ?? 0;
    const now = this.toSettle.splice(0, this.draining || perTurn === 0 ? this.toSettle.length : perTurn);
    for (const o of now) o();
    this.settling = this.toSettle.length > 0;
    if (this.settling) setImmediate(this.settleSome);
    else this.wakeIdle();
  };

  /** Resolves drain()'s promises once nothing is queued, being written or waiting to be handed over. */
  private wakeIdle(): void {
    if (this.writing === 0 && this.queue.length === 0 && this.toSettle.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async write(
    items: readonly BatchItem[],
    cut: number,
    ahead: Map<string, PeerIndex>,
    handedOver: () => void,
  ): Promise<RecordWriteResult[]> {
    // By organisation, then session: a key string built per check-in was a new string to hash at
    // each lookup (docs/multi-node.md, "What holds the closed loop", round 28).
    const peers = new Map<string, Map<string, { lookup: PeerLookup; ahead: PeerIndex }>>();
    const settings = new Map<string, OrganisationSettings | null>();
    const sessionsOf = new Map<string, string[]>();
    for (const it of items) {
      const ids = sessionsOf.get(it.orgId);
      if (!ids) sessionsOf.set(it.orgId, [it.sessionId]);
      else if (!ids.includes(it.sessionId)) ids.push(it.sessionId);
    }
    // Each organisation's sessions of the batch brought up to date with one read of their changes.
    for (const [orgId, sessionIds] of sessionsOf) {
      const ofOrg = new Map<string, { lookup: PeerLookup; ahead: PeerIndex }>();
      peers.set(orgId, ofOrg);
      for (const [sessionId, stored] of await this.peers.currentAll(orgId, sessionIds)) {
        const key = `${orgId}\n${sessionId}`;
        const mine = new PeerIndex();
        ahead.set(key, mine);
        const lookups: PeerLookup[] = [stored];
        for (const other of this.unstored) {
          const theirs = other.get(key);
          if (theirs) lookups.push(theirs);
        }
        lookups.push(mine);
        ofOrg.set(sessionId, { lookup: new PeerLookups(lookups), ahead: mine });
      }
      settings.set(orgId, (await this.store.organisations.get(orgId))?.settings ?? null);
    }
    const writes = items.map((it, i) => {
      const session = peers.get(it.orgId)!.get(it.sessionId)!;
      const w = it.write(session.lookup, settings.get(it.orgId)!);
      // A later check-in of the same batch sees this one, as it would after a separate commit;
      // apart from the stored index, which the next batch reads back from the store.
      session.ahead.set(String(i), it.mark);
      return w;
    });
    this.unstored.add(ahead);
    const posted = this.trace?.now() ?? 0;
    const results = await this.writeWithRetries(writes, handedOver);
    this.keepStored(items, results);
    if (!this.trace) return results;
    const trace = this.trace;
    trace.batch(
      items.map((it) => ({ sessionId: it.sessionId, studentId: it.mark.studentId })),
      { cut, posted, stored: trace.now() },
    );
    return results;
  }

  /**
   * The batch's stored records into their sessions' peer indexes, so that the next batch does
   * not read them back (./session-peers.ts): one call per session, its records in batch order.
   */
  private keepStored(items: readonly BatchItem[], results: readonly RecordWriteResult[]): void {
    type Group = { orgId: string; sessionId: string; records: AttendanceRecord[] };
    // In the order the batch first names each session; found by organisation, then session (no key string per check-in).
    const groups: Group[] = [];
    const byOrg = new Map<string, Map<string, Group>>();
    results.forEach((r, i) => {
      if (!r.written) return;
      const { orgId, sessionId } = items[i]!;
      let ofOrg = byOrg.get(orgId);
      if (!ofOrg) byOrg.set(orgId, (ofOrg = new Map()));
      const group = ofOrg.get(sessionId);
      if (group) group.records.push(r.record);
      else {
        const made = { orgId, sessionId, records: [r.record] };
        ofOrg.set(sessionId, made);
        groups.push(made);
      }
    });
    for (const g of groups) this.peers.wrote(g.orgId, g.sessionId, g.records);
  }

  /** `handedOver` once the store has the batch's first try: the next batch may be built then. */
  private async writeWithRetries(writes: readonly RecordWrite[], handedOver: () => void): Promise<RecordWriteResult[]> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const written = this.store.records.writeBatch(writes);
        handedOver();
        return await written;
      } catch (err) {
        if (!(err instanceof StoreBusyError)) throw err;
        const pauseMs = BUSY_RETRY_PAUSES_MS[attempt];
        if (pauseMs === undefined) throw new AppError('BUSY', undefined, { retryAfterMs: 1_000 });
        this.logger.warn({ err, size: writes.length, pauseMs }, 'check-in batch met a busy store; trying again');
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }
}

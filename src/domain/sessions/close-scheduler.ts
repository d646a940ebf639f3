import type { Logger } from '../../logger.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';
import { Periodic } from '../jobs/periodic.js';
import { ACTIVE_SESSION_STATES } from '../../shared/events.js';
import type { SessionCloser } from './session-closer.js';
import type { SessionOpener } from './session-opener.js';

export interface CloseSchedulerOptions {
  /** This node's identity in leases. */
  owner: string;
  intervalMs: number;
  /** How long a lease holds before another node may take over a dead node's close. */
  leaseMs?: number;
  batch?: number;
  /** Called after every pass (metrics). */
  onTick?: (closed: number) => void;
  /**
   * False while this node's clock disagrees with its peers': its passes are skipped, since it
   * would open and close sessions by the wrong time (minutes early when ahead); the others run them.
   */
  clockTrusted?: () => boolean;
}

/**
 * Opens sessions at their start time (when given an opener) and closes them at their close-at
 * time. Opening is one compare-and-set, so it needs no lease: one node wins it and announces it. Nothing is kept in memory: every tick asks the
 * store which sessions are due, so a restarted node (or any other node) picks up closes that
 * were scheduled before. A lease in the store makes each close run on one node at a time, and
 * the closing steps are idempotent, so a node dying mid-close only delays it by the lease.
 */
export class CloseScheduler {
  private readonly passes: Periodic;
  /** Set by stop(): a pass in progress leaves its remaining sessions to the next start. */
  private stopped = false;
  private readonly leaseMs: number;
  private readonly batch: number;

  constructor(
    private readonly store: Store,
    private readonly closer: SessionCloser,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly options: CloseSchedulerOptions,
    private readonly opener?: SessionOpener,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.batch = options.batch ?? 50;
    this.passes = new Periodic(
      options.intervalMs,
      () => this.tick().then((closed) => options.onTick?.(closed)),
      (err) => this.logger.error({ err }, 'close scheduler tick failed'),
    );
  }

  start(): void {
    this.stopped = false;
    this.passes.start();
  }

  /** Stops ticking and waits for a close in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.passes.stop();
  }

  /** One pass over due sessions (openings first); returns how many it closed. Exposed for tests. */
  async tick(): Promise<number> {
    if (this.options.clockTrusted && !this.options.clockTrusted()) return 0;
    if (this.opener) {
      try {
        await this.opener.openDue(this.batch, () => this.stopped);
      } catch (err) {
        this.logger.error({ err }, 'scheduled open failed; will retry');
      }
    }
    const now = this.now();
    const due = await this.store.sessions.listDue(now, this.batch);
    let closed = 0;
    for (const session of due) {
      if (this.stopped) break;
      // Held (and renewed) by whoever closes it: a teacher's close still running, another node.
      const lease = await this.closer.holdLease(session, this.options.owner, this.leaseMs);
      if (!lease) continue;
      try {
        // Read again under the lease: listed due at the start of the pass, it may have been
        // closed since by another node or its teacher and reopened for a late student, with a
        // new close-at; closing it now would end the reopened session at once. While this lease
        // is held no other close can finish it, so what is read here stands until the close.
        const current = await this.store.sessions.get(session.orgId, session.id);
        if (!current || !isDue(current, this.now())) continue;
        await this.closer.close(session.orgId, session.id, null, lease);
        closed += 1;
        this.logger.info(
          { sessionId: session.id },
          session.status === 'closing' ? 'session close finished (left unfinished by its node)' : 'session closed at close-at',
        );
      } catch (err) {
        this.logger.error({ err, sessionId: session.id }, 'scheduled close failed; will retry');
      } finally {
        await lease.release();
      }
    }
    return closed;
  }
}

/** What listDue lists: a close left half-done, or a session past its close-at not yet closed. */
function isDue(session: AttendanceSession, now: Date): boolean {
  if (session.status === 'closing') return true;
  return (ACTIVE_SESSION_STATES as readonly string[]).includes(session.status) && session.closesAt.getTime() <= now.getTime();
}

import type { Redis } from 'ioredis';
import type { Namespace } from 'socket.io';
import type { Logger } from '../logger.js';

type Adapter = Namespace['adapter'];

/**
 * Which subscriptions a join waits for: with the sharded adapter in its dynamic mode, the channel
 * of each room the join creates on this node; with the classic adapter, its one pattern only
 * (taken when the adapter starts, before any socket).
 */
export type SubscribedRooms = 'per-room' | 'at-start';

/**
 * How long a join waits for Redis' answer. A Redis that stalls without closing the connection
 * (paused, a long fork, packets silently dropped) would otherwise hold every handshake and every
 * join of a new room, and the held sockets would count against their user's socket limit.
 */
export const SUBSCRIPTION_WAIT_LIMIT_MS = 2_000;

/**
 * Makes `socket.join` resolve only once Redis has taken this node's subscription to the rooms
 * joined, so a broadcast sent after the join answers reaches the socket (docs/multi-node.md,
 * "When a push is guaranteed"). The sharded adapter subscribes to a room's channel when the room's
 * first local socket joins, without waiting for Redis' answer; a broadcast another node sent in
 * the meantime was dropped by Redis, for no one on this node listened. A PING written after the
 * subscriptions on the same connection is answered only once Redis has processed them.
 *
 * A later join of a room whose subscription is still on its way waits for the same answer. While
 * the subscriber connection is down nothing waits: the link's restore makes screens resync and
 * students catch up (fanout.ts, enrolment-catch-up.ts), and a join must not hang for an outage;
 * nor for a Redis that stops answering with the connection still up: after `waitLimitMs` the join
 * answers unconfirmed (one warning per stall).
 */
export function confirmingJoins(
  factory: (nsp: Namespace) => Adapter,
  sub: Redis,
  subscribed: SubscribedRooms,
  logger: Logger,
  waitLimitMs = SUBSCRIPTION_WAIT_LIMIT_MS,
): (nsp: Namespace) => Adapter {
  const check = new SubscriptionCheck(sub, logger, waitLimitMs);
  // A function, not an arrow: socket.io calls it with `new`, and takes the object it returns.
  return function (nsp: Namespace): Adapter {
    const adapter = factory(nsp);
    // The adapter subscribed to its own channels while it was built.
    let started: Promise<void> | null = check.after();
    void started.then(() => (started = null));
    const pending = new Map<string, Promise<void>>();
    if (subscribed === 'per-room') {
      // Registered after the adapter's own listener, which has sent the SSUBSCRIBE by then. A
      // socket's own room (its id) has no channel in dynamic mode.
      adapter.on('create-room', (room: string) => {
        if (adapter.sids.has(room)) return;
        const confirmed = check.after();
        pending.set(room, confirmed);
        void confirmed.then(() => {
          if (pending.get(room) === confirmed) pending.delete(room);
        });
      });
    }
    const addAll = adapter.addAll.bind(adapter);
    adapter.addAll = (id, rooms) => {
      const done = addAll(id, rooms);
      const waits: Promise<void>[] = [];
      if (done) waits.push(done);
      if (started) waits.push(started);
      for (const room of rooms) {
        const confirmed = pending.get(room);
        if (confirmed) waits.push(confirmed);
      }
      if (waits.length === 0) return undefined;
      return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
    };
    return adapter;
  };
}

/**
 * One PING per turn of the event loop on the subscriber connection: every subscription written
 * before it in that turn is confirmed by its answer. Never rejects.
 */
export class SubscriptionCheck {
  private next: Promise<void> | null = null;
  /** The answers awaited; a drop ends every wait (ioredis would resend the PINGs after reconnecting). */
  private readonly waiting = new Set<() => void>();
  /** A PING went unanswered past the limit and none has been answered since: warned once. */
  private stalled = false;

  constructor(
    private readonly sub: Redis,
    private readonly logger: Logger,
    private readonly waitLimitMs = SUBSCRIPTION_WAIT_LIMIT_MS,
  ) {
    sub.on('close', () => {
      for (const resolve of this.waiting) resolve();
      this.waiting.clear();
    });
  }

  /** Resolves once Redis has processed what this connection was sent so far, once it is down, or after the wait limit. */
  after(): Promise<void> {
    if (this.sub.status !== 'ready') return Promise.resolve();
    this.next ??= new Promise<void>((resolve) => {
      // Sent after this turn's subscriptions, which ioredis has already written.
      queueMicrotask(() => {
        this.next = null;
        this.ping(resolve);
      });
    });
    return this.next;
  }

  private ping(resolve: () => void): void {
    const done = () => {
      clearTimeout(limit);
      this.waiting.delete(done);
      resolve();
    };
    const limit = setTimeout(() => {
      if (!this.stalled) {
        this.stalled = true;
        this.logger.warn(
          { waitLimitMs: this.waitLimitMs },
          'Redis did not answer the subscription check in time; joins answer unconfirmed',
        );
      }
      done();
    }, this.waitLimitMs);
    limit.unref();
    this.waiting.add(done);
    this.sub.ping().then(
      () => {
        this.stalled = false;
        done();
      },
      (err: unknown) => {
        this.logger.warn({ err }, 'subscription check failed; the join answers unconfirmed');
        done();
      },
    );
  }
}

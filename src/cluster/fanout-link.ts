import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { FanoutLink, LinkOutage } from '../shared/fanout-link.js';

/**
 * The Socket.IO Redis adapter's link to the other nodes: up while the publisher is connected
 * and the subscriber has its subscriptions back. After a reconnection ioredis re-subscribes as
 * it becomes ready; a PING sent after that on the same connection is answered only once Redis
 * has processed every subscription, and only then is the link reported restored.
 */
export class RedisFanoutLink implements FanoutLink {
  private subscribed = true;
  private wasDown = false;
  /** When the link was first seen down in the outage under way (ms since the epoch); null while up. */
  private downSince: number | null = null;
  private readonly listeners = new Set<(outage: LinkOutage) => void>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly logger: Logger,
  ) {
    for (const client of [pub, sub]) {
      client.on('close', () => {
        this.subscribed = false;
        this.wasDown = true;
        this.downSince ??= Date.now();
      });
      client.on('ready', () => this.confirm());
    }
  }

  get up(): boolean {
    return this.subscribed && this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  onRestored(listener: (outage: LinkOutage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private confirm(): void {
    if (this.pub.status !== 'ready' || this.sub.status !== 'ready') return;
    // 'ready' is emitted on the next tick, the re-subscriptions are already written by then;
    // setImmediate keeps the PING behind them in any case.
    setImmediate(() => {
      this.sub.ping().then(
        () => {
          // Dropped again meanwhile: the next 'ready' confirms.
          if (this.subscribed || this.pub.status !== 'ready' || this.sub.status !== 'ready') return;
          this.subscribed = true;
          if (!this.wasDown) return;
          this.wasDown = false;
          const outage = { since: new Date(this.downSince ?? Date.now()) };
          this.downSince = null;
          for (const listener of this.listeners) {
            try {
              listener(outage);
            } catch (err) {
              this.logger.error({ err }, 'fan-out restore listener failed');
            }
          }
        },
        (err: unknown) => this.logger.warn({ err }, 'fan-out subscription check failed; the next reconnection checks again'),
      );
    });
  }
}

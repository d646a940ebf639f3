import { expect } from 'chai';
import { expiryWarningMs, TokenExpiryWatch } from '../../../src/realtime/token-expiry.js';
import type { AppSocket } from '../../../src/realtime/types.js';

/** The part of a socket the watch uses, recording what it was sent. */
class FakeSocket {
  readonly sent: string[] = [];
  private disconnectListener: ((this: AppSocket) => void) | null = null;
  constructor(readonly data: { tokenExpiresAt: number }) {}
  emit(event: string): boolean {
    this.sent.push(event);
    return true;
  }
  disconnect(): void {
    this.sent.push('disconnect');
    this.disconnectListener?.call(this as unknown as AppSocket);
  }
  on(event: string, fn: (this: AppSocket) => void): void {
    if (event === 'disconnect') this.disconnectListener = fn;
  }
  /** The client went away on its own. */
  drop(): void {
    this.disconnectListener?.call(this as unknown as AppSocket);
  }
}

describe('TokenExpiryWatch', () => {
  let now = Date.parse('2026-11-21T09:00:00.000Z');
  let watch: TokenExpiryWatch;
  const at = (ms: number) => {
    now = ms;
    watch.sweep();
  };
  const socket = (expiresInMs: number) => {
    const s = new FakeSocket({ tokenExpiresAt: now + expiresInMs });
    watch.track(s as unknown as AppSocket);
    return s;
  };

  beforeEach(() => {
    now = Date.parse('2026-11-21T09:00:00.000Z');
    watch = new TokenExpiryWatch(() => new Date(now));
  });
  afterEach(() => watch.close());

  it('warns a minute before expiry, then expires and disconnects, each once', () => {
    const start = now;
    const s = socket(5 * 60_000);
    at(start + 3 * 60_000);
    expect(s.sent).to.deep.equal([]);
    at(start + 4 * 60_000);
    expect(s.sent).to.deep.equal(['auth:expiring']);
    at(start + 5 * 60_000 - 1);
    expect(s.sent).to.deep.equal(['auth:expiring']);
    at(start + 5 * 60_000);
    expect(s.sent).to.deep.equal(['auth:expiring', 'auth:expired', 'disconnect']);
    at(start + 10 * 60_000);
    expect(s.sent).to.have.length(3);
  });

  it('warns at the next sweep when less than a minute is left at connection', () => {
    const start = now;
    const s = socket(10_000);
    at(start + 1_000);
    expect(s.sent).to.deep.equal(['auth:expiring']);
  });

  it('warns a third of the lifetime ahead for tokens shorter than three minutes, so a renewed one is not due at once', () => {
    expect(expiryWarningMs(900)).to.equal(60_000);
    expect(expiryWarningMs(180)).to.equal(60_000);
    expect(expiryWarningMs(30)).to.equal(10_000);
    watch.close();
    watch = new TokenExpiryWatch(() => new Date(now), expiryWarningMs(30));
    const start = now;
    const s = socket(30_000);
    at(start + 1_000);
    expect(s.sent, 'a fresh 30 s token').to.deep.equal([]);
    at(start + 20_000);
    expect(s.sent).to.deep.equal(['auth:expiring']);
    // The renewed token is again 30 s long: its warning is 20 s away, not at the next sweep.
    watch.renew(s as unknown as AppSocket, start + 50_000);
    at(start + 21_000);
    expect(s.sent).to.deep.equal(['auth:expiring']);
    at(start + 40_000);
    expect(s.sent).to.deep.equal(['auth:expiring', 'auth:expiring']);
  });

  it('moves both deadlines on renewal', () => {
    const start = now;
    const s = socket(2 * 60_000);
    watch.renew(s as unknown as AppSocket, start + 30 * 60_000);
    expect(s.data.tokenExpiresAt).to.equal(start + 30 * 60_000);
    at(start + 5 * 60_000);
    expect(s.sent).to.deep.equal([]);
    at(start + 30 * 60_000);
    expect(s.sent).to.deep.equal(['auth:expiring', 'auth:expired', 'disconnect']);
  });

  it('renews a socket whose warning was already due', () => {
    const start = now;
    const s = socket(30_000);
    watch.renew(s as unknown as AppSocket, start + 10 * 60_000);
    at(start + 60_000);
    expect(s.sent).to.deep.equal([]);
  });

  it('forgets a socket that disconnects on its own', () => {
    const start = now;
    const gone = socket(2 * 60_000);
    const kept = socket(2 * 60_000);
    gone.drop();
    at(start + 3 * 60_000);
    expect(gone.sent).to.deep.equal([]);
    expect(kept.sent).to.deep.equal(['auth:expiring', 'auth:expired', 'disconnect']);
  });

  it('catches up after a clock jump without losing a deadline', () => {
    const start = now;
    const a = socket(2 * 60_000);
    const b = socket(3 * 60 * 60_000);
    at(start + 24 * 60 * 60_000);
    expect(a.sent).to.deep.equal(['auth:expiring', 'auth:expired', 'disconnect']);
    expect(b.sent).to.deep.equal(['auth:expiring', 'auth:expired', 'disconnect']);
  });
});

/**
 * Live state that every node serving a session must agree on. The single-node implementation
 * keeps it in the process; the Redis implementation (multi-node) keeps it in Redis.
 */
export interface LiveState {
  /** Next roster version of a session (1, 2, 3, ...). */
  nextRosterVersion(sessionId: string): Promise<number>;
  /** Current roster version (0 before any change). */
  rosterVersion(sessionId: string): Promise<number>;
}

export class InProcessLiveState implements LiveState {
  private readonly versions = new Map<string, number>();

  async nextRosterVersion(sessionId: string): Promise<number> {
    const next = (this.versions.get(sessionId) ?? 0) + 1;
    this.versions.set(sessionId, next);
    return next;
  }

  async rosterVersion(sessionId: string): Promise<number> {
    return this.versions.get(sessionId) ?? 0;
  }
}

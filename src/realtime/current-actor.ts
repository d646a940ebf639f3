import type { Actor } from '../domain/actor.js';
import { AppError } from '../shared/app-error.js';
import type { Store } from '../domain/ports/store.js';
import type { AppSocket } from './types.js';

/** How long a node trusts what it read of a user; a change announced to this node forgets it at once. */
export const ACTOR_TTL_MS = 1_000;
/** Users remembered per node; beyond, the oldest entry goes. */
const MAX_ENTRIES = 20_000;

interface Entry {
  role: Actor['role'];
  /** Why the user may no longer act, or null. */
  refusal: 'ACCOUNT_DISABLED' | 'ORGANISATION_DISABLED' | 'PASSWORD_CHANGE_REQUIRED' | null;
  readAt: number;
}

interface Waiting {
  resolve: (entry: Entry) => void;
  reject: (err: unknown) => void;
}

/**
 * The acting user of a socket command, as the store says now, not as the token said at
 * connect: a deactivated account or organisation stops at its next command and a changed role
 * applies to it,
 * on every node within ACTOR_TTL_MS even when the change's announcement never reached this node.
 * Within the TTL one store read serves all of a user's commands (a check-in burst costs one), and
 * the users read in one turn of the event loop are read together (one query per organisation).
 */
export class CurrentActors {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  /** Users to read at the end of this turn of the event loop, by organisation. */
  private turn = new Map<string, Map<string, Waiting>>();

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly ttlMs = ACTOR_TTL_MS,
    private readonly defer: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {}

  /**
   * Throws ACCOUNT_DISABLED for a deactivated or deleted account, ORGANISATION_DISABLED for a
   * deactivated organisation, PASSWORD_CHANGE_REQUIRED while an admin requires a new password
   * (the socket goes, as its handshake would be refused); updates the socket's role.
   */
  async of(socket: AppSocket): Promise<Actor> {
    const { userId, orgId } = socket.data;
    const entry = await this.read(orgId, userId);
    if (entry.refusal) throw new AppError(entry.refusal);
    socket.data.role = entry.role;
    return { id: userId, orgId, role: entry.role };
  }

  forget(userId: string): void {
    this.entries.delete(userId);
  }

  /** What the handshake just read from the store: a reconnect acts as the store says now. */
  fresh(userId: string, role: Actor['role']): void {
    this.remember(userId, { role, refusal: null, readAt: this.now().getTime() });
  }

  private read(orgId: string, userId: string): Promise<Entry> {
    const cached = this.entries.get(userId);
    if (cached && this.now().getTime() - cached.readAt < this.ttlMs) return Promise.resolve(cached);
    // Concurrent commands of one user share one read.
    let load = this.pending.get(userId);
    if (!load) {
      load = new Promise<Entry>((resolve, reject) => {
        if (this.turn.size === 0) this.defer(() => this.readTurn());
        let users = this.turn.get(orgId);
        if (!users) {
          users = new Map();
          this.turn.set(orgId, users);
        }
        users.set(userId, { resolve, reject });
      });
      this.pending.set(userId, load);
    }
    return load;
  }

  /** The users of this turn whose entry is missing or too old: one query per organisation. */
  private readTurn(): void {
    const turn = this.turn;
    this.turn = new Map();
    for (const [orgId, waiting] of turn) {
      this.readUsers(orgId, waiting)
        .catch((err: unknown) => {
          for (const w of waiting.values()) w.reject(err);
        })
        .finally(() => {
          for (const userId of waiting.keys()) this.pending.delete(userId);
        });
    }
  }

  private async readUsers(orgId: string, waiting: ReadonlyMap<string, Waiting>): Promise<void> {
    const t = this.now().getTime();
    const [users, org] = await Promise.all([
      this.store.users.getStandings(orgId, [...waiting.keys()]),
      this.store.organisations.get(orgId),
    ]);
    const byId = new Map(users.map((u) => [u.id, u]));
    for (const [userId, w] of waiting) {
      const user = byId.get(userId);
      const refusal = !user?.active
        ? 'ACCOUNT_DISABLED'
        : !org?.active
          ? 'ORGANISATION_DISABLED'
          : user.mustChangePassword
            ? 'PASSWORD_CHANGE_REQUIRED'
            : null;
      const entry: Entry = { role: user?.role ?? 'student', refusal, readAt: t };
      this.remember(userId, entry);
      w.resolve(entry);
    }
  }

  private remember(userId: string, entry: Entry): void {
    this.entries.delete(userId);
    this.entries.set(userId, entry);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}

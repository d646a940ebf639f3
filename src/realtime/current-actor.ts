import type { Actor } from '../domain/actor.js';
import { AppError } from '../shared/app-error.js';
import type { Store } from '../domain/ports/store.js';
import type { AppSocket } from './types.js';

/** How long a node trusts what it read of a user; a change announced to this node forgets it at once. */
export const ACTOR_TTL_MS = 1_000;
const NONE: readonly string[] = Object.freeze([]);
/** Users remembered per node; beyond, the oldest entry goes. */
const MAX_ENTRIES = 20_000;

interface Entry {
  role: Actor['role'];
  /** Why the user may no longer act, or null. */
  refusal: 'ACCOUNT_DISABLED' | 'ORGANISATION_DISABLED' | 'PASSWORD_CHANGE_REQUIRED' | null;
  /**
   * The user's logins (sids) read with the entry, and those of them ended since. Arrays, not a
   * Map: a user has one or two logins, and this is built for a lecture's every check-in.
   */
  logins: readonly string[];
  ended: readonly string[];
  readAt: number;
}

/** One read of a user on its way: the commands waiting for it, and the logins it checks. */
interface Load {
  promise: Promise<Entry>;
  /** Logins of the user's sockets, each once; more join until the read is sent. */
  sids: string[];
  sent: boolean;
  /**
   * A change of the user was announced after the read was sent: what it brings may predate the
   * change, so it answers the commands waiting for it but is not kept for the next ones.
   */
  stale: boolean;
  /** The user's read on its way that this one took the place of (a login it did not carry), until this one ends. */
  replaced: Load | null;
  resolve: (entry: Entry) => void;
  reject: (err: unknown) => void;
}

/**
 * The acting user of a socket command, as the store says now, not as the token said at
 * connect: a deactivated account or organisation stops at its next command, a changed role
 * applies to it, and so does the end of the socket's login (a logout, a new password: TOKEN_REVOKED),
 * on every node within ACTOR_TTL_MS even when the change's announcement never reached this node
 * (the admin CLI, another process, has no way to announce it).
 * Within the TTL one store read serves all of a user's commands (a check-in burst costs one), and
 * the users read in one turn of the event loop are read together (one query per organisation).
 */
export class CurrentActors {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Load>();
  /** Users to read at the end of this turn of the event loop, by organisation. */
  private turn = new Map<string, Map<string, Load>>();

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly ttlMs = ACTOR_TTL_MS,
    private readonly defer: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {}

  /**
   * Throws ACCOUNT_DISABLED for a deactivated or deleted account, ORGANISATION_DISABLED for a
   * deactivated organisation, PASSWORD_CHANGE_REQUIRED while an admin requires a new password,
   * TOKEN_REVOKED once the socket's login ended (the socket goes, as its handshake would be
   * refused); updates the socket's role.
   */
  async of(socket: AppSocket): Promise<Actor> {
    const { userId, orgId } = socket.data;
    return actorOf(socket, await this.read(orgId, userId, socket.data.sid ?? null));
  }

  /**
   * What of() would give, without a promise, when this node's entry for the user is within the
   * TTL and knows the socket's login (the same entries of() serves, so the same changes show);
   * null when the store must be read (of() then). Throws as of() does.
   */
  current(socket: AppSocket): Actor | null {
    const cached = this.entries.get(socket.data.userId);
    if (cached === undefined || this.now().getTime() - cached.readAt >= this.ttlMs) return null;
    const sid = socket.data.sid ?? null;
    if (sid !== null && !cached.logins.includes(sid)) return null;
    return actorOf(socket, cached);
  }

  forget(userId: string): void {
    this.entries.delete(userId);
    for (let load = this.pending.get(userId) ?? null; load; load = load.replaced) if (load.sent) load.stale = true;
  }

  /** What the handshake just read from the store (its login not ended either): a reconnect acts as the store says now. */
  fresh(userId: string, role: Actor['role'], sid: string | null): void {
    this.remember(userId, { role, refusal: null, logins: sid === null ? NONE : [sid], ended: NONE, readAt: this.now().getTime() });
  }

  private read(orgId: string, userId: string, sid: string | null): Promise<Entry> {
    const cached = this.entries.get(userId);
    const current = cached !== undefined && this.now().getTime() - cached.readAt < this.ttlMs;
    if (current && (sid === null || cached.logins.includes(sid))) return Promise.resolve(cached);
    // Concurrent commands of one user share one read, their sockets' logins too while it waits.
    const load = this.pending.get(userId);
    if (load && !load.stale && (sid === null || load.sids.includes(sid) || !load.sent)) {
      if (sid !== null && !load.sids.includes(sid)) load.sids.push(sid);
      return load.promise;
    }
    // A login the current entry does not know yet (a second device): read it with those known,
    // so the user's sockets do not take turns pushing each other out of the entry.
    const sids = current ? cached.logins.slice() : [];
    if (sid !== null && !sids.includes(sid)) sids.push(sid);
    return this.load(orgId, userId, sids);
  }

  private load(orgId: string, userId: string, sids: string[]): Promise<Entry> {
    let resolve!: (entry: Entry) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<Entry>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const load: Load = { promise, sids, sent: false, stale: false, replaced: this.pending.get(userId) ?? null, resolve, reject };
    this.pending.set(userId, load);
    if (this.turn.size === 0) this.defer(() => this.readTurn());
    let users = this.turn.get(orgId);
    if (!users) {
      users = new Map();
      this.turn.set(orgId, users);
    }
    users.set(userId, load);
    return promise;
  }

  /** The users of this turn whose entry is missing or too old: one query per organisation. */
  private readTurn(): void {
    const turn = this.turn;
    this.turn = new Map();
    for (const [orgId, waiting] of turn) {
      for (const load of waiting.values()) load.sent = true;
      this.readUsers(orgId, waiting)
        .catch((err: unknown) => {
          for (const w of waiting.values()) w.reject(err);
        })
        .finally(() => {
          // A later read of the user (a login this one did not carry) may have taken the place.
          for (const [userId, load] of waiting) {
            if (this.pending.get(userId) === load) this.pending.delete(userId);
            load.replaced = null;
          }
        });
    }
  }

  private async readUsers(orgId: string, waiting: ReadonlyMap<string, Load>): Promise<void> {
    const t = this.now().getTime();
    const sids: string[] = [];
    for (const w of waiting.values()) for (const sid of w.sids) sids.push(sid);
    const [users, org, revoked] = await Promise.all([
      this.store.users.getStandings(orgId, [...waiting.keys()]),
      this.store.organisations.get(orgId),
      sids.length === 0 ? NONE : this.store.refreshTokens.revokedFamilies(sids),
    ]);
    // Filled by loops, not built from arrays of pairs: this runs for a lecture's every check-in.
    const byId = new Map<string, (typeof users)[number]>();
    for (const u of users) byId.set(u.id, u);
    const ended = revoked.length === 0 ? null : new Set(revoked);
    for (const [userId, w] of waiting) {
      const user = byId.get(userId);
      const refusal = !user?.active
        ? 'ACCOUNT_DISABLED'
        : !org?.active
          ? 'ORGANISATION_DISABLED'
          : user.mustChangePassword
            ? 'PASSWORD_CHANGE_REQUIRED'
            : null;
      const endedOfUser = ended === null ? NONE : w.sids.filter((sid) => ended.has(sid));
      const entry: Entry = { role: user?.role ?? 'student', refusal, logins: w.sids, ended: endedOfUser, readAt: t };
      if (!w.stale) this.remember(userId, entry);
      w.resolve(entry);
    }
  }

  private remember(userId: string, entry: Entry): void {
    this.entries.delete(userId);
    this.entries.set(userId, entry);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** The acting user an entry allows on the socket, or the coded refusal; the socket's role follows the entry. */
function actorOf(socket: AppSocket, entry: Entry): Actor {
  if (entry.refusal) throw new AppError(entry.refusal);
  const { userId, orgId } = socket.data;
  const sid = socket.data.sid ?? null;
  if (sid !== null && entry.ended.includes(sid)) throw new AppError('TOKEN_REVOKED');
  socket.data.role = entry.role;
  return { id: userId, orgId, role: entry.role };
}

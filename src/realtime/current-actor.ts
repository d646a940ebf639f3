import type { Actor } from '../domain/actor.js';
import { AppError } from '../shared/app-error.js';
import type { Store } from '../domain/ports/store.js';
import type { AppSocket } from './types.js';

/**
 * How long a node trusts the standing version it read of an organisation: the commands of all its
 * sockets within it share one read (a lecture's check-ins, hundreds a second, cost a few reads a
 * second, not one per user). A change nobody announced to this node (the admin CLI) applies within it.
 */
export const STANDING_VERSION_MS = 5;
/**
 * How long a node keeps what it read of a user while the version stands. The version alone is
 * exact where the store's triggers move it (SQLite); on MongoDB a writer that dies between its
 * change and the version's move leaves it behind, and this bounds how long that goes unseen.
 */
export const ACTOR_MAX_AGE_MS = 60_000;
const NONE: readonly string[] = Object.freeze([]);
/** Users remembered per node; beyond, the oldest entry goes. */
const MAX_ENTRIES = 20_000;
/** Organisations whose version a node remembers; beyond, the oldest goes (it is read again). */
const MAX_ORGANISATIONS = 1_000;

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
  /** The organisation's standing version read before the entry was: it holds while that stands. */
  version: number;
}

/** What a node last read of an organisation's standing version. */
interface OrgVersion {
  version: number;
  /** When the read that gave it was sent. */
  readAt: number;
  /** The read on its way, shared by the commands that wait for it. */
  reading: Promise<number> | null;
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
 * on every node within STANDING_VERSION_MS even when the change's announcement never reached this
 * node (the admin CLI, another process, has no way to announce it).
 * What was read of a user serves all of its commands while the organisation's standing version
 * (src/domain/ports/read-versions.ts) is the one read before it; the version is read once per
 * STANDING_VERSION_MS and organisation for all the node's sockets, and the users read in one turn
 * of the event loop are read together (one query per organisation).
 */
export class CurrentActors {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Load>();
  /** Users to read at the end of this turn of the event loop, by organisation. */
  private turn = new Map<string, Map<string, Load>>();
  /** By organisation, in least recently read order. */
  private readonly versions = new Map<string, OrgVersion>();
  /** The version read before each socket's handshake read its user (beforeHandshake), until fresh(). */
  private readonly handshakes = new WeakMap<AppSocket, number>();
  /** movedSince's reads of this turn, not sent yet, by organisation. */
  private readonly nextReads = new Map<string, Promise<number>>();
  private readonly nextWaiting = new Map<string, { resolve: (version: number) => void; reject: (err: unknown) => void }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly defer: (fn: () => void) => void = (fn) => setImmediate(fn),
    private readonly versionMs = STANDING_VERSION_MS,
    private readonly maxAgeMs = ACTOR_MAX_AGE_MS,
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
   * What of() would give, without a promise, when this node's entry for the user knows the
   * socket's login and its version is the organisation's, read within STANDING_VERSION_MS (the
   * same entries of() serves, so the same changes show); null when the store must be read (of()
   * then). Throws as of() does.
   */
  current(socket: AppSocket): Actor | null {
    const cached = this.entries.get(socket.data.userId);
    const t = this.now().getTime();
    if (cached === undefined || t - cached.readAt >= this.maxAgeMs) return null;
    const sid = socket.data.sid ?? null;
    if (sid !== null && !cached.logins.includes(sid)) return null;
    const org = this.versions.get(socket.data.orgId);
    if (org === undefined || t - org.readAt >= this.versionMs || org.version !== cached.version) return null;
    return actorOf(socket, cached);
  }

  /**
   * Reads the organisation's version before the handshake reads the socket's user, so that what
   * the handshake read can be kept under it (fresh()).
   */
  async beforeHandshake(socket: AppSocket, orgId: string): Promise<void> {
    const version = this.versionNow(orgId);
    this.handshakes.set(socket, typeof version === 'number' ? version : await version);
  }

  forget(userId: string): void {
    this.entries.delete(userId);
    for (let load = this.pending.get(userId) ?? null; load; load = load.replaced) if (load.sent) load.stale = true;
  }

  /**
   * What the handshake just read from the store (its login not ended either): a reconnect acts
   * as the store says now. Kept only under the version read before it (beforeHandshake).
   */
  fresh(socket: AppSocket): number | undefined {
    const version = this.handshakes.get(socket);
    if (version === undefined) return undefined;
    this.handshakes.delete(socket);
    const { userId, role, sid } = socket.data;
    const logins = sid === null ? NONE : [sid];
    this.remember(userId, { role, refusal: null, logins, ended: NONE, readAt: this.now().getTime(), version });
    return version;
  }

  /**
   * Whether the organisation's standing version moved on from `version`, as read by a query sent
   * after this call (never one on its way or kept from before it): what a caller saw before the
   * call is then judged by every change stored before it. The callers of one turn share the query.
   */
  async movedSince(orgId: string, version: number): Promise<boolean> {
    let reading = this.nextReads.get(orgId);
    if (!reading) {
      reading = new Promise<number>((resolve, reject) => {
        if (this.nextReads.size === 0) this.defer(() => this.sendNextReads());
        this.nextWaiting.set(orgId, { resolve, reject });
      });
      this.nextReads.set(orgId, reading);
    }
    return (await reading) !== version;
  }

  private sendNextReads(): void {
    const waiting = [...this.nextWaiting];
    this.nextWaiting.clear();
    this.nextReads.clear();
    for (const [orgId, w] of waiting) {
      const t = this.now().getTime();
      this.store.standingVersions.current(orgId).then((version) => {
        this.learned(orgId, version, t);
        w.resolve(version);
      }, w.reject);
    }
  }

  /** A version read by a query sent at `t`: kept when it is the newest known (versions never go back). */
  private learned(orgId: string, version: number, t: number): void {
    const org = this.versions.get(orgId);
    if (org === undefined || version < org.version) return;
    org.version = version;
    org.readAt = Math.max(org.readAt, t);
  }

  private async read(orgId: string, userId: string, sid: string | null): Promise<Entry> {
    const cached = this.entries.get(userId);
    const current = cached !== undefined && this.now().getTime() - cached.readAt < this.maxAgeMs;
    if (current && (sid === null || cached.logins.includes(sid))) {
      const now = this.versionNow(orgId);
      const version = typeof now === 'number' ? now : await now;
      // The entry may have been forgotten or replaced while the version was read.
      if (version === cached.version && this.entries.get(userId) === cached) return cached;
    }
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
    // Before the users, not beside them (MongoDB may answer side-by-side reads in any order): a
    // change stored after it moves the version on, so what is read next is never kept past it.
    const now = this.versionNow(orgId);
    const version = typeof now === 'number' ? now : await now;
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
      const entry: Entry = { role: user?.role ?? 'student', refusal, logins: w.sids, ended: endedOfUser, readAt: t, version };
      if (!w.stale) this.remember(userId, entry);
      w.resolve(entry);
    }
  }

  /** The organisation's version, as read within STANDING_VERSION_MS, or the read of it (one at a time). */
  private versionNow(orgId: string): number | Promise<number> {
    const t = this.now().getTime();
    const known = this.versions.get(orgId);
    if (known !== undefined && t - known.readAt < this.versionMs) return known.version;
    if (known?.reading) return known.reading;
    const org: OrgVersion = known ?? { version: -1, readAt: -Infinity, reading: null };
    const reading: Promise<number> = this.store.standingVersions.current(orgId).then(
      (version) => {
        if (org.reading === reading) org.reading = null;
        // Versions never go back: a larger one is the newer, whichever read answers first.
        if (version >= org.version) {
          org.version = version;
          org.readAt = Math.max(org.readAt, t);
        }
        return version;
      },
      (err: unknown) => {
        if (org.reading === reading) org.reading = null;
        throw err;
      },
    );
    org.reading = reading;
    this.versions.delete(orgId);
    this.versions.set(orgId, org);
    if (this.versions.size > MAX_ORGANISATIONS) this.versions.delete(this.versions.keys().next().value!);
    return reading;
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

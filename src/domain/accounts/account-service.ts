import { passwordIssue, type PasswordHasher } from './passwords.js';
import type { ActiveLogin } from '../ports/accounts.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { requireRole, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { audit, auditMany } from '../audit-log.js';
import type { EventPublisher } from '../events.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { JobRunner } from '../jobs/job-runner.js';
import { normaliseEmail } from '../users/public-user.js';
import type { EmailOutbox } from '../notifications/email-notifications.js';
import { hashAccountToken, type AccountLinkMail } from './account-link-mail.js';
import { endLogins } from './end-logins.js';
import { newTombstoneId, personOf } from '../privacy/erasure-rules.js';

export { hashAccountToken };

export interface AccountServiceDeps {
  store: Store;
  passwords: PasswordHasher;
  /** Invitations and resets are queued there (retried; their link is made at each attempt). */
  outbox: EmailOutbox;
  links: AccountLinkMail;
  clock: () => Date;
  /** Ended logins are announced so their sockets are cut on every node. */
  events: EventPublisher;
  /** Reset emails per email address; spent means no email, with the same answer. */
  resetLimiter: RateLimiter;
  /**
   * Forgot-password requests per client address, counted before anything is looked up: spent
   * means RATE_LIMITED whatever the email, so the refusal tells nothing about an account.
   */
  resetRequestLimiter: RateLimiter;
  /** Where a forgot-password request's lookup and email run once it is answered (`askReset`). */
  jobs: Pick<JobRunner, 'run'>;
}

/**
 * Forgot-password requests of this node still being looked up; beyond, new ones are refused
 * BUSY whatever their email, so a flood of answered requests cannot pile up work unbounded.
 */
export const RESETS_IN_FLIGHT_MAX = 500;

export interface LoginView extends ActiveLogin {
  /** The login this request was made with. */
  current: boolean;
}

export interface InvitationReport {
  /** Invitations written to the outbox (sent from there, retried while SMTP refuses). */
  queued: number;
  /** Ids that got no invitation: unknown in the organisation, deactivated, or left over when the outbox filled up. */
  skipped: string[];
  /** Of those queued, users who had a password: they got a password reset link, not an invitation. */
  resets: number;
}

/**
 * Invitations, forgot-password, set-password from a link, change of one's own password, and
 * one's own logins. Links carry a random 32-byte token whose SHA-256 alone is stored; using
 * one is a single conditional update, so a link works once even when clicked twice at once.
 */
export class AccountService {
  /** This node's `askReset` work not yet finished (a count of work in flight, not shared state). */
  private resetsInFlight = 0;

  constructor(private readonly deps: AccountServiceDeps) {}

  /** Emails the user a set-password link; older unused links of the user stop working once it is sent. */
  async invite(actor: Actor, userId: string): Promise<InvitationReport> {
    const report = await this.inviteMany(actor, [userId]);
    if (report.queued === 0) throw new AppError('NOT_FOUND', 'No active user with this id.');
    return report;
  }

  /**
   * Invites several users (e.g. a whole CSV import): each invitation is written to the outbox,
   * a user who has a password already (who forgot it, and asked IT) getting a password reset
   * sent by an admin instead: a welcome to an account they have would mislead them. The outbox's
   * dispatcher makes each email's link when it sends it (and again at each retry, voiding the
   * user's earlier unused links). BUSY when the organisation's outbox has no room left. The
   * invitations are queued with one store call, their audit entries with another: one call per
   * user, one after another, took 48 s for 301 users on a loaded MongoDB.
   */
  async inviteMany(actor: Actor, userIds: string[]): Promise<InvitationReport> {
    requireRole(actor, 'admin');
    const ids = [...new Set(userIds)];
    const found = await this.deps.store.users.getMany(actor.orgId, ids);
    const users = found.filter((u) => u.active);
    const now = this.deps.clock();
    const kindOf = (u: User) => (u.passwordHash === null ? 'invitation' : 'admin-reset');
    const queued = await this.deps.outbox.enqueueMany(await this.deps.links.rows(actor.orgId, users, kindOf));
    // As when queued one by one: up to the first the full outbox refused; the rest are skipped.
    const refused = queued.indexOf(false);
    const invited = refused === -1 ? users : users.slice(0, refused);
    if (refused === 0) throw new AppError('BUSY', 'Too many emails are waiting to be sent; retry shortly.', { retryAfterMs: 10_000 });
    await auditMany(
      this.deps.store,
      actor,
      now,
      invited.map((user) => ({
        entityType: 'user',
        entityId: user.id,
        action: kindOf(user) === 'invitation' ? 'user.invite' : 'user.reset-send',
        from: null,
        to: null,
      })),
    );
    const gone = await this.takeBackErased(invited);
    const kept = invited.filter((u) => !gone.has(u.id));
    const invitedIds = new Set(kept.map((u) => u.id));
    return {
      queued: invitedIds.size,
      skipped: ids.filter((id) => !invitedIds.has(id)),
      resets: kept.filter((u) => kindOf(u) === 'admin-reset').length,
    };
  }

  /**
   * An erasure landing between the read of `users` and the emails and audit entries written for
   * them found none of those to delete: the email (their address and name) would outlive it. So
   * the users are read again once everything is written, and for any gone the erasure's store
   * step runs again (under a tombstone of its own), which deletes what was written about them.
   * On MongoDB an erasure that read them too early is the erasure's own to finish: it deletes
   * outbox emails again after the account (store/mongo/privacy.ts). Returns the ids of those gone.
   */
  private async takeBackErased(users: readonly User[]): Promise<Set<string>> {
    const gone = new Set<string>();
    const byOrg = new Map<string, User[]>();
    for (const u of users) byOrg.set(u.orgId, [...(byOrg.get(u.orgId) ?? []), u]);
    for (const [orgId, list] of byOrg) {
      const present = new Set(
        (
          await this.deps.store.users.getMany(
            orgId,
            list.map((u) => u.id),
          )
        ).map((u) => u.id),
      );
      for (const u of list) {
        if (present.has(u.id)) continue;
        await this.deps.store.privacy.erase(personOf(u), newTombstoneId());
        gone.add(u.id);
      }
    }
    return gone;
  }

  /**
   * Forgot-password as the public route answers it: at once, the lookup and the email left to
   * this node's background work. Only a known email's request queues an email (an outbox
   * write), so an answer that waited for it would tell by its time whether an account has the
   * address. A failure of that work is logged; the caller was told nothing either way. `from`
   * is the client's address key: its requests are counted whatever their email, since one
   * address naming many others' emails would otherwise send each of them its own budget.
   */
  async askReset(input: { email: string; organisation?: string | undefined }, from: string): Promise<void> {
    const limit = await this.deps.resetRequestLimiter.consume(from);
    if (!limit.allowed) throw new AppError('RATE_LIMITED', undefined, { retryAfterMs: limit.retryAfterMs });
    if (this.resetsInFlight >= RESETS_IN_FLIGHT_MAX) {
      // Nothing was asked: the address keeps its request for the retry.
      await this.deps.resetRequestLimiter.refund(from);
      throw new AppError('BUSY', 'Too many password resets are being prepared; retry shortly.', { retryAfterMs: 1_000 });
    }
    this.resetsInFlight += 1;
    this.deps.jobs.run('forgot-password', async () => {
      try {
        // After the answer is written: SQLite reads are synchronous, and started at once they
        // would run before it, in the very time the caller measures.
        await new Promise((resolve) => setImmediate(resolve));
        await this.requestReset(input);
      } finally {
        this.resetsInFlight -= 1;
      }
    });
  }

  /**
   * Forgot-password. Returns nothing whatever happened, so the caller's answer cannot tell
   * whether the email exists, has several accounts or hit its limit. The reset email goes
   * through the outbox, its link made when it is sent.
   */
  async requestReset(input: { email: string; organisation?: string | undefined }): Promise<void> {
    const email = normaliseEmail(input.email);
    const limit = await this.deps.resetLimiter.consume(email);
    if (!limit.allowed) return;
    const users = (await this.candidates(email, input.organisation)).filter((u) => u.active);
    for (const user of users) {
      for (const row of await this.deps.links.rows(user.orgId, [user], 'reset')) await this.deps.outbox.enqueue(row);
    }
    await this.takeBackErased(users);
  }

  /**
   * Sets the password from a link's token. The password is checked before the link is used,
   * so a refused password does not waste it. Every login of the user ends.
   */
  async setPasswordWithToken(token: string, password: string): Promise<void> {
    const passwordHash = await this.hashChecked(password, 'password');
    const now = this.deps.clock();
    const used = await this.deps.store.accountTokens.consume(hashAccountToken(token), now);
    if (!used) throw new AppError('LINK_INVALID');
    const user = await this.deps.store.users.get(used.orgId, used.userId);
    if (!user || !user.active) throw new AppError('LINK_INVALID');
    await this.deps.store.users.update(user.orgId, user.id, { passwordHash, mustChangePassword: false });
    await this.deps.store.accountTokens.voidForUser(user.orgId, user.id, now);
    await endLogins(this.deps, user, now, null);
    const self: Actor = { id: user.id, orgId: user.orgId, role: user.role };
    await audit(this.deps.store, self, now, {
      entityType: 'user',
      entityId: user.id,
      action: used.purpose === 'invite' ? 'user.password-set-by-invitation' : 'user.password-reset',
      from: null,
      to: null,
    });
  }

  /** Changes one's own password; every other login of the user ends, this one stays. */
  async changePassword(actor: Actor, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.deps.store.users.get(actor.orgId, actor.id);
    if (!user) throw new AppError('NOT_FOUND');
    if (!(await this.deps.passwords.verify(currentPassword, user.passwordHash))) throw new AppError('CURRENT_PASSWORD_WRONG');
    if (currentPassword === newPassword) {
      throw new AppError('VALIDATION_FAILED', 'Choose a password different from the current one.', {
        issues: [{ path: 'newPassword', message: 'same as the current password' }],
      });
    }
    const passwordHash = await this.hashChecked(newPassword, 'newPassword');
    const now = this.deps.clock();
    await this.deps.store.users.update(user.orgId, user.id, { passwordHash, mustChangePassword: false });
    await this.deps.store.accountTokens.voidForUser(user.orgId, user.id, now);
    await endLogins(this.deps, user, now, actor.sid ?? null);
    await audit(this.deps.store, actor, now, {
      entityType: 'user',
      entityId: user.id,
      action: 'user.password-change',
      from: null,
      to: null,
    });
  }

  /** The caller's logins that can still be refreshed, most recently used first. */
  async listLogins(actor: Actor): Promise<LoginView[]> {
    const logins = await this.deps.store.refreshTokens.listActiveLogins(actor.orgId, actor.id, this.deps.clock());
    return logins.map((l) => ({ ...l, current: l.familyId === actor.sid }));
  }

  /** Ends one of the caller's own logins (its tokens and sockets); NOT_FOUND for anyone else's. */
  async revokeLogin(actor: Actor, sid: string): Promise<void> {
    const now = this.deps.clock();
    const mine = await this.deps.store.refreshTokens.listActiveLogins(actor.orgId, actor.id, now);
    if (!mine.some((l) => l.familyId === sid)) throw new AppError('NOT_FOUND', 'No such login of yours.');
    await this.deps.store.refreshTokens.revokeFamily(sid, now);
    this.deps.events.publish({ type: 'login.revoked', orgId: actor.orgId, sid });
  }

  private async candidates(email: string, slug: string | undefined): Promise<User[]> {
    if (slug === undefined || slug.trim() === '') return this.deps.store.users.findByEmailAnyOrg(email);
    const org = await this.deps.store.organisations.getBySlug(slug.trim().toLowerCase());
    const user = org ? await this.deps.store.users.getByEmail(org.id, email) : null;
    return user ? [user] : [];
  }

  private async hashChecked(password: string, field: string): Promise<string> {
    const coded = passwordIssue(password, field);
    if (coded) throw new AppError('VALIDATION_FAILED', `Password ${coded.message}.`, { issues: [coded] });
    return this.deps.passwords.hash(password);
  }
}

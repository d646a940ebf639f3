import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../../shared/events.js';
import type { AccountTokenPurpose } from '../ports/accounts.js';
import type { NewOutboxMail, OutboxMail } from '../ports/outbox.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { accountEmail, accountSubject, type AccountEmailKind } from './account-emails.js';
import type { RenderedMail } from '../notifications/outbox-dispatcher.js';
import { PermanentSendError } from './mailer.js';
import { recipientLanguage } from '../notifications/email-notifications.js';
import { emailText } from '../locale/email-text.js';
import type { Language } from '../../shared/i18n/languages.js';

/** Where each role logs in. */
const LOGIN_PAGE: Record<Role, string> = { student: 'student.html', teacher: 'teacher.html', admin: 'admin.html' };

/** SHA-256 of a one-time token; only this is stored. */
export function hashAccountToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface AccountLinkMailDeps {
  store: Store;
  /** Links in emails start with it (PUBLIC_URL, else this node's address once listening). */
  publicUrl: () => string;
  inviteTtlMs: number;
  resetTtlMs: number;
}

const PURPOSE = { invitation: 'invite', reset: 'reset', 'admin-reset': 'reset' } as const satisfies Record<
  AccountEmailKind,
  AccountTokenPurpose
>;
/** Reads of the user per attempt while their address keeps changing under it; then the attempt fails (retried later). */
const ADDRESS_READS = 2;

/** Whether an outbox email is an account email, whose link `AccountLinkMail.render` makes. */
export function isAccountEmail(
  mail: Pick<OutboxMail, 'category'>,
): mail is Pick<OutboxMail, 'category'> & { category: keyof typeof PURPOSE } {
  return mail.category in PURPOSE;
}

/**
 * Invitations and password resets as outbox emails. The stored row names the user and holds no
 * link: `render` makes a fresh token at each attempt (storing only its SHA-256, voiding the user's
 * earlier unused links), so a retry sends a working link and the outbox never holds a secret.
 * An attempt that fails voids its own link, so an email failed for good leaves no working link
 * that nobody received; "Send again" makes a new one.
 */
export class AccountLinkMail {
  constructor(private readonly deps: AccountLinkMailDeps) {}

  /**
   * The outbox row of an invitation or reset to `user`: the recipient, and the subject in
   * `language`, the one its email is written in; no link.
   */
  row(user: User, kind: AccountEmailKind, organisation: string, language: Language = 'en'): NewOutboxMail {
    const note = `${kind === 'invitation' ? 'Invitation' : 'Password reset'} for ${user.name}; its one-time link is made when it is sent.`;
    const subject = accountSubject(kind, organisation, language);
    return { orgId: user.orgId, category: kind, userId: user.id, to: user.email, subject, text: note, html: note, headers: {} };
  }

  /**
   * The rows of invitations or resets to `users` of one organisation (`kind`, or each user's
   * own when a function), each subject in the
   * language `render` will write its email in (the user's own, else the organisation's), so the
   * admin's outbox shows what the recipient gets. One read of the organisation, one of the
   * users' preferences, however many users.
   */
  async rows(orgId: string, users: readonly User[], kind: AccountEmailKind | ((user: User) => AccountEmailKind)): Promise<NewOutboxMail[]> {
    if (users.length === 0) return [];
    const { store } = this.deps;
    const [org, prefs] = await Promise.all([
      store.organisations.get(orgId),
      store.notificationPreferences.getMany(
        orgId,
        users.map((u) => u.id),
      ),
    ]);
    const own = new Map(prefs.map((p) => [p.userId, p.language]));
    return users.map((user) => {
      const language = recipientLanguage(own.get(user.id), org);
      return this.row(
        user,
        typeof kind === 'function' ? kind(user) : kind,
        org?.name ?? emailText(language).t('fallbackOrganisation'),
        language,
      );
    });
  }

  /**
   * The email to send for a claimed invitation or reset, with a new link valid from `now`, and
   * how to void that link if the attempt fails; null for any other email (sent as stored).
   * Throws PermanentSendError (the email fails for good) when its user no longer exists or is deactivated.
   */
  async render(mail: OutboxMail, now: Date): Promise<RenderedMail | null> {
    if (!isAccountEmail(mail)) return null;
    if (mail.userId === null) throw new PermanentSendError('The email names no user.');
    const { store } = this.deps;
    const purpose = PURPOSE[mail.category];
    for (let attempt = 0; attempt < ADDRESS_READS; attempt += 1) {
      const user = await store.users.get(mail.orgId, mail.userId);
      if (!user || !user.active) throw new PermanentSendError('The user is no longer active; no link was sent.');
      const org = await store.organisations.get(user.orgId);
      const prefs = await store.notificationPreferences.get(user.orgId, user.id);
      // A link of an earlier attempt may have reached nobody, or reached someone: either way only the newest works.
      await store.accountTokens.voidForUser(user.orgId, user.id, now);
      const language = recipientLanguage(prefs?.language, org);
      const issued = await this.issue(user, purpose, language, now);
      // An email change or a deactivation voids the user's links, but one landing between the
      // read above and the new link's creation missed it: the link would go to the old address
      // and work. Read again: from here on such a change voids this link too.
      const current = await store.users.get(user.orgId, user.id);
      if (current?.active && current.email === user.email) {
        const alsoAt = mail.category === 'reset' ? await this.otherOrganisations(user) : [];
        return this.message(user, org, language, mail.category, issued, now, alsoAt);
      }
      await store.accountTokens.consume(issued.tokenHash, now);
    }
    throw new Error("The user's address changed while the link was made; no link was sent, the next attempt makes one.");
  }

  /**
   * The names of the other organisations where the address has an active account (in an
   * active organisation): a forgot-password request mails each its own reset, and each email
   * says its link sets the password of its own organisation's account only.
   */
  private async otherOrganisations(user: User): Promise<string[]> {
    const { store } = this.deps;
    const others = (await store.users.findByEmailAnyOrg(user.email)).filter((u) => u.active && u.orgId !== user.orgId);
    const orgs = await Promise.all(others.map((u) => store.organisations.get(u.orgId)));
    return orgs.flatMap((o) => (o?.active ? [o.name] : [])).sort();
  }

  private message(
    user: User,
    org: { name: string; timezone: string } | null,
    language: Language,
    kind: AccountEmailKind,
    { link, tokenHash, expiresAt }: { link: string; tokenHash: string; expiresAt: Date },
    now: Date,
    alsoAt: readonly string[],
  ): RenderedMail {
    const { store } = this.deps;
    const e = {
      to: user.email,
      name: user.name,
      organisation: org?.name ?? emailText(language).t('fallbackOrganisation'),
      language,
      timezone: org?.timezone ?? 'UTC',
      link,
      expiresAt,
      alsoAt,
    };
    return {
      message: accountEmail(kind, e),
      // Only this attempt's link: a newer email to the user (a reset made meanwhile) keeps its own.
      // Consumed unused, it works no more; null when the link was used or expired meanwhile.
      unsent: async () => void (await store.accountTokens.consume(tokenHash, now)),
    };
  }

  private async issue(
    user: User,
    purpose: AccountTokenPurpose,
    language: Language,
    now: Date,
  ): Promise<{ link: string; tokenHash: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const ttl = purpose === 'invite' ? this.deps.inviteTtlMs : this.deps.resetTtlMs;
    const expiresAt = new Date(now.getTime() + ttl);
    const tokenHash = hashAccountToken(token);
    await this.deps.store.accountTokens.create({ orgId: user.orgId, userId: user.id, purpose, tokenHash, expiresAt, createdAt: now });
    // The token rides in the fragment: browsers never send it, so no server or proxy logs it.
    // `back` is the page the user logs in on afterwards: the student page refuses staff.
    // `lang`: the page opens in the email's language, before any login could tell it.
    // `email`: the login page afterwards comes filled with it (a phone's keyboard spared, and the
    // password manager saves the new password with it); the fragment keeps it out of logs too.
    const fragment =
      `token=${token}${purpose === 'invite' ? '&invite=1' : ''}&back=${LOGIN_PAGE[user.role]}&lang=${language}` +
      `&email=${encodeURIComponent(user.email)}`;
    return { link: `${this.deps.publicUrl()}/reset.html#${fragment}`, tokenHash, expiresAt };
  }
}

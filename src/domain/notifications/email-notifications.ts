import { AppError } from '../../shared/app-error.js';
import { isAccountEmailCategory, type AlertPayload, type EmailCategory, type EmailLanguage } from '../../shared/alerts.js';
import { requireRole, type Actor } from '../actor.js';
import { audit } from '../audit-log.js';
import { guardianEmailKey } from '../guardians/guardian-unsubscribes.js';
import type { Page } from '../ports/common.js';
import type { GuardianContact } from '../ports/guardians.js';
import type { NotificationPreferences } from '../ports/notifications.js';
import type { NewOutboxMail, OutboxFilter, OutboxMail, Requeued } from '../ports/outbox.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { alertEmail, guardianAlertEmail, studentAlertEmail, type RenderedEmail } from './email-templates.js';
import { matchLanguage } from '../../shared/i18n/languages.js';
import { organisationLanguage, type Organisation } from '../ports/organisations.js';
import type { UnsubscribeTokens, VerifiedUnsubscribe } from './unsubscribe-tokens.js';

/** Where emails are queued (the stored outbox and its dispatcher). */
export interface EmailOutbox {
  /** False when the organisation's outbox is full (logged by it). */
  enqueue(input: NewOutboxMail): Promise<boolean>;
  /** Enqueue of each in order, in one store call; false for each the full outbox refused. */
  enqueueMany(inputs: readonly NewOutboxMail[]): Promise<boolean[]>;
  /** Sends what is due now rather than at the next poll. */
  kick(): void;
  /** Queues a failed email again within the bounds a new one meets, and sends it now (OutboxDispatcher.requeueFailed). */
  requeueFailed(orgId: string, id: string): Promise<Requeued | null>;
}

/** An outbox email as its admins see it: no body, no claim. */
export type OutboxRow = Omit<OutboxMail, 'text' | 'html' | 'headers' | 'userId' | 'claimedBy' | 'claimUntil'>;

const outboxRow = ({ text: _t, html: _h, headers: _hd, userId: _id, claimedBy: _c, claimUntil: _u, ...row }: OutboxMail): OutboxRow => row;

export interface EmailPreferencesView {
  /** The user's own language; null: the organisation's. */
  language: EmailLanguage | null;
  unsubscribed: EmailCategory[];
}

const DEFAULTS: EmailPreferencesView = { language: null, unsubscribed: [] };

/**
 * The language a recipient reads: their own choice (a user's preference, a guardian contact's
 * tag when a catalog serves it), else the organisation's default.
 */
export function recipientLanguage(own: string | null | undefined, org: Pick<Organisation, 'settings'> | null): EmailLanguage {
  return (own ? matchLanguage([own]) : null) ?? (org ? organisationLanguage(org.settings) : 'en');
}

/** An unsubscribe link as its page shows it (docs/notifications.md#unsubscribe). */
export interface UnsubscribeLinkView {
  category: EmailCategory;
  language: EmailLanguage;
  /** Whether the recipient gets this category now. */
  subscribed: boolean;
}

/**
 * The headers of a notification email: its unsubscribe link, and RFC 8058's one-click flag, which
 * lets a mail provider's own "unsubscribe" button POST `List-Unsubscribe=One-Click` to that link.
 */
export function unsubscribeHeaders(url: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

export interface EmailNotificationDeps {
  store: Store;
  outbox: EmailOutbox;
  tokens: UnsubscribeTokens;
  /** The service's public address; unsubscribe links start with it. */
  publicUrl: () => string;
  now: () => Date;
}

/**
 * Emails of notifications (alerts, digests): in each recipient's language, skipped for a
 * category they unsubscribed from, each with its own unsubscribe link, queued in the outbox.
 */
export class EmailNotifications {
  constructor(private readonly deps: EmailNotificationDeps) {}

  async preferences(actor: Actor): Promise<EmailPreferencesView> {
    const p = await this.deps.store.notificationPreferences.get(actor.orgId, actor.id);
    return p ? { language: p.language, unsubscribed: p.unsubscribed } : { ...DEFAULTS };
  }

  async setPreferences(actor: Actor, input: EmailPreferencesView): Promise<EmailPreferencesView> {
    const p = await this.deps.store.notificationPreferences.put(actor.orgId, actor.id, input);
    return { language: p.language, unsubscribed: p.unsubscribed };
  }

  /** The organisation's outbox for its admins: what was sent, what waits, what failed and why (no bodies). */
  async outbox(actor: Actor, filter: OutboxFilter): Promise<Page<OutboxRow>> {
    requireRole(actor, 'admin');
    const page = await this.deps.store.outbox.list(actor.orgId, filter);
    return { total: page.total, items: page.items.map(outboxRow) };
  }

  /**
   * An email failed for good, queued again by an admin (the SMTP server or the address fixed):
   * sent at once, one more attempt, failed again if refused. It meets the bounds of a new email:
   * an invitation or reset whose user has one of its kind queued is answered by that one (which
   * makes the newest link when it goes), and a full outbox (MAIL_OUTBOX_MAX, resets a quarter of
   * it) answers BUSY. NOT_FOUND for any email that is not failed.
   */
  async retry(actor: Actor, id: string): Promise<OutboxRow> {
    requireRole(actor, 'admin');
    const result = await this.deps.outbox.requeueFailed(actor.orgId, id);
    if (!result) throw new AppError('NOT_FOUND', 'No email failed for good has this id.');
    if (result.outcome === 'full') {
      throw new AppError('BUSY', "The organisation's outbox is full (MAIL_OUTBOX_MAX); send it again once the emails waiting have gone.");
    }
    const { mail } = result;
    // Sent again, an invitation or reset carries a new set-password link: that is an account
    // change of the user's, in their trail as the first sending is. One already waiting was.
    if (result.outcome === 'queued' && mail.userId !== null && isAccountEmailCategory(mail.category)) {
      await audit(this.deps.store, actor, this.deps.now(), {
        entityType: 'user',
        entityId: mail.userId,
        action: mail.category === 'invitation' ? 'user.invite' : 'user.reset-resend',
        from: null,
        to: { outboxId: mail.id },
      });
    }
    return outboxRow(mail);
  }

  /**
   * What an email's unsubscribe link is about, for its page: the category, the recipient's
   * language, and whether they still get that category. Changes nothing (a mail scanner that
   * follows the link must not unsubscribe anyone).
   */
  async unsubscribeLink(token: string): Promise<UnsubscribeLinkView> {
    const r = await this.recipient(token);
    return { category: r.category, language: r.language, subscribed: r.subscribed };
  }

  /**
   * The link's confirmed unsubscribe (its page's button, or a mail provider's one-click POST):
   * stops that category for its recipient (idempotent). A guardian's is recorded on the
   * student's guardian contacts, by the address's key.
   */
  async unsubscribe(token: string): Promise<UnsubscribeLinkView> {
    const r = await this.recipient(token);
    const { store } = this.deps;
    const { target } = r;
    if (target.kind === 'guardian') {
      if (!(await store.guardians.unsubscribe(target.orgId, target.studentId, target.emailKey, target.category)))
        throw new AppError('UNSUBSCRIBE_LINK_INVALID');
    } else {
      await this.setUserCategory(target.orgId, target.userId, target.category, false);
    }
    return { category: r.category, language: r.language, subscribed: false };
  }

  /** Undoes `unsubscribe` with the same link (the "subscribe again" button; idempotent). */
  async resubscribe(token: string): Promise<UnsubscribeLinkView> {
    const r = await this.recipient(token);
    const { store } = this.deps;
    const { target } = r;
    if (target.kind === 'guardian') {
      if (!(await store.guardians.resubscribe(target.orgId, target.studentId, target.emailKey, target.category)))
        throw new AppError('UNSUBSCRIBE_LINK_INVALID');
    } else {
      await this.setUserCategory(target.orgId, target.userId, target.category, true);
    }
    return { category: r.category, language: r.language, subscribed: true };
  }

  /** The verified link's recipient, who must still exist (a user, or an address among the student's guardians). */
  private async recipient(token: string): Promise<UnsubscribeLinkView & { target: VerifiedUnsubscribe }> {
    const target = this.deps.tokens.verify(token);
    if (!target) throw new AppError('UNSUBSCRIBE_LINK_INVALID');
    const { store } = this.deps;
    const { category } = target;
    if (target.kind === 'guardian') {
      const contacts = await store.guardians.get(target.orgId, target.studentId);
      const contact = contacts.find((c) => guardianEmailKey(c.email) === target.emailKey);
      if (!contact) throw new AppError('UNSUBSCRIBE_LINK_INVALID');
      const org = await store.organisations.get(target.orgId);
      return {
        target,
        category,
        language: recipientLanguage(contact.language, org),
        subscribed: !contact.unsubscribed?.includes(category),
      };
    }
    const user = await store.users.get(target.orgId, target.userId);
    if (!user) throw new AppError('UNSUBSCRIBE_LINK_INVALID');
    const p = (await store.notificationPreferences.get(target.orgId, target.userId)) ?? DEFAULTS;
    const org = await store.organisations.get(target.orgId);
    return { target, category, language: recipientLanguage(p.language, org), subscribed: !p.unsubscribed.includes(category) };
  }

  private async setUserCategory(orgId: string, userId: string, category: EmailCategory, wanted: boolean): Promise<void> {
    const { store } = this.deps;
    const current = (await store.notificationPreferences.get(orgId, userId)) ?? DEFAULTS;
    if (current.unsubscribed.includes(category) !== wanted) return;
    await store.notificationPreferences.put(orgId, userId, {
      language: current.language,
      unsubscribed: wanted ? current.unsubscribed.filter((c) => c !== category) : [...current.unsubscribed, category],
    });
  }

  /** One email per recipient listing the alerts of one evaluation. Resolves to how many were queued. */
  async alerts(orgId: string, recipientIds: string[], alerts: AlertPayload[]): Promise<number> {
    const org = await this.deps.store.organisations.get(orgId);
    if (!org) return 0;
    return this.each(orgId, recipientIds, 'alert', (user, lang, url) => alertEmail(lang, user.name, org.name, alerts, url));
  }

  /** One email to the student the alerts are about (theirs only), unless they unsubscribed from alerts. */
  async studentAlerts(orgId: string, studentId: string, alerts: AlertPayload[]): Promise<number> {
    const org = await this.deps.store.organisations.get(orgId);
    if (!org) return 0;
    const own = alerts.filter((a) => a.studentId === studentId);
    if (own.length === 0) return 0;
    return this.each(orgId, [studentId], 'alert', (user, lang, url) => studentAlertEmail(lang, user.name, org.name, own, url));
  }

  /**
   * One email to each address among the student's guardian contacts (a shared address once),
   * in the contact's language, about that student's alerts only, skipping addresses that
   * unsubscribed from alerts for this student. Resolves to how many were queued.
   */
  async guardianAlerts(orgId: string, student: User, contacts: GuardianContact[], alerts: AlertPayload[]): Promise<number> {
    const { store, tokens, publicUrl, outbox } = this.deps;
    const own = alerts.filter((a) => a.studentId === student.id);
    if (own.length === 0 || contacts.length === 0) return 0;
    const org = await store.organisations.get(orgId);
    if (!org) return 0;
    const seen = new Set<string>();
    let queued = 0;
    for (const contact of contacts) {
      const emailKey = guardianEmailKey(contact.email);
      if (seen.has(emailKey)) continue;
      seen.add(emailKey);
      if (contact.unsubscribed?.includes('alert')) continue;
      const token = tokens.issueGuardian({ orgId, studentId: student.id, emailKey, category: 'alert' });
      const url = `${publicUrl()}/api/v1/unsubscribe?token=${token}`;
      const email = guardianAlertEmail(recipientLanguage(contact.language, org), contact.name, student.name, org.name, own, url);
      const ok = await outbox.enqueue({
        orgId,
        category: 'alert',
        to: contact.email,
        ...email,
        headers: unsubscribeHeaders(url),
      });
      if (ok) queued++;
    }
    return queued;
  }

  /** Renders and queues one email of `category` to each active recipient who did not unsubscribe from it. */
  async each(
    orgId: string,
    recipientIds: string[],
    category: EmailCategory,
    render: (user: User, lang: EmailLanguage, unsubscribeUrl: string) => RenderedEmail,
  ): Promise<number> {
    const { store, tokens, publicUrl } = this.deps;
    const users = (await store.users.getMany(orgId, recipientIds)).filter((u) => u.active);
    const org = await store.organisations.get(orgId);
    const prefs = new Map<string, NotificationPreferences>(
      (await store.notificationPreferences.getMany(orgId, recipientIds)).map((p) => [p.userId, p]),
    );
    let queued = 0;
    for (const user of users) {
      const p = prefs.get(user.id);
      if (p?.unsubscribed.includes(category)) continue;
      const url = `${publicUrl()}/api/v1/unsubscribe?token=${tokens.issue({ orgId, userId: user.id, category })}`;
      const email = render(user, recipientLanguage(p?.language, org), url);
      const ok = await this.deps.outbox.enqueue({ orgId, category, to: user.email, ...email, headers: unsubscribeHeaders(url) });
      if (ok) queued++;
    }
    return queued;
  }
}

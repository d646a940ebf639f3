import type { OrgCount } from '../ports/common.js';
import type { Store } from '../ports/store.js';

export const TOKEN_PURGE_JOB = 'token-purge';

/**
 * Refresh tokens stay a day past their expiry, so that a login refreshed with a token that
 * has just expired is still told so rather than that the token is unknown.
 */
export const REFRESH_TOKEN_KEEP_MS = 86_400_000;

/** Sent or failed notification emails, and delivered or abandoned webhook deliveries, stay this long for the admins' logs. */
export const FINISHED_KEEP_MS = 30 * 86_400_000;

export interface TokenPurgeCounts {
  refreshTokens: number;
  accountTokens: number;
  outbox: number;
  webhookDeliveries: number;
}

const total = (counts: OrgCount[]) => counts.reduce((sum, c) => sum + c.count, 0);

/**
 * Deletes refresh tokens expired for more than a day, set-password links that were used or
 * have expired, and notification emails and webhook deliveries finished more than
 * FINISHED_KEEP_MS ago (docs/privacy.md); writes one audit entry per organisation that had any,
 * with its counts.
 */
export async function purgeTokens(store: Store, now: Date): Promise<TokenPurgeCounts> {
  const refresh = await store.refreshTokens.purgeExpired(new Date(now.getTime() - REFRESH_TOKEN_KEEP_MS));
  const links = await store.accountTokens.purgeSpent(now);
  const finishedBefore = new Date(now.getTime() - FINISHED_KEEP_MS);
  const mails = await store.outbox.purgeFinished(finishedBefore);
  const deliveries = await store.webhooks.purgeFinished(finishedBefore);
  const byOrg = new Map<string, TokenPurgeCounts>();
  const of = (orgId: string): TokenPurgeCounts => {
    let counts = byOrg.get(orgId);
    if (!counts) byOrg.set(orgId, (counts = { refreshTokens: 0, accountTokens: 0, outbox: 0, webhookDeliveries: 0 }));
    return counts;
  };
  for (const c of refresh) of(c.orgId).refreshTokens += c.count;
  for (const c of links) of(c.orgId).accountTokens += c.count;
  for (const c of mails) of(c.orgId).outbox += c.count;
  for (const c of deliveries) of(c.orgId).webhookDeliveries += c.count;
  for (const [orgId, counts] of byOrg) {
    await store.audit.append({
      orgId,
      entityType: 'organisation',
      entityId: orgId,
      sessionId: null,
      actorId: null,
      action: 'tokens.purge',
      from: null,
      to: counts,
      reason: null,
      ip: null,
      at: now,
    });
  }
  return { refreshTokens: total(refresh), accountTokens: total(links), outbox: total(mails), webhookDeliveries: total(deliveries) };
}

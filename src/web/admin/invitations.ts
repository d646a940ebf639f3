/** Invitations of many users at once (POST /users/invitations), for an import and for those who never accepted one. */
import { ApiError, apiJson } from '../lib/auth.js';
import { at } from '../lib/admin-text.js';
import { jsonBody } from './fetch-all.js';

/** Largest id list POST /users/invitations takes. */
const INVITATIONS_MAX = 1_000;

/**
 * Invites `ids`, a request per 1 000. The server stops queuing when the organisation's outbox is
 * full (MAIL_OUTBOX_MAX): what it skipped, or refused BUSY, and every id after it are returned in
 * `left`, never sent in the same click (a second invitation would void the link of the first).
 */
export async function inviteMany(ids: readonly string[]): Promise<{ queued: number; left: string[] }> {
  let queued = 0;
  let left = [...ids];
  while (left.length > 0) {
    const chunk = left.slice(0, INVITATIONS_MAX);
    let skipped: string[];
    try {
      const report = await apiJson<{ queued: number; skipped: string[] }>('api/v1/users/invitations', jsonBody('POST', { userIds: chunk }));
      queued += report.queued;
      skipped = report.skipped;
    } catch (err) {
      // BUSY: the outbox has room for none of them.
      if (!(err instanceof ApiError && err.code === 'BUSY')) throw err;
      skipped = chunk;
    }
    left = [...skipped, ...left.slice(chunk.length)];
    if (skipped.length > 0) break;
  }
  return { queued, left };
}

/** What the page says of inviteMany's answer. */
export function invitedText(result: { queued: number; left: readonly string[] }): string {
  const sent = at('import.queued', { count: result.queued });
  if (result.left.length === 0) return sent;
  return `${sent} ${at('import.outboxFull', { count: result.left.length })}`;
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Header names every delivery carries (docs/webhooks.md). */
export const SIGNATURE_HEADER = 'x-attendance-signature';
export const DELIVERY_HEADER = 'x-attendance-delivery';
export const EVENT_HEADER = 'x-attendance-event';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** How far a receiver should accept a signature's timestamp from its own clock. */
export const SIGNATURE_TOLERANCE_S = 5 * 60;

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * What a receiver does (also the reference for docs/webhooks.md): the signature matches the
 * body under the secret and its timestamp lies within the tolerance of `now`.
 */
export function verifySignature(secret: string, body: string, header: string, now: Date, toleranceS = SIGNATURE_TOLERANCE_S): boolean {
  const parts = new Map(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

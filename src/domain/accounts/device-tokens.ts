import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A device token stays valid this long after the login that issued it; every login issues a fresh one. */
export const DEVICE_TOKEN_TTL_MS = 90 * 24 * 60 * 60_000;

const VERSION = 'd1';

/**
 * Known-device tokens ("device cookies", OWASP Authentication Cheat Sheet): a successful login
 * hands the client `d1.<nonce>.<expiry>.<mac>`, the mac an HMAC over nonce, expiry and the
 * account's email. A later login for that email carrying a valid token is limited per device
 * (its nonce) instead of per account, so an attacker who spends the account's budget does not
 * lock its owner out of the devices they used before.
 *
 * Stateless: every node derives the same key from the JWT signing material, nothing is stored.
 * A token proves only that this device once logged in to the account; the password is still
 * checked every time.
 */
export class DeviceTokens {
  private readonly key: Buffer;

  /** `signingMaterial`: the JWT secret, or the RS256 private key. */
  constructor(
    signingMaterial: string,
    private readonly clock: () => Date,
  ) {
    // A key of its own, so a device token can never pass for anything signed with the JWT key.
    this.key = createHmac('sha256', signingMaterial).update('attendance login device token v1').digest();
  }

  issue(email: string): string {
    const nonce = randomBytes(16).toString('base64url');
    const expires = String(Math.floor((this.clock().getTime() + DEVICE_TOKEN_TTL_MS) / 1000));
    return `${VERSION}.${nonce}.${expires}.${this.mac(nonce, expires, email)}`;
  }

  /** The device's id (the token's nonce) when the token is valid for this email, else null. */
  verify(token: string | undefined, email: string): string | null {
    if (!token) return null;
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return null;
    const [, nonce, expires, mac] = parts as [string, string, string, string];
    if (!/^[A-Za-z0-9_-]{22}$/.test(nonce) || !/^\d{1,12}$/.test(expires)) return null;
    const given = Buffer.from(mac, 'base64url');
    const expected = Buffer.from(this.mac(nonce, expires, email), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (Number(expires) * 1000 <= this.clock().getTime()) return null;
    return nonce;
  }

  private mac(nonce: string, expires: string, email: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}.${nonce}.${expires}.${email}`).digest('base64url');
  }
}

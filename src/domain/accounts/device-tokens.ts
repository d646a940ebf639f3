import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A device token stays valid this long after the login that issued it; every login issues a fresh one. */
export const DEVICE_TOKEN_TTL_MS = 90 * 24 * 60 * 60_000;

// d1 tokens named the email only: one minted by an account of another organisation with the same
// email passed for this one's (see DeviceTokens). They are no longer accepted.
const VERSION = 'd2';
const USER_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** A valid device token: the device's id (its nonce) and the account whose login issued it. */
export interface KnownDevice {
  id: string;
  userId: string;
}

/**
 * Known-device tokens ("device cookies", OWASP Authentication Cheat Sheet): a successful login
 * hands the client `d2.<nonce>.<expiry>.<userId>.<mac>`, the mac an HMAC over nonce, expiry, the
 * account's id and its email. A later login of that account carrying a valid token is limited per
 * device (its nonce) instead of per account, so an attacker who spends the account's budget does
 * not lock its owner out of the devices they used before. The account is in the token because an
 * email is not one account: an admin of another organisation can create an account with anyone's
 * email there, and each of its logins handed them a fresh token that passed for the victim's,
 * every guess at the victim's password then counted against a new device, never the account.
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

  issue(email: string, userId: string): string {
    const nonce = randomBytes(16).toString('base64url');
    const expires = String(Math.floor((this.clock().getTime() + DEVICE_TOKEN_TTL_MS) / 1000));
    return `${VERSION}.${nonce}.${expires}.${userId}.${this.mac(nonce, expires, userId, email)}`;
  }

  /**
   * The device and the account it logged in to when the token is valid for this email, else null.
   * The caller still checks that the login is that account's (AuthService.login).
   */
  verify(token: string | undefined, email: string): KnownDevice | null {
    if (!token) return null;
    const parts = token.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) return null;
    const [, nonce, expires, userId, mac] = parts as [string, string, string, string, string];
    if (!/^[A-Za-z0-9_-]{22}$/.test(nonce) || !/^\d{1,12}$/.test(expires) || !USER_ID.test(userId)) return null;
    const given = Buffer.from(mac, 'base64url');
    const expected = Buffer.from(this.mac(nonce, expires, userId, email), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (Number(expires) * 1000 <= this.clock().getTime()) return null;
    return { id: nonce, userId };
  }

  private mac(nonce: string, expires: string, userId: string, email: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}.${nonce}.${expires}.${userId}.${email}`).digest('base64url');
  }
}

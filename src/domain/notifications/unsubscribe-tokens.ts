import { createHmac, timingSafeEqual } from 'node:crypto';
import { EMAIL_CATEGORIES, type EmailCategory } from '../../shared/alerts.js';

const VERSION = 'u1';

export interface UnsubscribeTarget {
  orgId: string;
  userId: string;
  category: EmailCategory;
}

/**
 * The signed token of an email's unsubscribe link: `u1.<payload>.<mac>`, the payload naming
 * the organisation, the user and the email category, the mac an HMAC under a key derived from
 * the JWT signing material (every node derives the same; nothing is stored). It does not
 * expire: an unsubscribe link in an old email must still work, and all it can do is stop one
 * category of email to its own recipient.
 */
export class UnsubscribeTokens {
  private readonly key: Buffer;

  /** `signingMaterial`: the JWT secret, or the RS256 private key. */
  constructor(signingMaterial: string) {
    this.key = createHmac('sha256', signingMaterial).update('attendance email unsubscribe token v1').digest();
  }

  issue(target: UnsubscribeTarget): string {
    const payload = Buffer.from(JSON.stringify([target.orgId, target.userId, target.category])).toString('base64url');
    return `${VERSION}.${payload}.${this.mac(payload)}`;
  }

  /** What the token unsubscribes, or null when it is not one of ours. */
  verify(token: string): UnsubscribeTarget | null {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return null;
    const [, payload, mac] = parts as [string, string, string];
    const given = Buffer.from(mac, 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      // Signed by us yet not JSON cannot happen short of a key leak; refused like any bad token.
      return null;
    }
    if (!Array.isArray(decoded) || decoded.length !== 3) return null;
    const [orgId, userId, category] = decoded as unknown[];
    if (typeof orgId !== 'string' || typeof userId !== 'string' || !EMAIL_CATEGORIES.includes(category as EmailCategory)) return null;
    return { orgId, userId, category: category as EmailCategory };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}.${payload}`).digest('base64url');
  }
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { EMAIL_CATEGORIES, type EmailCategory } from '../../shared/alerts.js';

/** Token versions: `u1` names a user, `g1` a guardian contact of a student. */
const USER = 'u1';
const GUARDIAN = 'g1';

export interface UnsubscribeTarget {
  orgId: string;
  userId: string;
  category: EmailCategory;
}

/** A guardian has no account: the link names the student and the address (by its key, guardianEmailKey). */
export interface GuardianUnsubscribeTarget {
  orgId: string;
  studentId: string;
  emailKey: string;
  category: EmailCategory;
}

export type VerifiedUnsubscribe = ({ kind: 'user' } & UnsubscribeTarget) | ({ kind: 'guardian' } & GuardianUnsubscribeTarget);

/**
 * The signed token of an email's unsubscribe link: `<version>.<payload>.<mac>`, the payload
 * naming the organisation, the recipient (a user, or a student and a guardian's email key) and
 * the email category, the mac an HMAC under a key derived from the JWT signing material (every
 * node derives the same; nothing is stored). The version is signed too, so a token of one kind
 * cannot be read as the other. It does not expire: an unsubscribe link in an old email must
 * still work, and all it can do is stop one category of email to its own recipient.
 */
export class UnsubscribeTokens {
  private readonly key: Buffer;

  /** `signingMaterial`: the JWT secret, or the RS256 private key. */
  constructor(signingMaterial: string) {
    this.key = createHmac('sha256', signingMaterial).update('attendance email unsubscribe token v1').digest();
  }

  issue(target: UnsubscribeTarget): string {
    return this.sign(USER, [target.orgId, target.userId, target.category]);
  }

  issueGuardian(target: GuardianUnsubscribeTarget): string {
    return this.sign(GUARDIAN, [target.orgId, target.studentId, target.emailKey, target.category]);
  }

  /** What the token unsubscribes, or null when it is not one of ours. */
  verify(token: string): VerifiedUnsubscribe | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [version, payload, mac] = parts as [string, string, string];
    if (version !== USER && version !== GUARDIAN) return null;
    const given = Buffer.from(mac, 'base64url');
    const expected = Buffer.from(this.mac(version, payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      // Signed by us yet not JSON cannot happen short of a key leak; refused like any bad token.
      return null;
    }
    if (!Array.isArray(decoded) || !decoded.every((v) => typeof v === 'string')) return null;
    const fields = decoded as string[];
    const category = fields.at(-1) as EmailCategory;
    if (!EMAIL_CATEGORIES.includes(category)) return null;
    if (version === USER && fields.length === 3) return { kind: 'user', orgId: fields[0]!, userId: fields[1]!, category };
    if (version === GUARDIAN && fields.length === 4)
      return { kind: 'guardian', orgId: fields[0]!, studentId: fields[1]!, emailKey: fields[2]!, category };
    return null;
  }

  private sign(version: string, fields: string[]): string {
    const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
    return `${version}.${payload}.${this.mac(version, payload)}`;
  }

  private mac(version: string, payload: string): string {
    return createHmac('sha256', this.key).update(`${version}.${payload}`).digest('base64url');
  }
}

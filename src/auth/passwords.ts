import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** bcrypt only reads the first 72 bytes; longer passwords would silently match on a prefix. */
export const PASSWORD_MAX_BYTES = 72;
export const PASSWORD_MIN_LENGTH = 8;

/** Why a password is not acceptable, or null when it is. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) return `must be at most ${PASSWORD_MAX_BYTES} bytes`;
  return null;
}

/**
 * bcrypt hashing with the configured cost. `verify` against a missing hash still runs one
 * full comparison (against a dummy hash of the same cost), so response time does not reveal
 * whether an account exists or has a password.
 */
export class PasswordHasher {
  readonly cost: number;
  private dummy: Promise<string> | null = null;

  constructor(cost: number) {
    this.cost = cost;
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    if (!hash) {
      await bcrypt.compare(password, await this.dummyHash());
      return false;
    }
    return bcrypt.compare(password, hash);
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= bcrypt.hash(randomBytes(18).toString('base64url'), this.cost);
    return this.dummy;
  }
}

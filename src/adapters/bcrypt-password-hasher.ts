import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { PasswordHasher } from '../domain/accounts/passwords.js';

/**
 * bcrypt with the configured cost (BCRYPT_COST; tests use the lowest, 4). A missing hash is
 * compared against a dummy hash of the same cost, so it takes as long as a real one.
 */
export class BcryptPasswordHasher implements PasswordHasher {
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

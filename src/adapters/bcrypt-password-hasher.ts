import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { PasswordHasher } from '../domain/accounts/passwords.js';

/**
 * What every bcrypt hasher shares: a missing hash is compared against a dummy hash of the same
 * cost, so an unknown account answers as late as a known one.
 */
export abstract class TimingSafeBcrypt implements PasswordHasher {
  abstract readonly cost: number;
  private dummy: Promise<string> | null = null;

  abstract hash(password: string): Promise<string>;
  protected abstract compare(password: string, hash: string): Promise<boolean>;

  /** Throws to refuse a check before any work, an unknown account's included; by default every check is let in. */
  protected admit(): void {}

  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    this.admit();
    return this.check(password, hash);
  }

  async verifyAll(password: string, hashes: ReadonlyArray<string | null | undefined>): Promise<boolean[]> {
    // One admission for the login: its comparisons run together or none does, and a refusal is one BUSY.
    this.admit();
    return Promise.all(hashes.map((hash) => this.check(password, hash)));
  }

  private async check(password: string, hash: string | null | undefined): Promise<boolean> {
    if (!hash) {
      await this.compare(password, await this.dummyHash());
      return false;
    }
    return this.compare(password, hash);
  }

  private dummyHash(): Promise<string> {
    // A refused computation (a full pool) is not kept: the next unknown login tries again.
    this.dummy ??= this.hash(randomBytes(18).toString('base64url')).catch((err: unknown) => {
      this.dummy = null;
      throw err;
    });
    return this.dummy;
  }
}

/**
 * bcrypt on the calling thread, at the given cost: for tools and tests (seeds, the admin CLI).
 * A node hashes on worker threads instead (bcrypt-worker-hasher.ts), since a compare at
 * BCRYPT_COST 12 is a quarter of a second of CPU.
 */
export class BcryptPasswordHasher extends TimingSafeBcrypt {
  readonly cost: number;

  constructor(cost: number) {
    super();
    this.cost = cost;
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  protected compare(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash);
  }
}

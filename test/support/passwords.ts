import { BcryptPasswordHasher } from '../../src/adapters/bcrypt-password-hasher.js';
import type { PasswordHasher } from '../../src/domain/accounts/passwords.js';

/** bcrypt at its lowest cost (4): real hashes at a few milliseconds each, for seeds and fixtures. */
export function cheapPasswordHasher(): PasswordHasher {
  return new BcryptPasswordHasher(4);
}

/** The same hash read at another cost: bcrypt then runs 2^cost rounds to compare against it (31: for hours). */
export function atCost(hash: string, cost: number): string {
  const rounds = String(cost).padStart(2, '0');
  return hash.replace(/^(\$2[aby]\$)\d\d\$/, (_, prefix: string) => `${prefix}${rounds}$`);
}

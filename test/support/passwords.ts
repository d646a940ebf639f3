import { BcryptPasswordHasher } from '../../src/adapters/bcrypt-password-hasher.js';
import type { PasswordHasher } from '../../src/domain/accounts/passwords.js';

/** bcrypt at its lowest cost (4): real hashes at a few milliseconds each, for seeds and fixtures. */
export function cheapPasswordHasher(): PasswordHasher {
  return new BcryptPasswordHasher(4);
}

import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { BcryptPasswordHasher } from '../../../src/adapters/bcrypt-password-hasher.js';
import { passwordProblem, PASSWORD_MAX_BYTES } from '../../../src/domain/accounts/passwords.js';

describe('BcryptPasswordHasher (the PasswordHasher port)', () => {
  const hasher = new BcryptPasswordHasher(4);

  it('hashes with its cost and salt, and verifies the password against the hash, nothing else', async () => {
    const hash = await hasher.hash('correct horse battery');
    expect(bcrypt.getRounds(hash)).to.equal(4);
    expect(await hasher.hash('correct horse battery')).to.not.equal(hash);
    expect(await hasher.verify('correct horse battery', hash)).to.equal(true);
    expect(await hasher.verify('correct horse batterY', hash)).to.equal(false);
  });

  it('answers false for an account without a hash', async () => {
    expect(await hasher.verify('anything at all', null)).to.equal(false);
    expect(await hasher.verify('anything at all', undefined)).to.equal(false);
    expect(await hasher.verify('anything at all', '')).to.equal(false);
  });

  it('accepts no password longer than bcrypt reads, so none matches on a prefix', () => {
    expect(passwordProblem('x'.repeat(PASSWORD_MAX_BYTES))).to.equal(null);
    expect(passwordProblem('x'.repeat(PASSWORD_MAX_BYTES + 1))).to.match(/at most 72 bytes/);
    expect(passwordProblem('é'.repeat(37))).to.match(/at most 72 bytes/);
    expect(passwordProblem('short')).to.match(/at least 8/);
  });
});

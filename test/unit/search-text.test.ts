import { expect } from 'chai';
import { accentInsensitivePattern, foldForSearch } from '../../src/domain/search-text.js';

describe('search text: accents and case ignored', () => {
  it('folds letters to their base, lower-cased', () => {
    expect(foldForSearch('Hélène ÇA Zoë Dvořák')).to.equal('helene ca zoe dvorak');
    // Decomposed input (as some systems write it) folds the same.
    expect(foldForSearch('He\u0301le\u0300ne')).to.equal('helene');
  });

  it('matches a literal substring whatever the accents of the text, metacharacters kept plain', () => {
    const rx = new RegExp(accentInsensitivePattern('Helene'), 'i');
    expect(rx.test('Mme HÉLÈNE Dupont')).to.equal(true);
    expect(rx.test('Helene')).to.equal(true);
    expect(rx.test('Hxlene')).to.equal(false);
    const plain = new RegExp(accentInsensitivePattern('a.b(c]'), 'i');
    expect(plain.test('xA.B(C]')).to.equal(true);
    expect(plain.test('axb(c]')).to.equal(false);
    expect(new RegExp(accentInsensitivePattern("o'brien-smith"), 'i').test("O'Brien-Smith")).to.equal(true);
  });
});

import { expect } from 'chai';
import { AUDIT_FIELDS, isAuditField } from '../../../src/shared/audit.js';
import { englishProblem, englishReason, isRowProblemCode, ROW_PROBLEMS, rowProblem } from '../../../src/shared/row-problems.js';
import { adminEn } from '../../../src/web/locales/admin-en.js';
import adminFr from '../../../src/web/locales/admin-fr.js';

const placeholders = (message: string): string[] => [...new Set([...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();

describe('row problems and audit fields: the server’s codes and the admin console’s words for them', () => {
  it('gives API clients the English reasons they always read, numbers unformatted', () => {
    expect(englishProblem(rowProblem('emailRepeated', { line: 1234 }))).to.equal('duplicate email in the file (first on line 1234)');
    expect(englishProblem(rowProblem('roleUnknown'))).to.equal('unknown role (expected admin, teacher or student)');
    expect(englishProblem(rowProblem('bundleFileMissing', { file: 'users' }))).to.equal('file.users is bulk but users.csv was not sent');
    expect(englishReason([rowProblem('nameMissing'), rowProblem('passwordTooShort', { min: 8 })])).to.equal(
      'name is missing; password must be at least 8 characters',
    );
    expect(englishProblem({ code: 'refused', params: { code: 'EMAIL_TAKEN', message: 'That email is taken.' } })).to.equal(
      'That email is taken.',
    );
    expect(isRowProblemCode('emailTaken')).to.equal(true);
    expect(isRowProblemCode('toString')).to.equal(false);
  });

  it('a problem without the parameters its sentence names, or with an unknown code, does not compile', () => {
    // These lines are the test: `npm run typecheck` fails when a directive below is not needed.
    // @ts-expect-error -- emailRepeated names {line}
    const missing = rowProblem('emailRepeated');
    // @ts-expect-error -- no such code
    const unknown = rowProblem('nope');
    // @ts-expect-error -- a parameter the sentence does not name
    const extra = rowProblem('nameMissing', { name: 'x' });
    expect([missing.code, unknown.code, extra.code]).to.deep.equal(['emailRepeated', 'nope', 'nameMissing']);
  });

  it('the admin catalogs word every code, the English as the server writes it, the French with the same placeholders', () => {
    const codes = Object.keys(ROW_PROBLEMS);
    for (const catalog of [adminEn, adminFr] as Record<string, unknown>[]) {
      const keys = Object.keys(catalog).filter((k) => k.startsWith('rowProblem.'));
      expect(keys.sort()).to.deep.equal(codes.map((c) => `rowProblem.${c}`).sort());
    }
    const en = adminEn as unknown as Record<string, string>;
    const fr = adminFr as unknown as Record<string, string>;
    for (const [code, message] of Object.entries(ROW_PROBLEMS)) {
      expect(en[`rowProblem.${code}`], code).to.equal(message);
      expect(placeholders(fr[`rowProblem.${code}`]!), code).to.deep.equal(placeholders(message));
    }
    // Said in French, not the English again (`refused` is the server's message, worded by its code on the page).
    const same = codes.filter((c) => c !== 'refused' && fr[`rowProblem.${c}`] === en[`rowProblem.${c}`]);
    expect(same).to.deep.equal([]);
  });

  it('the admin catalogs name every audit field in words, and nothing else', () => {
    const en = adminEn as unknown as Record<string, string>;
    const fr = adminFr as unknown as Record<string, string>;
    for (const catalog of [en, fr]) {
      const keys = Object.keys(catalog).filter((k) => k.startsWith('audit.field.'));
      expect(keys.sort()).to.deep.equal(AUDIT_FIELDS.map((f) => `audit.field.${f}`).sort());
      for (const key of keys) expect(catalog[key]).to.be.a('string').that.does.not.match(/^\s*$/);
    }
    // The French labels are words, not the field keys.
    expect(AUDIT_FIELDS.filter((f) => fr[`audit.field.${f}`] === f)).to.deep.equal([]);
    expect(isAuditField('studentNumber')).to.equal(true);
    expect(isAuditField('constructor')).to.equal(false);
  });
});

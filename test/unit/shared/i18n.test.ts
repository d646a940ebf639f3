import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emailEn } from '../../../src/domain/locale/email-en.js';
import { emailFr } from '../../../src/domain/locale/email-fr.js';
import { emailText } from '../../../src/domain/locale/email-text.js';
import { accountSubject } from '../../../src/domain/accounts/account-emails.js';
import { errorPage } from '../../../src/http/error-page.js';
import { languageOf, matchLanguage, textDirection } from '../../../src/shared/i18n/languages.js';
import { translator, type CatalogOf } from '../../../src/shared/i18n/messages.js';
import { pageEn } from '../../../src/web/locales/en.js';
import pageFr from '../../../src/web/locales/fr.js';
import { staffEn } from '../../../src/web/locales/staff-en.js';
import staffFr from '../../../src/web/locales/staff-fr.js';
import { reportsEn } from '../../../src/web/locales/reports-en.js';
import reportsFr from '../../../src/web/locales/reports-fr.js';
import { teacherEn } from '../../../src/web/locales/teacher-en.js';
import teacherFr from '../../../src/web/locales/teacher-fr.js';
import { adminEn } from '../../../src/web/locales/admin-en.js';
import adminFr from '../../../src/web/locales/admin-fr.js';
import { classroomEn } from '../../../src/web/locales/classroom-en.js';
import classroomFr from '../../../src/web/locales/classroom-fr.js';
import { pagesEn } from '../../../src/web/locales/pages-en.js';
import pagesFr from '../../../src/web/locales/pages-fr.js';
import { studentEn } from '../../../src/web/locales/student-en.js';
import studentFr from '../../../src/web/locales/student-fr.js';
import { ErrorCodes } from '../../../src/shared/errors.js';
import { AUDIT_ACTIONS, type AuditAction } from '../../../src/shared/audit.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('message catalogs (src/shared/i18n)', () => {
  it('a catalog missing a key, or a key or placeholder the source lacks, does not compile', () => {
    // These lines are the test: `npm run typecheck` fails when a directive below is not needed,
    // i.e. when the catalog types stop catching the mistake it marks.
    const { 'page.skip': _dropped, ...incomplete } = pageFr;
    // @ts-expect-error -- 'page.skip' is missing from the catalog
    const missing: CatalogOf<typeof pageEn> = incomplete;
    // @ts-expect-error -- a key the English source does not have
    const extra: CatalogOf<typeof emailEn> = { ...emailFr, 'digest.typo': 'x' };
    const t = translator<typeof pageEn>('en', pageEn);
    // @ts-expect-error -- an unknown key
    t.t('student.nope');
    // @ts-expect-error -- the message has placeholders, so it needs them
    t.t('student.openUntil');
    // @ts-expect-error -- `count` of a plural message is a number
    t.t('student.tryAgain', { count: 'two' });
    const { 'teacher.close': _closeDropped, ...teacherIncomplete } = teacherFr;
    // @ts-expect-error -- a page's own catalogs are typed the same way
    const teacherMissing: CatalogOf<typeof teacherEn> = teacherIncomplete;
    const s = translator<typeof teacherEn>('en', teacherEn);
    // @ts-expect-error -- a page catalog's placeholders are required too
    s.t('teacher.sessionInfo', { status: 'open' });
    expect(Object.keys(teacherMissing)).not.to.include('teacher.close');
    expect(Object.keys(missing)).not.to.include('page.skip');
    expect(extra).to.have.property('digest.typo');
  });

  it('every shipped catalog has exactly the source keys, each plural form an `other`', () => {
    const check = (source: object, other: object) => {
      expect(Object.keys(other).sort()).to.deep.equal(Object.keys(source).sort());
      for (const value of Object.values(other)) if (typeof value !== 'string') expect(value).to.have.property('other');
    };
    check(pageEn, pageFr);
    check(pagesEn, pagesFr);
    check(studentEn, studentFr);
    check(staffEn, staffFr);
    check(reportsEn, reportsFr);
    check(teacherEn, teacherFr);
    check(classroomEn, classroomFr);
    check(adminEn, adminFr);
    check(emailEn, emailFr);
  });

  it('the admin catalogs name every audit action and its group in words, and nothing else', () => {
    // Compiles only while the English catalog labels every action of the union (audit-labels.ts relies on it).
    const labelled: Record<`audit.action.${AuditAction}`, string> = adminEn;
    const groups = [...new Set(AUDIT_ACTIONS.map((a) => a.slice(0, a.indexOf('.'))))];
    for (const catalog of [adminEn, adminFr] as Record<string, unknown>[]) {
      const actionKeys = Object.keys(catalog).filter((k) => k.startsWith('audit.action.'));
      expect(actionKeys.sort()).to.deep.equal(AUDIT_ACTIONS.map((a) => `audit.action.${a}`).sort());
      const groupKeys = Object.keys(catalog).filter((k) => k.startsWith('audit.group.'));
      expect(groupKeys.sort()).to.deep.equal(groups.map((g) => `audit.group.${g}`).sort());
      for (const key of [...actionKeys, ...groupKeys]) expect(catalog[key]).to.be.a('string').that.does.not.match(/^\s*$/);
    }
    // Readable words, not the code again; French ones differ from the English except names (OneRoster, Webhooks).
    for (const action of AUDIT_ACTIONS) expect(labelled[`audit.action.${action}`]).not.to.equal(action);
    const same = AUDIT_ACTIONS.filter((a) => adminFr[`audit.action.${a}`] === adminEn[`audit.action.${a}`]);
    expect(same).to.deep.equal([]);
  });

  it('picks plural forms by Intl.PluralRules: English 1 is one, French 0 and 1 are one', () => {
    const en = emailText('en');
    const fr = emailText('fr');
    const line = (s: typeof en, count: number) => s.t('alert.consecutiveAbsences', { count, student: 'Ann', subject: 'PHY1 Physics' });
    expect([0, 1, 2].map((n) => line(en, n))).to.deep.equal([
      'Ann missed 0 sessions in a row of PHY1 Physics.',
      'Ann missed 1 session in a row of PHY1 Physics.',
      'Ann missed 2 sessions in a row of PHY1 Physics.',
    ]);
    expect([0, 1, 2].map((n) => line(fr, n))).to.deep.equal([
      'Ann a manqué 0 séance en PHY1 Physics.',
      'Ann a manqué 1 séance en PHY1 Physics.',
      'Ann a manqué 2 séances consécutives en PHY1 Physics.',
    ]);
    // French writes large counts with a narrow no-break space; the form falls back to `other`.
    const pf = translator<typeof studentEn>('fr', studentFr);
    expect(pf.t('student.tryAgain', { count: 1 })).to.equal('Vous pouvez réessayer (1 essai restant).');
    expect(pf.t('student.tryAgain', { count: 1500 })).to.equal('Vous pouvez réessayer (1\u202f500 essais restants).');
  });

  it('writes dates in the language and the organisation’s time zone, naming the zone', () => {
    const at = new Date('2026-12-11T16:53:00Z');
    expect(emailText('en', 'Europe/Paris').dateTime(at)).to.equal('Fri, 11 Dec 2026, 17:53 CET');
    expect(emailText('fr', 'Europe/Paris').dateTime(at)).to.equal('ven. 11 déc. 2026, 17:53 UTC+1');
    expect(emailText('fr', 'Asia/Kolkata').time(at)).to.equal('22:23');
    expect(emailText('fr').day('2026-03-02')).to.equal('lundi 2 mars 2026');
    expect(emailText('en').day('2026-03-02')).to.equal('Monday, 2 March 2026');
  });

  it('makes its Intl formats once per language and zone, and only those a message uses', () => {
    // Made per translator, the five took about half a millisecond: per email queued (a thousand
    // invitations blocked the node for that long each) and per error page an anonymous client asks for.
    const made: string[] = [];
    const originals = { DateTimeFormat: Intl.DateTimeFormat, NumberFormat: Intl.NumberFormat, PluralRules: Intl.PluralRules };
    const counting = <C extends new (...args: never[]) => object>(name: string, Original: C): C =>
      new Proxy(Original, {
        construct(target, args: never[]) {
          made.push(name);
          return new target(...args);
        },
      });
    Object.assign(Intl, {
      DateTimeFormat: counting('DateTimeFormat', originals.DateTimeFormat),
      NumberFormat: counting('NumberFormat', originals.NumberFormat),
      PluralRules: counting('PluralRules', originals.PluralRules),
    });
    try {
      for (let i = 0; i < 200; i++) accountSubject('invitation', 'Collège Jean Moulin', 'fr');
      for (let i = 0; i < 20; i++) errorPage(404, 'Not found', '', 'fr');
      expect(made, 'subjects and pages without numbers or dates').to.deep.equal([]);
      // A zone no other case uses, so the count starts from none made.
      const at = new Date('2026-03-02T08:00:00Z');
      const dates = Array.from({ length: 50 }, () => emailText('fr', 'Pacific/Chatham').dateTime(at));
      expect(new Set(dates).size).to.equal(1);
      expect(made).to.deep.equal(['DateTimeFormat']);
    } finally {
      Object.assign(Intl, originals);
    }
  });

  it('matches browser and stored tags by primary subtag; an unknown language falls back to English', () => {
    expect(matchLanguage(['de-DE', 'fr-CA', 'en'])).to.equal('fr');
    expect(matchLanguage(['de', 'pt-BR'])).to.equal(null);
    expect([languageOf('FR'), languageOf('de'), languageOf(null), languageOf('en-GB')]).to.deep.equal(['fr', 'en', 'en', 'en']);
    expect(translator<typeof studentEn>('en', studentEn).t('student.join')).to.equal('Join');
    expect([textDirection('ar-EG'), textDirection('he'), textDirection('fr')]).to.deep.equal(['rtl', 'rtl', 'ltr']);
  });

  it('no two page catalogs share a key, and the shared and staff ones word every code of the error table', () => {
    const catalogs = [pageEn, pagesEn, studentEn, staffEn, teacherEn, classroomEn, reportsEn, adminEn];
    const all = catalogs.flatMap((c) => Object.keys(c));
    expect(all.filter((k, i) => all.indexOf(k) !== i)).to.deep.equal([]);
    const worded = new Set([...Object.keys(pageEn), ...Object.keys(staffEn)]);
    expect(Object.keys(ErrorCodes).filter((code) => !worded.has(`error.${code}`))).to.deep.equal([]);
    const fr = translator<typeof teacherEn>('fr', teacherFr);
    expect(fr.t('teacher.bulkDone', { count: 1, status: 'Absent·e' })).to.equal('1 élève noté·e Absent·e.');
    expect(fr.t('teacher.bulkDone', { count: 3, status: 'Absent·e' })).to.equal('3 élèves notés Absent·e.');
  });

  it('every data-i18n key in the localised pages is in the catalogs the page adds (the set-password page: the shared one only)', async () => {
    // The set-password page adds no catalog; every other page adds the signed-in pages' one.
    const keys = new Set(Object.keys(pageEn));
    const signedIn = new Set([...keys, ...Object.keys(pagesEn)]);
    const withOwn = (...own: object[]) => new Set([...signedIn, ...Object.keys(staffEn), ...own.flatMap((c) => Object.keys(c))]);
    const known: Record<string, Set<string>> = {
      'src/web/public/student.html': new Set([...signedIn, ...Object.keys(studentEn)]),
      'src/web/partials/login.html': signedIn,
      'src/web/public/teacher.html': withOwn(teacherEn),
      'src/web/public/classroom.html': withOwn(classroomEn),
      'src/web/public/reports.html': withOwn(reportsEn),
      'src/web/public/admin.html': withOwn(adminEn),
    };
    for (const file of [
      'src/web/public/student.html',
      'src/web/public/reset.html',
      'src/web/partials/login.html',
      'src/web/public/teacher.html',
      'src/web/public/classroom.html',
      'src/web/public/reports.html',
      'src/web/public/admin.html',
    ]) {
      const html = await readFile(path.join(ROOT, file), 'utf8');
      const used = [
        ...[...html.matchAll(/data-i18n(?:-title)?="([^"]+)"/g)].map((m) => m[1]!),
        ...[...html.matchAll(/data-i18n-attr="([^"]+)"/g)].flatMap((m) => m[1]!.split(';').map((p) => p.split(':')[1]!.trim())),
      ];
      expect(used.length, file).to.be.greaterThan(0);
      expect(
        used.filter((k) => !(known[file] ?? keys).has(k)),
        file,
      ).to.deep.equal([]);
    }
  });
});

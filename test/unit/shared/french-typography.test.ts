import { expect } from 'chai';
import { emailFr } from '../../../src/domain/locale/email-fr.js';
import { EXPORT_WORDS } from '../../../src/http/attendance-export.js';
import { AUDIT_EXPORT_WORDS } from '../../../src/http/audit-export.js';
import { errorPageWords } from '../../../src/http/error-page.js';
import { homePageWords } from '../../../src/http/home-page.js';
import { PAGE_NAMES } from '../../../src/http/page-shell.js';
import { unsubscribePageWords } from '../../../src/http/unsubscribe-page.js';
import { manifestWords } from '../../../src/http/web-manifest.js';
import { auditActionsFr } from '../../../src/shared/i18n/audit-actions-fr.js';
import { reasonsFr } from '../../../src/shared/i18n/reasons-fr.js';
import adminFr from '../../../src/web/locales/admin-fr.js';
import classroomFr from '../../../src/web/locales/classroom-fr.js';
import pageFr from '../../../src/web/locales/fr.js';
import pagesFr from '../../../src/web/locales/pages-fr.js';
import reportsFr from '../../../src/web/locales/reports-fr.js';
import staffFr from '../../../src/web/locales/staff-fr.js';
import studentFr from '../../../src/web/locales/student-fr.js';
import teacherFr from '../../../src/web/locales/teacher-fr.js';

/** Every French text a person meets: the pages', the emails', the server's own pages and files. */
const CATALOGS: Record<string, unknown> = {
  'src/web/locales/fr.ts': pageFr,
  'pages-fr.ts': pagesFr,
  'staff-fr.ts': staffFr,
  'student-fr.ts': studentFr,
  'teacher-fr.ts': teacherFr,
  'classroom-fr.ts': classroomFr,
  'reports-fr.ts': reportsFr,
  'admin-fr.ts': adminFr,
  'email-fr.ts': emailFr,
  'reasons-fr.ts': reasonsFr,
  'audit-actions-fr.ts': auditActionsFr,
  'error page': errorPageWords.fr,
  'home page': homePageWords.fr,
  'page names': PAGE_NAMES.fr,
  'unsubscribe page': unsubscribePageWords.fr,
  manifest: manifestWords.fr,
  'attendance export': EXPORT_WORDS.fr,
  'audit export': AUDIT_EXPORT_WORDS.fr,
};

function* texts(value: unknown, where: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [where, value];
  else if (value && typeof value === 'object') for (const [key, inner] of Object.entries(value)) yield* texts(inner, `${where} ${key}`);
}

const all = [...Object.entries(CATALOGS)].flatMap(([name, catalog]) => [...texts(catalog, name)]);

describe('French typography of every French text', () => {
  it('reads every catalog (the list above is not empty by mistake)', () => {
    expect(all.length).to.be.greaterThan(1000);
  });

  it('puts a no-break space, never a plain one, before ; : ! ? % and » and after «', () => {
    // A plain space there lets a line break leave the mark alone at the start of the next line.
    const bad = all.filter(([, text]) => / [;:!?%»]|« /.test(text)).map(([where, text]) => `${where}: ${text}`);
    expect(bad).to.deep.equal([]);
  });

  it('writes the apostrophe as ’, as every other French text does', () => {
    const bad = all.filter(([, text]) => /[A-Za-zÀ-ÿ]'[A-Za-zÀ-ÿ]/.test(text)).map(([where, text]) => `${where}: ${text}`);
    expect(bad).to.deep.equal([]);
  });

  it('addresses the reader as « vous », never « tu »', () => {
    const bad = all
      .filter(([, text]) => /(?<!\p{L})(tu|ton|ta|tes|toi)(?!\p{L})/iu.test(text.replace(/[’']/g, ' ')))
      .map(([where, text]) => `${where}: ${text}`);
    expect(bad).to.deep.equal([]);
  });
});

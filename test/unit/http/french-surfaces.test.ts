import { expect } from 'chai';
import { accountEmail, accountSubject } from '../../../src/domain/accounts/account-emails.js';
import { emailEn } from '../../../src/domain/locale/email-en.js';
import { emailFr } from '../../../src/domain/locale/email-fr.js';
import {
  alertEmail,
  digestEmail,
  guardianAlertEmail,
  studentAlertEmail,
  type RenderedEmail,
} from '../../../src/domain/notifications/email-templates.js';
import { errorPage, errorPageWords } from '../../../src/http/error-page.js';
import { homePage, homePageWords } from '../../../src/http/home-page.js';
import { unsubscribePage, unsubscribePageWords } from '../../../src/http/unsubscribe-page.js';
import type { AlertPayload } from '../../../src/shared/alerts.js';
import type { Message } from '../../../src/shared/i18n/messages.js';

type Catalog = Readonly<Record<string, Message>>;

const textsOf = (m: Message): string[] =>
  typeof m === 'string' ? [m] : Object.values(m).filter((v): v is string => typeof v === 'string');

/**
 * The fixed words of every English sentence of `catalogs` (what lies between its placeholders),
 * at least two words long, leaving out those French writes the same.
 */
function englishFragments(...catalogs: [Catalog, Catalog][]): string[] {
  const out = new Set<string>();
  for (const [en, fr] of catalogs)
    for (const [key, message] of Object.entries(en)) {
      const french = new Set(textsOf(fr[key] ?? ''));
      for (const text of textsOf(message))
        for (const part of text.split(/\{\w+\}|#/)) {
          const fragment = part.trim().replace(/[.:,;]$/, '');
          if (fragment.split(/\s+/).length >= 2 && !french.has(text)) out.add(fragment);
        }
    }
  return [...out];
}

const ENGLISH_DATE =
  /\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun|January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|AM|PM)\b/;

const plain = (html: string): string =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ');

function expectFrench(name: string, text: string, fragments: readonly string[]): void {
  const found = fragments.filter((f) => text.includes(f));
  expect(found, `${name}: English left in ${JSON.stringify(text)}`).to.deep.equal([]);
  expect(ENGLISH_DATE.exec(text)?.[0], `${name}: an English date in ${JSON.stringify(text)}`).to.equal(undefined);
}

const emailParts = (e: RenderedEmail | { subject: string; text: string; html: string }) => [e.subject, e.text, plain(e.html)].join('\n');

const alert = (rule: AlertPayload['rule'], observed: number, windowDays: number | null): AlertPayload => ({
  ruleId: 'r1',
  rule,
  subjectId: 's1',
  subjectCode: 'MATH1',
  subjectName: 'Mathématiques',
  studentId: 'u1',
  studentName: 'Léa Martin',
  count: 3,
  thresholdPct: rule === 'low-attendance' ? 75 : null,
  windowDays,
  observed,
});

const ALERTS = [alert('consecutive-absences', 3, null), alert('low-attendance', 62.5, 14), alert('repeated-lateness', 4, 30)];
const LINK = {
  to: 'lea@example.test',
  name: 'Léa Martin',
  organisation: 'Lycée du Parc',
  link: 'https://attendance.example.test/reset.html#token=x&lang=fr',
  expiresAt: new Date('2026-12-10T16:53:00Z'),
  timezone: 'Europe/Paris',
  language: 'fr' as const,
};

describe('every surface a French reader meets outside the pages is French (no English sentence of its catalog left)', () => {
  const emailWords = englishFragments([emailEn as Catalog, emailFr as Catalog]);

  it('the invitation and the reset, their subjects as the outbox lists them, the expiry as French writes a date', () => {
    for (const [name, email] of [
      ['invitation', accountEmail('invitation', LINK)],
      ['reset', accountEmail('reset', LINK)],
      ['admin-reset', accountEmail('admin-reset', LINK)],
    ] as const) {
      expectFrench(name, emailParts(email), emailWords);
      expect(email.text, name).to.include('jeudi 10 décembre 2026');
    }
    expectFrench(
      'outbox subjects',
      `${accountSubject('invitation', 'Lycée du Parc', 'fr')} ${accountSubject('reset', 'Lycée du Parc', 'fr')}`,
      emailWords,
    );
  });

  it('the staff, student and guardian alerts and the digest, numbers as French writes them', () => {
    const url = 'https://attendance.example.test/api/v1/unsubscribe?token=t';
    const emails = {
      staff: alertEmail('fr', 'M. Durand', 'Lycée du Parc', ALERTS, url),
      student: studentAlertEmail('fr', 'Léa Martin', 'Lycée du Parc', ALERTS, url),
      guardian: guardianAlertEmail('fr', 'Claire Martin', 'Léa Martin', 'Lycée du Parc', ALERTS, url),
      digest: digestEmail(
        'fr',
        {
          recipientName: 'M. Durand',
          organisation: 'Lycée du Parc',
          day: '2026-12-10',
          sessions: (['scheduled', 'open', 'closing', 'closed', 'cancelled'] as const).map((status) => ({
            subjectCode: 'MATH1',
            subjectName: 'Mathématiques',
            startsAt: '08:30',
            status,
          })),
          pendingReviews: 1_250,
          alerts: ALERTS,
        },
        url,
      ),
    };
    for (const [name, email] of Object.entries(emails)) {
      expectFrench(name, emailParts(email), emailWords);
      if (name !== 'digest') expect(email.text, name).to.include('62,5\u00a0%');
    }
    expect(emails.digest.subject).to.equal('Votre récapitulatif d’assiduité du jeudi 10 décembre 2026');
    expect(emails.digest.text).to.include('1\u202f250');
  });

  it('the error pages (404, a refusal, 500) and the unsubscribe pages', () => {
    const words = englishFragments([errorPageWords.en, errorPageWords.fr]);
    for (const status of [404, 403, 500]) expectFrench(`error ${status}`, plain(errorPage(status, 'Forbidden.', '/att', 'fr')), words);
    const unsubscribe = englishFragments([unsubscribePageWords.en, unsubscribePageWords.fr]);
    for (const step of ['confirm', 'unsubscribed', 'resubscribed'] as const)
      for (const category of ['alert', 'digest'] as const)
        for (const subscribed of [true, false])
          expectFrench(
            `unsubscribe ${step} ${category}`,
            plain(unsubscribePage(step, { category, language: 'fr', subscribed }, 'tok', '/att')),
            unsubscribe,
          );
  });

  it('the home page the error pages link to', () => {
    const words = englishFragments([homePageWords.en, homePageWords.fr]);
    const html = homePage('fr');
    expect(html).to.include('<html lang="fr"');
    expectFrench('home', plain(html), words);
    expect(plain(homePage('en'))).to.include('Forgot your password?');
  });
});

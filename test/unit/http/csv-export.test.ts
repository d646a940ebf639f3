import { expect } from 'chai';
import { EXPORT_COLUMNS, EXPORT_WORDS, exportLayout, forPeople } from '../../../src/http/attendance-export.js';
import { toCsv, toCsvStream } from '../../../src/http/csv.js';
import type { ExportRow } from '../../../src/domain/sessions/attendance-queries.js';
import { ROSTER_STATUSES } from '../../../src/shared/events.js';
import { REASON_CODES, ReasonCodes } from '../../../src/shared/reasons.js';
import { pagesEn } from '../../../src/web/locales/pages-en.js';
import pagesFr from '../../../src/web/locales/pages-fr.js';
import { LANGUAGES } from '../../../src/shared/i18n/languages.js';
import { staffEn } from '../../../src/web/locales/staff-en.js';
import staffFr from '../../../src/web/locales/staff-fr.js';

const COLUMNS = ['day', 'name', 'status', 'note'] as const;
const ROWS = [
  { day: '2026-03-02', name: 'Zoé, "Jo"', status: 'present', note: null },
  { day: '2026-03-02', name: '-Jo', status: 'not-yet', note: 'line\nbreak' },
];
/** What toCsv wrote for ROWS before exports could be asked for in a language (main at b7f572e). */
const MACHINE = 'day,name,status,note\n2026-03-02,"Zoé, ""Jo""",present,\n2026-03-02,\'-Jo,not-yet,"line\nbreak"\n';

async function joined(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

async function* twice<T>(rows: T[]): AsyncGenerator<T[]> {
  yield rows;
  yield [];
  yield rows;
}

const row: ExportRow = {
  day: '2026-03-02',
  sessionId: 's1',
  startsAt: '2026-03-02T10:00:00+01:00',
  subjectCode: 'MATH1',
  studentNumber: '007',
  name: 'Léa; Martin',
  status: 'excused',
  reason: 'EXCUSED',
  flags: 'LATE SHARED_DEVICE',
  submittedAt: null,
  decidedAt: '2026-03-03T08:15:30+01:00',
  note: '=1+1',
  correctionReason: 'excuse MEDICAL',
  absenceCategory: 'MEDICAL',
};

describe('CSV exports for programs and for people', () => {
  it('writes the machine CSV byte for byte as before, whole or streamed', async () => {
    expect(toCsv(COLUMNS, ROWS)).to.equal(MACHINE);
    expect(toCsv(COLUMNS, [])).to.equal('day,name,status,note\n');
    const [header, ...body] = MACHINE.split(/(?<=^[^\n]*\n)/);
    expect(await joined(toCsvStream(COLUMNS, twice(ROWS)))).to.equal(header! + body.join('') + body.join(''));
  });

  it('writes a French export with its headings, statuses, wall-clock times, a byte order mark and semicolons', async () => {
    const people = toCsv(EXPORT_COLUMNS, [forPeople(row, 'fr')], exportLayout('fr'));
    expect(people.split('\n')).to.deep.equal([
      '\uFEFFJour;Séance;Début;Matière;Numéro d’élève;Nom;Statut;Motif;Signalements;Pointé à;Décidé à;Note;Motif de la correction;Catégorie d’absence',
      // A cell holding the separator is quoted; a formula is still neutralised; the reason and flags in words, the category a code.
      '2026-03-02;s1;2026-03-02 10:00:00;MATH1;007;"Léa; Martin";Excusé·e;Une justification acceptée couvre cette séance.;Pointé après l’heure limite de retard. Un·e autre élève a pointé depuis le même appareil pendant cette séance.;;2026-03-03 08:15:30;\'=1+1;excuse MEDICAL;MEDICAL',
      '',
    ]);
    const streamed = await joined(toCsvStream(EXPORT_COLUMNS, twice([forPeople(row, 'fr')]), exportLayout('fr')));
    expect(streamed.startsWith('\uFEFFJour;')).to.equal(true);
    expect(streamed.split('\n')).to.have.length(4);
    expect(streamed.indexOf('\uFEFF', 1)).to.equal(-1);
  });

  it('leaves no formula where a spreadsheet set for the other language starts a cell, in both separators', () => {
    // A student's note or a synced name, opened by a spreadsheet that splits on the other separator
    // (French Excel opens the machine CSV on ';', English Excel a French export on ',').
    const hostile = ['a;=1+1', 'a,=HYPERLINK("http://x")', 'a;"@SUM(1)', 'x\n-2+3', 'x\r\n+1', '=1+1'];
    const rows = hostile.map((note) => ({ day: '2026-03-02', name: note, status: 'present', note }));
    const layouts = [undefined, { headings: { day: 'Jour', name: 'Nom', status: 'Statut', note: 'Note' }, delimiter: ';' }];
    for (const layout of layouts) {
      const csv = toCsv(COLUMNS, rows, layout);
      const cells = csv.split(/[,;\r\n]/).map((cell) => cell.replace(/^"+/, ''));
      expect(
        cells.filter((cell) => /^[=+\-@\t]/.test(cell)),
        layout?.delimiter ?? ',',
      ).to.deep.equal([]);
    }
    expect(toCsv(['note'], [{ note: 'a;=1+1' }])).to.equal("note\na;'=1+1\n");
  });

  it('names every column and status in every language, as the staff pages word the statuses', () => {
    const pages = { en: staffEn, fr: staffFr };
    for (const language of LANGUAGES) {
      const words = EXPORT_WORDS[language];
      expect(Object.keys(words.headings), language).to.have.members([...EXPORT_COLUMNS]);
      for (const status of ROSTER_STATUSES)
        expect(words.statuses[status], `${language} ${status}`).to.equal(pages[language][`status.${status}`]);
    }
  });

  it('words the reason and every flag in English, keeps a code it does not know, and leaves them empty when there are none', () => {
    const english = forPeople({ ...row, reason: 'NO_CHECKIN', flags: 'LOCATION_JUMP SOME_NEWER_CODE' }, 'en');
    expect(english.reason).to.equal(ReasonCodes.NO_CHECKIN);
    expect(english.flags).to.equal(`${ReasonCodes.LOCATION_JUMP} SOME_NEWER_CODE`);
    expect(forPeople({ ...row, reason: null, flags: '' }, 'fr')).to.deep.include({ reason: null, flags: '' });
  });

  it('does not say the reason again among the flags: a teacher reading 300 rows sees each sentence once', () => {
    const rejected = forPeople({ ...row, status: 'rejected', reason: 'CODE_MISSING', flags: 'CODE_MISSING LOCATION_DUPLICATE' }, 'en');
    expect(rejected.reason).to.equal(ReasonCodes.CODE_MISSING);
    expect(rejected.flags).to.equal(ReasonCodes.LOCATION_DUPLICATE);
  });

  it('words every reason code in every language, as the pages word it (a new code without words fails here)', () => {
    const pages = { en: pagesEn, fr: pagesFr };
    for (const language of LANGUAGES) {
      for (const code of REASON_CODES) {
        const words = EXPORT_WORDS[language].reasons[code];
        expect(words, `${language} ${code}`).to.be.a('string').and.not.equal(code);
        expect(words, `${language} ${code}`).to.equal(pages[language][`reason.${code}`]);
      }
    }
    expect(Object.keys(EXPORT_WORDS.fr.reasons)).to.have.members(REASON_CODES);
  });
});

import { expect } from 'chai';
import type { NamedAuditEntry } from '../../../src/domain/reports/audit-names.js';
import { AUDIT_COLUMNS, AUDIT_EXPORT_WORDS, auditCsv } from '../../../src/http/audit-export.js';
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES } from '../../../src/shared/audit.js';
import { LANGUAGES } from '../../../src/shared/i18n/languages.js';
import { adminEn } from '../../../src/web/locales/admin-en.js';
import adminFr from '../../../src/web/locales/admin-fr.js';

const ENTRIES: NamedAuditEntry[] = [
  {
    id: 'a1',
    orgId: 'o1',
    entityType: 'record',
    entityId: 'r1',
    sessionId: 's1',
    actorId: 'u1',
    action: 'record.correct',
    from: { status: 'absent' },
    to: { status: 'present', note: '=1+1' },
    reason: 'Wrong, "fixed"; sorry',
    ip: '10.0.0.1',
    at: new Date('2026-03-02T09:05:07.120Z'),
    actorName: 'Zoé Prof',
    userName: 'Léa; Martin',
    subjectCode: 'MATH1',
    subjectName: 'Maths, algebra',
    sessionStartsAt: new Date('2026-03-02T09:00:00Z'),
  },
  {
    id: 'a2',
    orgId: 'o1',
    entityType: 'organisation',
    entityId: 'o1',
    sessionId: null,
    actorId: null,
    action: 'retention.apply',
    from: null,
    to: { counts: { records: 3 } },
    reason: null,
    ip: null,
    // Summer time, past midnight in Paris: the day is the organisation's.
    at: new Date('2026-07-01T22:30:00Z'),
    actorName: null,
    userName: null,
    subjectCode: null,
    subjectName: null,
    sessionStartsAt: null,
  },
];

/** What GET /reports/audit.csv wrote for ENTRIES in Europe/Paris before it took `lang=` (main at 28bbbb0). */
const MACHINE =
  'at,entityType,entityId,sessionId,actorId,action,reason,ip,from,to,actorName,userName,subjectCode,subjectName,sessionStartsAt\n2026-03-02T10:05:07+01:00,record,r1,s1,u1,record.correct,"Wrong, ""fixed""; sorry",10.0.0.1,"{""status"":""absent""}","{""status"":""present"",""note"":""=1+1""}",Zoé Prof,Léa; Martin,MATH1,"Maths, algebra",2026-03-02T10:00:00+01:00\n2026-07-02T00:30:00+02:00,organisation,o1,,,retention.apply,,,,"{""counts"":{""records"":3}}",,,,,\n';

describe('The audit CSV for programs and for people', () => {
  it('writes the machine CSV without lang= byte for byte as before', () => {
    expect(auditCsv(ENTRIES, 'Europe/Paris', undefined)).to.equal(MACHINE);
  });

  it('writes a French audit CSV: headings, subjects and actions in words, wall-clock times, a byte order mark, semicolons', () => {
    expect(auditCsv(ENTRIES, 'Europe/Paris', 'fr').split('\n')).to.deep.equal([
      '\uFEFFDate;Concerne;Concerne (identifiant);Séance;Par (identifiant);Action;Motif;Adresse IP;Avant;Après;Par;Personne;Matière;Nom de la matière;Début de la séance',
      // The changed fields stay JSON; a cell holding the separator is quoted; a formula inside JSON is not first.
      '2026-03-02 10:05:07;Présence;r1;s1;u1;Présence corrigée;"Wrong, ""fixed""; sorry";10.0.0.1;"{""status"":""absent""}";"{""status"":""present"",""note"":""=1+1""}";Zoé Prof;"Léa; Martin";MATH1;Maths, algebra;2026-03-02 10:00:00',
      '2026-07-02 00:30:00;Établissement;o1;;;Conservation appliquée;;;;"{""counts"":{""records"":3}}";;;;;',
      '',
    ]);
  });

  it('writes an English audit CSV with commas', () => {
    const [header, first] = auditCsv(ENTRIES, 'Europe/Paris', 'en').split('\n');
    expect(header).to.equal(
      '\uFEFFWhen,About,About (id),Session,By (id),Action,Reason,IP address,Before,After,By,Person,Subject,Subject name,Session starts at',
    );
    expect(first).to.match(/^2026-03-02 10:05:07,Record,r1,s1,u1,Record corrected,/);
  });

  it('names every column, entity type and action in every language, the actions as the Audit trail does', () => {
    const pages = { en: adminEn, fr: adminFr };
    for (const language of LANGUAGES) {
      const words = AUDIT_EXPORT_WORDS[language];
      expect(Object.keys(words.headings), language).to.have.members([...AUDIT_COLUMNS]);
      for (const type of AUDIT_ENTITY_TYPES) expect(words.entityTypes[type], `${language} ${type}`).to.be.a('string').and.not.equal('');
      for (const action of AUDIT_ACTIONS) {
        expect(words.actions[action], `${language} ${action}`).to.be.a('string').and.not.equal(action);
        expect(words.actions[action], `${language} ${action}`).to.equal(pages[language][`audit.action.${action}`]);
      }
    }
  });
});

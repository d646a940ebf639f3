import { expect } from 'chai';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  applyResult,
  exitCodeOf,
  fileKeys,
  formatCsv,
  formatSummary,
  formatTable,
  isPhotoName,
  planEnrolment,
  unresolvedKeys,
  type PhotoFile,
  type StudentRef,
} from '../../../scripts/lib/enrol-plan.js';

const student = (id: string, studentNumber: string | null, email: string): StudentRef => ({ id, studentNumber, email, name: `Name ${id}` });
const ada = student('u1', 'S001', 'ada@x.org');
const bob = student('u2', 'S002', 'bob@x.org');
const cy = student('u3', '2023-12', 'cy@x.org');
const outsider = student('u9', 'S900', 'out@x.org');

let n = 0;
/** A file with distinct content unless a digest is given. */
const file = (name: string, digest = `d${++n}`): PhotoFile => ({ name, digest });
const outcomes = (files: PhotoFile[], enrolled = [ada, bob, cy], others: StudentRef[] = []) =>
  Object.fromEntries(planEnrolment(files, { enrolled, others }).entries.map((e) => [e.file, e.outcome]));

describe('bulk enrolment plan', () => {
  describe('file keys', () => {
    it('takes the stem, then the stem without a numeric suffix', () => {
      expect(fileKeys('S001.jpg')).to.deep.equal(['s001']);
      expect(fileKeys('S001_2.JPG')).to.deep.equal(['s001_2', 's001']);
      expect(fileKeys('S001-3.png')).to.deep.equal(['s001-3', 's001']);
      expect(fileKeys('Ada@X.org.jpeg')).to.deep.equal(['ada@x.org']);
      expect(fileKeys('ada@x.org_2.webp')).to.deep.equal(['ada@x.org_2', 'ada@x.org']);
    });

    it('uses the folder name for a file in a per-student sub-folder', () => {
      expect(fileKeys('S002/front.jpg')).to.deep.equal(['s002']);
      expect(fileKeys('Bob@X.org/IMG_1234.jpg')).to.deep.equal(['bob@x.org']);
    });

    it('accepts only photo extensions and no hidden files', () => {
      expect(['a.jpg', 'a.JPEG', 'a.png', 'a.webp'].map(isPhotoName)).to.deep.equal([true, true, true, true]);
      expect(['a.gif', 'notes.txt', '.hidden.jpg', 'jpg'].map(isPhotoName)).to.deep.equal([false, false, false, false]);
    });
  });

  describe('matching', () => {
    it('matches by student number or email, case-insensitively, with suffixes', () => {
      const plan = planEnrolment([file('s001.jpg'), file('S001_2.jpg'), file('BOB@x.org.jpg'), file('S002/side.png')], {
        enrolled: [ada, bob],
        others: [],
      });
      expect(plan.entries.map((e) => [e.file, e.student?.id, e.outcome.kind])).to.deep.equal([
        ['BOB@x.org.jpg', 'u2', 'matched'],
        ['s001.jpg', 'u1', 'matched'],
        ['S001_2.jpg', 'u1', 'matched'],
        ['S002/side.png', 'u2', 'matched'],
      ]);
      expect(plan.batches.map((b) => [b.student.id, b.files])).to.deep.equal([
        ['u2', ['BOB@x.org.jpg', 'S002/side.png']],
        ['u1', ['s001.jpg', 'S001_2.jpg']],
      ]);
    });

    it('prefers a whole stem that is itself a student number over stripping a suffix', () => {
      const plan = planEnrolment([file('2023-12.jpg'), file('2023-12_2.jpg')], { enrolled: [cy], others: [] });
      expect(plan.batches).to.have.length(1);
      expect(plan.batches[0]!.files).to.deep.equal(['2023-12.jpg', '2023-12_2.jpg']);
    });

    it('tells an unknown key from a student outside the subject', () => {
      const o = outcomes([file('S900.jpg'), file('nobody.jpg'), file('out@x.org_2.jpg')], [ada], [outsider]);
      expect(o['S900.jpg']).to.deep.equal({ kind: 'not-enrolled' });
      expect(o['out@x.org_2.jpg']).to.deep.equal({ kind: 'not-enrolled' });
      expect(o['nobody.jpg']).to.deep.equal({ kind: 'unknown-key' });
    });

    it('asks the organisation only about keys no enrolled student carries', () => {
      const keys = unresolvedKeys([file('S001_2.jpg'), file('S900-1.jpg'), file('x@y.z.jpg')], [ada]);
      expect(keys).to.have.members(['s900-1', 's900', 'x@y.z']);
    });

    it('refuses a key two students share', () => {
      const twin = student('u4', 's001', 'twin@x.org');
      expect(outcomes([file('S001.jpg')], [ada, twin])['S001.jpg']).to.deep.equal({ kind: 'ambiguous-key' });
    });
  });

  describe('duplicates and limits', () => {
    it('counts the same photo filed twice for one student once', () => {
      const plan = planEnrolment([file('S001.jpg', 'same'), file('S001/again.jpg', 'same'), file('S001_2.jpg')], {
        enrolled: [ada],
        others: [],
      });
      const o = Object.fromEntries(plan.entries.map((e) => [e.file, e.outcome]));
      expect(o['S001/again.jpg']).to.deep.equal({ kind: 'duplicate', of: 'S001.jpg' });
      expect(plan.batches[0]!.files).to.deep.equal(['S001.jpg', 'S001_2.jpg']);
    });

    it('keeps a photo filed under two students for neither', () => {
      const plan = planEnrolment([file('S001.jpg', 'shared'), file('S002.jpg', 'shared'), file('S002_2.jpg')], {
        enrolled: [ada, bob],
        others: [],
      });
      const o = Object.fromEntries(plan.entries.map((e) => [e.file, e.outcome]));
      expect(o['S001.jpg']).to.deep.equal({ kind: 'duplicate', of: 'S002.jpg' });
      expect(o['S002.jpg']).to.deep.equal({ kind: 'duplicate', of: 'S001.jpg' });
      expect(plan.batches.map((b) => [b.student.id, b.files])).to.deep.equal([['u2', ['S002_2.jpg']]]);
      expect(plan.withoutPhotos.map((s) => s.id)).to.deep.equal(['u1']);
    });

    it('skips photos beyond five per student, in natural file order', () => {
      const files = [1, 2, 3, 4, 5, 6, 10].map((i) => file(`S001_${i}.jpg`));
      const plan = planEnrolment(files, { enrolled: [ada], others: [] });
      expect(plan.batches[0]!.files).to.deep.equal(['S001_1.jpg', 'S001_2.jpg', 'S001_3.jpg', 'S001_4.jpg', 'S001_5.jpg']);
      const skipped = plan.entries.filter((e) => e.outcome.kind === 'skipped').map((e) => e.file);
      expect(skipped).to.deep.equal(['S001_6.jpg', 'S001_10.jpg']);
    });

    it('lists the enrolled students without any usable photo', () => {
      const plan = planEnrolment([file('S002.jpg')], { enrolled: [ada, bob, cy], others: [] });
      expect(plan.withoutPhotos.map((s) => s.id)).to.have.members(['u1', 'u3']);
    });
  });

  describe('results and report', () => {
    it('marks refused photos with their reason and the rest of the student as skipped', () => {
      const plan = planEnrolment([file('S001.jpg'), file('S001_2.jpg'), file('S001_3.jpg'), file('S002.jpg')], {
        enrolled: [ada, bob],
        others: [],
      });
      const [a, b] = [plan.batches.find((x) => x.student.id === 'u1')!, plan.batches.find((x) => x.student.id === 'u2')!];
      applyResult(plan, a, { ok: false, refusals: [{ index: 1, reason: 'FACE_NOT_FOUND' }] });
      applyResult(plan, b, { ok: true, proposed: false });
      const o = Object.fromEntries(plan.entries.map((e) => [e.file, e.outcome]));
      expect(o['S001_2.jpg']).to.deep.equal({ kind: 'refused', reason: 'FACE_NOT_FOUND' });
      expect(o['S001.jpg']!.kind).to.equal('skipped');
      expect(o['S001_3.jpg']!.kind).to.equal('skipped');
      expect(o['S002.jpg']).to.deep.equal({ kind: 'enrolled' });
      expect(exitCodeOf(plan, false)).to.equal(1);
      expect(formatSummary(plan)).to.contain('4 files:').and.contain('1 enrolled').and.contain('1 refused').and.contain('2 skipped');
      expect(formatSummary(plan)).to.contain('1 of 2 students with photos enrolled');
    });

    it('fails every photo of a student when the engine could not run', () => {
      const plan = planEnrolment([file('S001.jpg'), file('S001_2.jpg')], { enrolled: [ada], others: [] });
      applyResult(plan, plan.batches[0]!, { ok: false, code: 'BUSY' });
      expect(plan.entries.map((e) => e.outcome)).to.deep.equal([
        { kind: 'failed', code: 'BUSY' },
        { kind: 'failed', code: 'BUSY' },
      ]);
    });

    it('exits 0 only when every file was enrolled, or on a dry run would be', () => {
      const plan = planEnrolment([file('S001.jpg'), file('S002.jpg')], { enrolled: [ada, bob], others: [] });
      expect(exitCodeOf(plan, true)).to.equal(0);
      expect(exitCodeOf(plan, false)).to.equal(1);
      for (const b of plan.batches) applyResult(plan, b, { ok: true, proposed: false });
      expect(exitCodeOf(plan, false)).to.equal(0);
      const withStranger = planEnrolment([file('S001.jpg'), file('who.jpg')], { enrolled: [ada], others: [] });
      expect(exitCodeOf(withStranger, true)).to.equal(1);
    });

    it('writes one table row and one CSV row per file', () => {
      const plan = planEnrolment([file('S001.jpg'), file('who.jpg')], { enrolled: [ada], others: [] });
      applyResult(plan, plan.batches[0]!, { ok: false, refusals: [{ index: 0, reason: 'FACE_MULTIPLE' }] });
      const lines = formatTable(plan.entries).split('\n');
      expect(lines).to.have.length(3);
      expect(lines[1]).to.match(/^S001\.jpg\s+S001 \(Name u1\)\s+refused FACE_MULTIPLE$/);
      expect(lines[2]).to.match(/^who\.jpg\s+-\s+unknown key$/);
      const rows = parseCsv(formatCsv(plan.entries), { columns: true }) as Array<Record<string, string>>;
      expect(rows).to.deep.equal([
        { file: 'S001.jpg', student_number: 'S001', email: 'ada@x.org', outcome: 'refused', detail: 'FACE_MULTIPLE' },
        { file: 'who.jpg', student_number: '', email: '', outcome: 'unknown-key', detail: '' },
      ]);
    });
  });
});

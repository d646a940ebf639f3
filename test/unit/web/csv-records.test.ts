import { expect } from 'chai';
import { chunkCsv, chunkSize, columnValues, lineInFile, lineNumbersCertain, splitCsv } from '../../../src/web/lib/csv-records.js';

describe('CSV records of the admin console import', () => {
  const file = [
    '\uFEFFname,email,role,student_number',
    'Ann,ann@x.test,student,S1',
    '',
    '"Smith, Bo",bo@x.test,student,S2',
    '"Multi',
    'line",ml@x.test,student,S3',
    'Cy,cy@x.test,student,S4',
    'Di,di@x.test,student,S5',
  ].join('\n');

  it('numbers records by the line they end on, skipping blank lines and keeping quoted newlines', () => {
    const { header, rows } = splitCsv(file);
    expect(header?.text).to.equal('name,email,role,student_number');
    expect(rows.map((r) => r.line)).to.deep.equal([2, 4, 6, 7, 8]);
    expect(rows[2]!.lines).to.equal(2);
    expect(rows[3]!.text).to.equal('Cy,cy@x.test,student,S4');
  });

  it('numbers CRLF files like LF ones, and says when the numbering may differ from the server', () => {
    const crlf = 'name,email\r\na,1\r\n\r\nb,2\r\n';
    expect(splitCsv(crlf).rows.map((r) => [r.text, r.line])).to.deep.equal([
      ['a,1', 2],
      ['b,2', 4],
    ]);
    expect(lineNumbersCertain(crlf, splitCsv(crlf))).to.equal(true);
    expect(lineNumbersCertain(file, splitCsv(file))).to.equal(true);
    const quotedCrlf = 'name,email\r\n"a\r\nb",1\r\n';
    expect(lineNumbersCertain(quotedCrlf, splitCsv(quotedCrlf))).to.equal(false);
  });

  it('chunks with the header and maps a chunk line back to the file', () => {
    const { header, rows } = splitCsv(file);
    const chunks = chunkCsv(header!, rows, 2);
    expect(chunks.map((c) => c.rows.length)).to.deep.equal([2, 2, 1]);
    expect(chunks[1]!.csv).to.equal('name,email,role,student_number\n"Multi\nline",ml@x.test,student,S3\nCy,cy@x.test,student,S4\n');
    // In the second chunk the multi-line record ends on line 3, the next on line 4.
    expect(lineInFile(header!, chunks[1]!, 3)).to.equal(6);
    expect(lineInFile(header!, chunks[1]!, 4)).to.equal(7);
    expect(lineInFile(header!, chunks[1]!, 2)).to.equal(null);
  });

  it('reads one column, unquoting fields', () => {
    expect(columnValues(splitCsv(file), 'student_number')).to.deep.equal(['S1', 'S2', 'S3', 'S4', 'S5']);
    expect(columnValues(splitCsv('a,b\n1,2\n'), 'student_number')).to.equal(null);
  });

  it('reads the column of a file a French spreadsheet saved, with semicolons', () => {
    const french = '\uFEFFnom;student_number\r\n"Dupont; Jean";S1\r\nÉlodie;S2\r\n';
    expect(columnValues(splitCsv(french), 'student_number')).to.deep.equal(['S1', 'S2']);
  });

  it('keeps a file within 10 chunks and chunks at least 25 rows', () => {
    expect(chunkSize(200)).to.equal(25);
    expect(chunkSize(5_000)).to.equal(500);
    expect(chunkSize(3)).to.equal(25);
  });
});

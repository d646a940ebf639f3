import { expect } from 'chai';
import { useSchoolServer } from '../support/school-server.js';

const API = '/api/v1';

/** A users CSV as a spreadsheet on Windows saves "CSV" (Windows-1252): É and ç are one byte each, not UTF-8. */
const WINDOWS_CSV = Buffer.from(
  'name,email,role,student_number\r\nJean Martin,jean.martin@example.org,student,E0001\r\n\xc9lodie Fran\xe7ois,elodie@example.org,student,E0002\r\n',
  'latin1',
);

/**
 * A file that is not UTF-8 reaches the import decoded with U+FFFD in place of each such byte (the
 * HTTP body, or the admin console's File.text()). It was imported as is: "�lodie Fran�ois".
 */
describe('imports of a CSV file that is not UTF-8', function () {
  this.timeout(30_000);
  const school = useSchoolServer(['admin']);

  async function postBytes(
    path: string,
    bytes: Buffer,
  ): Promise<{
    status: number;
    body: { error: { code: string; message: string; details: { rows: { line: number; problems: { code: string }[] }[] } } };
  }> {
    const { srv, tokens } = school();
    const res = await fetch(srv.baseUrl + API + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'text/csv' },
      body: new Uint8Array(bytes),
    });
    return { status: res.status, body: (await res.json()) as never };
  }

  it('refuses a users file, naming the line and the problem, and creates nobody', async () => {
    const { srv, tokens } = school();
    for (const dryRun of [true, false]) {
      const res = await postBytes(`/users/import${dryRun ? '?dryRun=true' : ''}`, WINDOWS_CSV);
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.message).to.include('CSV UTF-8');
      expect(res.body.error.details.rows).to.deep.equal([
        { line: 3, email: null, reason: 'not UTF-8 text: save the file as "CSV UTF-8"', problems: [{ code: 'notUtf8', params: {} }] },
      ]);
    }
    // As the admin console sends it: the file read as text by the browser, in a JSON body.
    const json = await srv.request('POST', `${API}/users/import`, {
      token: tokens.admin,
      body: { csv: new TextDecoder().decode(WINDOWS_CSV) },
    });
    expect(json.status).to.equal(400);
    expect(json.body.error.details.rows[0].problems[0].code).to.equal('notUtf8');
    const listed = await srv.request('GET', `${API}/users?q=example.org`, { token: tokens.admin });
    expect(listed.body.items.map((u: { email: string }) => u.email)).to.not.include('jean.martin@example.org');
  });

  it('imports the same file saved as UTF-8, names intact', async () => {
    const { srv, tokens } = school();
    const utf8 = Buffer.from(WINDOWS_CSV.toString('latin1'), 'utf8');
    const res = await srv.request('POST', `${API}/users/import`, {
      token: tokens.admin,
      raw: utf8.toString('utf8'),
      contentType: 'text/csv',
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.users.map((u: { name: string }) => u.name)).to.deep.equal(['Jean Martin', 'Élodie François']);
  });

  it('imports a users file a French spreadsheet saved (semicolons), and its guardians file', async () => {
    const { srv, tokens } = school();
    const french =
      '\uFEFFname;email;role;student_number\r\nDupont, Jean;jean.dupont@example.fr;student;F0001\r\nÉlodie François;elodie@example.fr;student;F0002\r\n';
    const res = await srv.request('POST', `${API}/users/import`, { token: tokens.admin, raw: french, contentType: 'text/csv' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.users.map((u: { name: string; email: string }) => [u.name, u.email])).to.deep.equal([
      ['Dupont, Jean', 'jean.dupont@example.fr'],
      ['Élodie François', 'elodie@example.fr'],
    ]);
    const guardians = 'student_number;name;relation;email\nF0002;Renée François;mother;renee@example.fr\n';
    const imported = await srv.request('POST', `${API}/guardians/import`, { token: tokens.admin, raw: guardians, contentType: 'text/csv' });
    expect(imported.status, JSON.stringify(imported.body)).to.be.within(200, 201);
  });

  it('refuses a guardian contacts file the same way', async () => {
    const bytes = Buffer.from('student_number,name,relation,email\r\nE0001,Ren\xe9e Martin,mother,renee@example.org\r\n', 'latin1');
    const res = await postBytes('/guardians/import', bytes);
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.error.details.rows[0]).to.deep.include({ line: 2 });
    expect(res.body.error.details.rows[0]!.problems).to.deep.equal([{ code: 'notUtf8', params: {} }]);
  });
});

import { expect } from 'chai';
import type { User } from '../../src/store/types.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

// Multipart handling of the routes that take files, without a face engine: a well-formed upload
// reaches the service (503 UNAVAILABLE), anything malformed is refused before it with a code.
describe('HTTP uploads (multipart)', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let admin: User;
  let student: User;
  let token: string;
  const MAX = 4_096;

  before(async () => {
    srv = await startTestServer({ FACE_MAX_IMAGE_BYTES: String(MAX) });
    const org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
    student = await createUser(srv.store, org.id, 'student');
    token = srv.app.tokenService.signAccess(admin).token;
  });
  after(() => srv.cleanup());

  const put = (id: string, body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${srv.baseUrl}/api/v1/users/${id}/face`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, ...headers }, body });
  const form = (...files: Uint8Array<ArrayBuffer>[]) => {
    const f = new FormData();
    files.forEach((bytes, i) => f.append('photos', new Blob([bytes], { type: 'image/jpeg' }), `p${i}.jpg`));
    return f;
  };
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it('passes a well-formed upload to the service', async () => {
    const res = await put(student.id, form(new Uint8Array(100)));
    expect(res.status).to.equal(503);
    expect(await codeOf(res)).to.equal('UNAVAILABLE');
  });

  it('answers 400 for a multipart body without a boundary or cut short, never 500', async () => {
    const noBoundary = await put(student.id, 'abc', { 'content-type': 'multipart/form-data' });
    expect(noBoundary.status).to.equal(400);
    expect(await codeOf(noBoundary)).to.equal('VALIDATION_FAILED');
    const truncated = await put(student.id, '--XYZ\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n\r\nabc', {
      'content-type': 'multipart/form-data; boundary=XYZ',
    });
    expect(truncated.status).to.equal(400);
    const body = (await truncated.json()) as { error: { code: string; message: string } };
    expect(body.error).to.deep.equal({ code: 'VALIDATION_FAILED', message: 'The multipart body is malformed or incomplete.' });
  });

  it('refuses too many files, a file over the limit, no file and a non-multipart body, each with its code', async () => {
    const six = await put(student.id, form(...Array.from({ length: 6 }, () => new Uint8Array(10))));
    expect([six.status, await codeOf(six)]).to.deep.equal([400, 'VALIDATION_FAILED']);
    const big = await put(student.id, form(new Uint8Array(MAX + 1)));
    expect([big.status, await codeOf(big)]).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
    const none = await put(student.id, new FormData());
    expect([none.status, await codeOf(none)]).to.deep.equal([400, 'VALIDATION_FAILED']);
    const json = await put(student.id, '{}', { 'content-type': 'application/json' });
    expect([json.status, await codeOf(json)]).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it('checks the path before reading the files', async () => {
    const res = await put('x'.repeat(101), form(new Uint8Array(MAX + 1)));
    // Not 413: the id was refused first, so the oversized file was never read.
    expect([res.status, await codeOf(res)]).to.deep.equal([400, 'VALIDATION_FAILED']);
  });

  it('refuses an anonymous upload before reading it', async () => {
    const res = await fetch(`${srv.baseUrl}/api/v1/users/${student.id}/face`, { method: 'PUT', body: form(new Uint8Array(MAX + 1)) });
    expect([res.status, await codeOf(res)]).to.deep.equal([401, 'UNAUTHENTICATED']);
  });
});

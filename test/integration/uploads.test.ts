import { expect } from 'chai';
import http from 'node:http';
import type { User } from '../../src/domain/ports/users.js';
import { FakeFaceEngine } from '../support/fake-face-engine.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

/**
 * Sends the head of a PUT with a body announced as `announced` bytes and only `sent` of them,
 * and resolves with the answer if the server answers without waiting for the rest.
 */
function partialPut(
  url: string,
  token: string,
  announced: number,
  sent: number,
): { response: Promise<http.IncomingMessage>; abort(): void } {
  const boundary = 'partial-boundary';
  const req = http.request(url, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(announced),
    },
  });
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
  req.write(head + 'x'.repeat(Math.max(0, sent - head.length)));
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  return { response, abort: () => req.destroy() };
}

// Multipart handling of the routes that take files: a well-formed upload reaches the service
// (the engine here refuses every image: 422), anything malformed or unauthorised is refused
// before it with a code, and before the body is read.
describe('HTTP uploads (multipart)', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let admin: User;
  let otherAdmin: User;
  let student: User;
  let classmate: User;
  let token: string;
  let engine: FakeFaceEngine;
  const MAX = 4_096;

  before(async () => {
    // Refuses every image: a well-formed upload reaches the service and comes back 422.
    engine = new FakeFaceEngine({ refuse: 'IMAGE_INVALID' });
    srv = await startTestServer({ FACE_MAX_IMAGE_BYTES: String(MAX), UPLOADS_MAX_CONCURRENT: '1' }, { face: engine });
    const org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
    otherAdmin = await createUser(srv.store, org.id, 'admin');
    student = await createUser(srv.store, org.id, 'student');
    classmate = await createUser(srv.store, org.id, 'student');
    token = srv.app.tokenService.signAccess(admin).token;
  });
  after(() => srv.cleanup());

  const put = (id: string, body: BodyInit, headers: Record<string, string> = {}, bearer = token) =>
    fetch(`${srv.baseUrl}/api/v1/users/${id}/face`, { method: 'PUT', headers: { authorization: `Bearer ${bearer}`, ...headers }, body });
  const form = (...files: Uint8Array<ArrayBuffer>[]) => {
    const f = new FormData();
    files.forEach((bytes, i) => f.append('photos', new Blob([bytes], { type: 'image/jpeg' }), `p${i}.jpg`));
    return f;
  };
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it('passes a well-formed upload to the service', async () => {
    const before = engine.calls;
    const res = await put(student.id, form(new Uint8Array(100)));
    expect(res.status).to.equal(422);
    expect(await codeOf(res)).to.equal('FACE_ENROLMENT_REFUSED');
    expect(engine.calls - before).to.equal(1);
  });

  it('refuses a caller without the right over the student before reading the upload', async () => {
    // Not 413: the classmate was refused first, so the oversized file was never read.
    const own = srv.app.tokenService.signAccess(classmate).token;
    const res = await put(student.id, form(new Uint8Array(MAX + 1)), {}, own);
    expect([res.status, await codeOf(res)]).to.deep.equal([403, 'FORBIDDEN']);
  });

  it('refuses a body announced larger than the route can take without waiting for it', async () => {
    const announced = 5 * MAX + 70 * 1024;
    const upload = partialPut(`${srv.baseUrl}/api/v1/users/${student.id}/face`, token, announced, 1_024);
    try {
      const res = await upload.response;
      expect(res.statusCode).to.equal(413);
      expect(res.headers.connection).to.equal('close');
    } finally {
      upload.abort();
    }
  });

  it('reads at most UPLOADS_MAX_CONCURRENT uploads at once; beyond, BUSY with Retry-After until a slot frees', async () => {
    const stalled = partialPut(`${srv.baseUrl}/api/v1/users/${student.id}/face`, token, 2 * MAX, 512);
    // The stalled upload holds the node's only slot once the server has started reading it.
    // Another user's uploads: one user has a single slot of their own (next case).
    const other = srv.app.tokenService.signAccess(otherAdmin).token;
    let busy: Response | null = null;
    for (let i = 0; i < 50 && busy === null; i++) {
      const res = await put(student.id, form(new Uint8Array(10)), {}, other);
      if (res.status === 503) busy = res;
      else await res.arrayBuffer();
    }
    expect(busy, 'a second upload was refused while the first held the slot').to.not.equal(null);
    expect(await codeOf(busy!)).to.equal('BUSY');
    expect(busy!.headers.get('retry-after')).to.equal('1');
    stalled.abort();
    let after: Response | null = null;
    for (let i = 0; i < 50; i++) {
      after = await put(student.id, form(new Uint8Array(10)), {}, other);
      if (after.status !== 503) break;
      await after.arrayBuffer();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(after!.status, 'the slot was released when the stalled upload went away').to.equal(422);
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

describe('HTTP uploads held open by one user', function () {
  this.timeout(20_000);
  let srv: TestServer;

  before(async () => {
    srv = await startTestServer(
      { FACE_MAX_IMAGE_BYTES: '4096', UPLOADS_MAX_CONCURRENT: '2' },
      { face: new FakeFaceEngine({ refuse: 'IMAGE_INVALID' }) },
    );
  });
  after(() => srv.cleanup());

  it("refuses a user's second upload while their first is being read, so one client's stalled uploads cannot take every slot of the node", async () => {
    const org = await createOrg(srv.store);
    const [slow, other, student] = [
      await createUser(srv.store, org.id, 'admin'),
      await createUser(srv.store, org.id, 'admin'),
      await createUser(srv.store, org.id, 'student'),
    ];
    const url = `${srv.baseUrl}/api/v1/users/${student.id}/face`;
    const slowToken = srv.app.tokenService.signAccess(slow).token;
    const otherToken = srv.app.tokenService.signAccess(other).token;
    const put = (token: string) =>
      fetch(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
        body: (() => {
          const f = new FormData();
          f.append('photos', new Blob([new Uint8Array(10)], { type: 'image/jpeg' }), 'p.jpg');
          return f;
        })(),
      });
    // Bodies announced and never sent in full: each is read until the node's request timeout (5 min).
    const stalled = [partialPut(url, slowToken, 8_192, 512), partialPut(url, slowToken, 8_192, 512)];
    try {
      let done = false;
      const refusedOfSlow = Promise.race(stalled.map((s) => s.response)).then((res) => `the slow user's: ${res.statusCode}`);
      const refusedOfOther = (async () => {
        while (!done) {
          const res = await put(otherToken);
          await res.arrayBuffer();
          if (res.status === 503) return `the other user's: ${res.status}`;
        }
        return 'none';
      })();
      const first = await Promise.race([refusedOfSlow, refusedOfOther]);
      done = true;
      expect(first).to.equal("the slow user's: 503");
      await refusedOfOther;
      const res = await put(otherToken);
      expect(res.status, 'another user still uploads while the slow one holds a slot').to.equal(422);
    } finally {
      for (const s of stalled) s.abort();
    }
  });
});

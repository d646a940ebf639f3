import { expect } from 'chai';
import { createOrg, createUser } from '../support/fixtures.js';
import { refusal, startTestServer, type TestServer } from '../support/http.js';

const API = '/api/v1';

/**
 * A JSON body is read only once the request may run: after the address's or the user's rate
 * limit, the token and the roles. It used to be parsed for every request under /api first, so
 * anyone without a token had the node parse a megabyte (BODY_LIMIT_BYTES) per request, and a
 * refusal of the token counts no budget. A public route's body is small, whatever BODY_LIMIT_BYTES.
 */
describe('request bodies are parsed after the checks that may refuse them', function () {
  this.timeout(30_000);
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ HTTP_PUBLIC_RATE_PER_MINUTE: '5' });
  });
  after(() => srv.cleanup());

  it('an authenticated route refuses a request without a token before reading its body', async () => {
    const broken = `{"name": "${'x'.repeat(500_000)}`;
    expect(refusal(await srv.request('POST', `${API}/subjects`, { raw: broken }))).to.deep.equal([401, 'UNAUTHENTICATED']);
  });

  it("a student's request to an admin route is refused for its role before its body is read", async () => {
    const org = await createOrg(srv.store);
    const student = await createUser(srv.store, org.id, 'student');
    const token = srv.app.tokenService.signAccess(student).token;
    expect(refusal(await srv.request('POST', `${API}/users`, { raw: '{"email": ', token }))).to.deep.equal([403, 'FORBIDDEN']);
  });

  it('a JSON body nested deeper than 32 levels is refused before it is parsed; one 32 deep, or brackets in a string, are read', async () => {
    const org = await createOrg(srv.store);
    const student = await createUser(srv.store, org.id, 'student');
    const token = srv.app.tokenService.signAccess(student).token;
    const post = (raw: string) => srv.request('POST', `${API}/excuses`, { raw, token });
    // Never closed: parsed, it would be MALFORMED_JSON; parsing 400,000 levels is the cost refused.
    const deep = await post(`{"reason": ${'['.repeat(400_000)}`);
    expect(refusal(deep)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(deep.body.error.message).to.contain('deeper than 32 levels');
    // Read and parsed: the schema names what is wrong with them.
    const at32 = await post(`{"reason": ${'['.repeat(31)}${']'.repeat(31)}}`);
    expect(refusal(at32)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(at32.body.error.details.issues.length).to.be.above(0);
    const inString = await post(JSON.stringify({ reason: `"[${'['.repeat(1_000)}\\` }));
    expect(inString.body.error.details.issues.length).to.be.above(0);
  });

  it('a public route takes at most PUBLIC_BODY_LIMIT_BYTES, and its address past its budget is refused unread', async () => {
    const keys = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`field${i}`, 'xxxx']));
    const big = await srv.request('POST', `${API}/auth/login`, { body: { email: 'a@b.c', password: 'x', ...keys } });
    expect(refusal(big)).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
    // The public budget here is 5 a minute: the rest are refused before their broken JSON is parsed.
    const answers: unknown[] = [];
    for (let i = 0; i < 6; i++) answers.push(refusal(await srv.request('POST', `${API}/auth/login`, { raw: '{"email": ' })));
    expect(answers.slice(0, 4)).to.deep.equal(Array.from({ length: 4 }, () => [400, 'MALFORMED_JSON']));
    expect(answers.slice(4)).to.deep.equal([
      [429, 'RATE_LIMITED'],
      [429, 'RATE_LIMITED'],
    ]);
  });
});

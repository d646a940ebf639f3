import net from 'node:net';
import { expect } from 'chai';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { longestLine, longestTarget, operationsOf, type Operation } from '../support/longest-request.js';

// Every request the API document allows must reach the application: Node reads a request's line
// and headers into at most 16 KiB (http.maxHeaderSize) and answers 431 unread beyond, so a
// client built from the document (Schemathesis, an integrator's generated client) that sends
// the longest documented values got no coded answer at all. The audit trail's `action` filter
// (2,000 characters of anything) did, and the session list's `status` filter had no bound.
// The longest request per operation: test/support/longest-request.ts.

/** Node's default limit on a request's line and headers together (http.maxHeaderSize). */
const NODE_HEADER_LIMIT = 16 * 1024;
/**
 * Left to the headers: a browser's (user agent, accept-*, a bearer token of about 400
 * characters) and two proxies' (X-Forwarded-*, Via) take under 2 KiB; the rest is margin.
 */
const HEADER_ALLOWANCE = 4 * 1024;

/** Sends `head` (a request's line and headers) over a raw connection; resolves with the status line's code. */
function statusOf(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(head));
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed without a status: ${answer.slice(0, 80)}`)));
  });
}

describe('the longest request the OpenAPI document allows', function () {
  let srv: TestServer;
  let ops: Operation[];
  let token: string;
  before(async () => {
    srv = await startTestServer({
      HTTP_RATE_PER_MINUTE: '100000',
      HTTP_HEAVY_RATE_PER_MINUTE: '100000',
      HTTP_PUBLIC_RATE_PER_MINUTE: '100000',
    });
    ops = operationsOf((await srv.request('GET', '/api/openapi.json')).body);
    const org = await createOrg(srv.store);
    token = (await srv.login((await createUser(srv.store, org.id, 'admin')).email, PASSWORD)).accessToken;
  });
  after(() => srv.cleanup());

  it('bounds every path and query parameter', () => {
    expect(ops.flatMap((op) => longestTarget(op).unbounded)).to.deep.equal([]);
  });

  it(`leaves ${HEADER_ALLOWANCE} bytes of Node's ${NODE_HEADER_LIMIT} to the headers, percent-encoded at worst`, () => {
    const over = ops
      .map((op) => ({ op: op.op, line: longestLine(op).length }))
      .filter((r) => r.line > NODE_HEADER_LIMIT - HEADER_ALLOWANCE)
      .map((r) => `${r.op}: ${r.line} bytes`);
    expect(over).to.deep.equal([]);
  });

  it('is read and answered by the application, not refused unread (431), with a browser’s and two proxies’ headers', async () => {
    const refused: string[] = [];
    for (const op of ops.filter((o) => o.parameters.length > 0)) {
      const headers = [
        `Host: 127.0.0.1:${new URL(srv.baseUrl).port}`,
        `Authorization: Bearer ${token}`,
        'User-Agent: Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
        'Accept: application/json, text/plain, */*',
        'Accept-Language: fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7',
        'Accept-Encoding: gzip, deflate, br',
        'X-Forwarded-For: 203.0.113.195, 198.51.100.17',
        'X-Forwarded-Proto: https',
        'X-Forwarded-Host: attendance.school.example',
        'Via: 1.1 caddy, 1.1 nginx',
        'Content-Length: 0',
        'Connection: close',
      ];
      const fill = HEADER_ALLOWANCE - Buffer.byteLength(headers.map((h) => `${h}\r\n`).join(''), 'utf8') - '\r\n'.length;
      // What is left of the allowance, as one more header a proxy might add.
      headers.push(`X-Request-Trace: ${'t'.repeat(Math.max(0, fill - 'X-Request-Trace: \r\n'.length))}`);
      const head = `${longestLine(op)}${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
      const status = await statusOf(Number(new URL(srv.baseUrl).port), head);
      if (status === 431 || status === 414) refused.push(`${op.op}: ${status}`);
    }
    expect(refused).to.deep.equal([]);
  });
});

import net from 'node:net';
import { expect } from 'chai';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

// Every request the API document allows must reach the application: Node reads a request's line
// and headers into at most 16 KiB (http.maxHeaderSize) and answers 431 unread beyond, so a
// client built from the document (Schemathesis, an integrator's generated client) that sends
// the longest documented values got no coded answer at all. The audit trail's `action` filter
// (2,000 characters of anything) did, and the session list's `status` filter had no bound.
//
// Worst case per the document: a string's maxLength counts code points (JSON Schema), each of up
// to 4 UTF-8 bytes unless its pattern admits ASCII only, and a client may percent-encode every
// byte (%XX, 3 characters).

/** Node's default limit on a request's line and headers together (http.maxHeaderSize). */
const NODE_HEADER_LIMIT = 16 * 1024;
/**
 * Left to the headers: a browser's (user agent, accept-*, a bearer token of about 400
 * characters) and two proxies' (X-Forwarded-*, Via) take under 2 KiB; the rest is margin.
 */
const HEADER_ALLOWANCE = 4 * 1024;
/** The longest text of a JSON number (the shortest round-trip form of a double: -2.2250738585072014e-308). */
const NUMBER_CHARS = 24;

interface ParamSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  anyOf?: ParamSchema[];
  oneOf?: ParamSchema[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema: ParamSchema;
}
interface Operation {
  op: string;
  method: string;
  path: string;
  parameters: Parameter[];
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Whether every string `pattern` matches is ASCII: no negated class, no `.`, no escape that
 * reaches beyond ASCII (\S, \W, \D, \s, \p, \u, \x), no literal beyond ASCII. Unsure: false.
 */
export function asciiOnly(pattern: string | undefined): boolean {
  if (pattern === undefined) return false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c.charCodeAt(0) > 0x7f) return false;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[SWDspPux]/.test(next)) return false;
      i += 1;
    } else if (c === '[' && !inClass) {
      if (pattern[i + 1] === '^') return false;
      inClass = true;
    } else if (c === ']' && inClass) inClass = false;
    else if (c === '.' && !inClass) return false;
  }
  return true;
}

/** The most UTF-8 bytes a value of `schema` may take, or why it has no bound. */
export function maxBytes(schema: ParamSchema): number | string {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const each = branches.map(maxBytes);
    const unbounded = each.find((b) => typeof b === 'string');
    return unbounded ?? Math.max(...(each as number[]));
  }
  if (schema.enum) return Math.max(...schema.enum.map((v) => utf8(String(v))));
  if (schema.const !== undefined) return utf8(String(schema.const));
  if (schema.type === 'boolean') return 'false'.length;
  if (schema.type === 'integer') {
    if (schema.minimum === undefined || schema.maximum === undefined) return 'an integer without minimum and maximum';
    return Math.max(String(schema.minimum).length, String(schema.maximum).length);
  }
  if (schema.type === 'number') return NUMBER_CHARS;
  if (schema.format === 'date') return 'YYYY-MM-DD'.length;
  if (schema.type === 'string') {
    if (schema.maxLength === undefined) return 'a string without maxLength';
    return schema.maxLength * (asciiOnly(schema.pattern) ? 1 : 4);
  }
  return `a schema of type ${String(schema.type)}`;
}

/** A value of `bytes` UTF-8 bytes, every byte percent-encoded: 4-byte characters while they fit, then ASCII. */
function encodedValue(bytes: number): string {
  return '%F0%9F%98%80'.repeat(Math.floor(bytes / 4)) + '%41'.repeat(bytes % 4);
}

/** The longest request target the document allows for `op`, or the parameters without a bound. */
function longestTarget(op: Operation): { target: string; unbounded: string[] } {
  const unbounded: string[] = [];
  const value = (p: Parameter): string => {
    const bytes = maxBytes(p.schema);
    if (typeof bytes === 'string') {
      unbounded.push(`${op.op} ${p.in} ${p.name}: ${bytes}`);
      return '';
    }
    return encodedValue(bytes);
  };
  let path = op.path;
  for (const p of op.parameters.filter((x) => x.in === 'path')) path = path.replace(`{${p.name}}`, value(p));
  const query = op.parameters.filter((x) => x.in === 'query').map((p) => `${encodedValue(utf8(p.name))}=${value(p)}`);
  return { target: query.length > 0 ? `${path}?${query.join('&')}` : path, unbounded };
}

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
    const doc = (await srv.request('GET', '/api/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
    };
    ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, o]) => ({
        op: `${method.toUpperCase()} ${path}`,
        method,
        path,
        parameters: o.parameters ?? [],
      })),
    );
    const org = await createOrg(srv.store);
    token = (await srv.login((await createUser(srv.store, org.id, 'admin')).email, PASSWORD)).accessToken;
  });
  after(() => srv.cleanup());

  it('bounds every path and query parameter', () => {
    expect(ops.flatMap((op) => longestTarget(op).unbounded)).to.deep.equal([]);
  });

  it(`leaves ${HEADER_ALLOWANCE} bytes of Node's ${NODE_HEADER_LIMIT} to the headers, percent-encoded at worst`, () => {
    const over = ops
      .map((op) => ({ op: op.op, line: `${op.method.toUpperCase()} ${longestTarget(op).target} HTTP/1.1\r\n`.length }))
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
      const fill = HEADER_ALLOWANCE - utf8(headers.map((h) => `${h}\r\n`).join('')) - '\r\n'.length;
      // What is left of the allowance, as one more header a proxy might add.
      headers.push(`X-Request-Trace: ${'t'.repeat(Math.max(0, fill - 'X-Request-Trace: \r\n'.length))}`);
      const head = `${op.method.toUpperCase()} ${longestTarget(op).target} HTTP/1.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
      const status = await statusOf(new URL(srv.baseUrl).port as unknown as number, head);
      if (status === 431 || status === 414) refused.push(`${op.op}: ${status}`);
    }
    expect(refused).to.deep.equal([]);
  });
});

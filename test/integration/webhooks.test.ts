import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Actor } from '../../src/domain/actor.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { SIGNATURE_TOLERANCE_S, verifySignature } from '../../src/domain/webhooks/signature.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PASSWORD, createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { TestClock } from '../support/live-fixture.js';
import { waitFor } from '../support/sockets.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: {
    id: string;
    type: string;
    organisationId: string;
    data: { session?: { id: string }; record?: { status: string; sessionId: string } };
  };
}

/** An in-process receiver: answers with the queued statuses, then `fallback`. */
async function startReceiver(port = 0) {
  const received: Received[] = [];
  const statuses: number[] = [];
  let fallback = 204;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(statuses.shift() ?? fallback).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}/hook`,
    received,
    statuses,
    setFallback: (s: number) => (fallback = s),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ALL = ['session.opened', 'session.closed', 'record.created', 'record.changed'];
const START = Date.parse('2026-03-02T09:00:00.000Z');

describe('outbound webhooks over real HTTP', function () {
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let clock: TestClock;
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  let teacher: User;
  let students: User[];
  let subject: Subject;
  let adminToken: string;

  /** One dispatch pass, once the deliveries of the events so far are queued. */
  const tick = async () => {
    await srv.app.webhookEvents.drain();
    return srv.app.webhooks.tick();
  };
  const teacherActor = (): Actor => ({ id: teacher.id, orgId: org.id, role: 'teacher', ip: null });
  const openSession = async () => {
    const at = clock.now().getTime();
    // Closing far ahead, so moving the clock for retries never closes it.
    return srv.app.attendance.sessions.open(teacherActor(), {
      subjectId: subject.id,
      closesAt: new Date(at + 12 * 3_600_000).toISOString(),
    });
  };
  const mark = (sessionId: string, student: User, status: 'present' | 'late' | 'absent') =>
    srv.app.attendance.checkins.mark(teacherActor(), { sessionId, studentId: student.id, status, ip: null });
  const addEndpoint = async (url: string, events = ALL) => {
    const res = await srv.request('POST', '/api/v1/webhooks', { token: adminToken, body: { url, events } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; secret: string };
  };

  async function setUp(env: Record<string, string>, openStore?: () => ReturnType<typeof createSqliteStore>) {
    srv = await startTestServer(env, { clock: clock.now, ...(openStore ? { openStore } : {}) });
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
    teacher = await createUser(srv.store, org.id, 'teacher');
    students = [await createUser(srv.store, org.id, 'student'), await createUser(srv.store, org.id, 'student')];
    subject = await createSubject(
      srv.store,
      org.id,
      [teacher.id],
      students.map((s) => s.id),
    );
    adminToken = (await srv.login(admin.email, PASSWORD)).accessToken;
  }

  beforeEach(async () => {
    rx = await startReceiver();
    clock = new TestClock(START);
  });
  afterEach(async () => {
    await srv?.cleanup();
    await rx.close();
  });

  // The dispatcher is ticked by hand here (its own pass comes once a minute), so each step is exact.
  const MANUAL = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '60000' };

  it('signs each delivery so that a receiver can verify it, with the delivery id as idempotency key', async () => {
    await setUp(MANUAL);
    const { secret } = await addEndpoint(rx.url);
    expect(secret).to.match(/^whsec_/);
    const listed = await srv.request('GET', '/api/v1/webhooks', { token: adminToken });
    expect(listed.body.items[0]).to.not.have.property('secret');

    const session = await openSession();
    expect(await tick()).to.equal(1);
    const [got] = rx.received;
    expect(got!.json).to.deep.include({ type: 'session.opened', organisationId: org.id });
    expect(got!.json.data.session!.id).to.equal(session.id);
    expect(got!.headers['x-attendance-event']).to.equal('session.opened');
    expect(got!.headers['idempotency-key']).to.equal(got!.json.id);
    expect(got!.headers['x-attendance-delivery']).to.equal(got!.json.id);
    expect(got!.headers['content-type']).to.equal('application/json');

    const header = got!.headers['x-attendance-signature'] as string;
    expect(header).to.match(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, got!.body, header, clock.now())).to.equal(true);
    // Another secret, a changed body, or a replay outside the window fail.
    expect(verifySignature('whsec_other', got!.body, header, clock.now())).to.equal(false);
    expect(verifySignature(secret, got!.body.replace(session.id, 'x'), header, clock.now())).to.equal(false);
    expect(verifySignature(secret, got!.body, header, new Date(START + (SIGNATURE_TOLERANCE_S + 1) * 1000))).to.equal(false);
  });

  it('signs with the new secret only once the secret is rotated, retries of earlier deliveries included', async () => {
    await setUp(MANUAL);
    const { id, secret: oldSecret } = await addEndpoint(rx.url, ['session.opened']);
    // A delivery queued and failed under the old secret, retried after the rotation.
    rx.statuses.push(503);
    await openSession();
    expect(await tick()).to.equal(1);
    expect(
      verifySignature(oldSecret, rx.received[0]!.body, rx.received[0]!.headers['x-attendance-signature'] as string, clock.now()),
    ).to.equal(true);

    const rotated = await srv.request('POST', `/api/v1/webhooks/${id}/rotate-secret`, { token: adminToken });
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
    const newSecret = (rotated.body as { secret: string }).secret;
    expect(newSecret)
      .to.match(/^whsec_/)
      .and.not.equal(oldSecret);
    expect(rotated.body).to.deep.include({ id, url: rx.url, events: ['session.opened'], active: true });
    const listed = await srv.request('GET', '/api/v1/webhooks', { token: adminToken });
    expect(listed.body.items[0]).to.not.have.property('secret');

    clock.advance(60_000);
    await srv.app.attendance.sessions.open(teacherActor(), {
      subjectId: subject.id,
      parallel: true,
      closesAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
    });
    while ((await tick()) > 0);
    expect(rx.received).to.have.length(3);
    for (const got of rx.received.slice(1)) {
      const header = got.headers['x-attendance-signature'] as string;
      expect(verifySignature(newSecret, got.body, header, clock.now())).to.equal(true);
      expect(verifySignature(oldSecret, got.body, header, clock.now())).to.equal(false);
    }
    // The retry is the delivery first sent under the old secret, now signed with the new one.
    expect(rx.received[1]!.headers['idempotency-key']).to.equal(rx.received[0]!.headers['idempotency-key']);

    const audit = await srv.store.audit.listForEntity(org.id, 'organisation', org.id);
    const entry = audit.find((e) => e.action === 'webhook.rotate-secret');
    expect(entry).to.deep.include({ actorId: admin.id, to: { endpointId: id, url: rx.url } });
    expect(JSON.stringify(audit)).to.not.contain(newSecret);
    const missing = await srv.request('POST', '/api/v1/webhooks/no-such-endpoint/rotate-secret', { token: adminToken });
    expect(missing.status).to.equal(404);
  });

  it('retries against a receiver that fails then recovers, and keeps each session in order', async () => {
    await setUp(MANUAL);
    const endpoint = await addEndpoint(rx.url);
    rx.statuses.push(500, 503);

    const first = await openSession();
    await mark(first.id, students[0]!, 'present');
    await mark(first.id, students[0]!, 'late');
    expect(await tick()).to.equal(1);
    expect(rx.received.map((r) => r.json.type)).to.deep.equal(['session.opened']);
    // The opening failed: its retry is not due yet and the records of the session wait behind it.
    expect(await tick()).to.equal(0);

    clock.advance(60_000);
    expect(await tick()).to.equal(1);
    clock.advance(60_000);
    expect(await tick()).to.equal(1);
    // Recovered (204): the rest of the session goes out one at a time, in order.
    while ((await tick()) > 0);
    expect(rx.received.map((r) => [r.json.type, r.json.data.record?.status ?? null])).to.deep.equal([
      ['session.opened', null],
      ['session.opened', null],
      ['session.opened', null],
      ['record.created', 'present'],
      ['record.changed', 'late'],
    ]);
    const ids = rx.received.map((r) => r.headers['idempotency-key']);
    expect(ids[1]).to.equal(ids[0]);
    expect(ids[2]).to.equal(ids[0]);

    const log = await srv.request('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: adminToken });
    expect(log.status).to.equal(200);
    expect(log.body.total).to.equal(3);
    const opening = log.body.items.find((d: { event: string }) => d.event === 'session.opened');
    expect(opening).to.deep.include({ state: 'delivered', attempts: 3, lastStatus: 204 });
    expect(opening.attemptLog.map((a: { statusCode: number }) => a.statusCode)).to.deep.equal([500, 503, 204]);

    // Manual redelivery: the same delivery (same id) goes out once more.
    const again = await srv.request('POST', `/api/v1/webhook-deliveries/${opening.id}/redeliver`, { token: adminToken });
    expect(again.status).to.equal(202);
    expect(await tick()).to.equal(1);
    expect(rx.received.at(-1)!.headers['idempotency-key']).to.equal(opening.id);
  });

  it('does not hold one session back for another session that fails', async () => {
    await setUp(MANUAL);
    await addEndpoint(rx.url, ['record.created']);
    const a = await openSession();
    await mark(a.id, students[0]!, 'present');
    rx.statuses.push(500);
    expect(await tick()).to.equal(1);
    const b = await srv.app.attendance.sessions.open(teacherActor(), {
      subjectId: subject.id,
      parallel: true,
      closesAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
    });
    await mark(b.id, students[1]!, 'present');
    expect(await tick()).to.equal(1);
    expect(rx.received.map((r) => r.json.data.record!.sessionId)).to.deep.equal([a.id, b.id]);
  });

  it('sends a delivery queued before a node restart from the node that replaces it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'attendance-webhooks-'));
    const file = path.join(dir, 'store.db');
    try {
      await setUp(MANUAL, () => createSqliteStore({ path: file }));
      await addEndpoint(rx.url, ['session.opened']);
      rx.setFallback(503);
      const session = await openSession();
      expect(await tick()).to.equal(1);
      await srv.cleanup();

      // A new application on the same file, with its own dispatch passes running (every 50 ms).
      rx.setFallback(200);
      clock.advance(60_000);
      srv = await startTestServer(
        { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50' },
        { clock: clock.now, openStore: () => createSqliteStore({ path: file }) },
      );
      await waitFor(() => rx.received.length === 2);
      expect(rx.received.map((r) => r.json.data.session!.id)).to.deep.equal([session.id, session.id]);
      expect(rx.received[1]!.headers['idempotency-key']).to.equal(rx.received[0]!.headers['idempotency-key']);
    } finally {
      await srv.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to send to a loopback receiver unless WEBHOOK_ALLOW_PRIVATE is set', async () => {
    await setUp({ WEBHOOK_POLL_MS: '60000' });
    const endpoint = await addEndpoint(rx.url, ['session.opened']);
    await openSession();
    expect(await tick()).to.equal(1);
    expect(rx.received).to.deep.equal([]);
    const log = await srv.request('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: adminToken });
    expect(log.body.items[0]).to.deep.include({ state: 'pending', attempts: 1, lastStatus: null });
    expect(log.body.items[0].lastError).to.equal('refused: 127.0.0.1 is a private, loopback or link-local address');
  });
});

import { expect } from 'chai';
import { seedDemo } from '../../src/domain/seed.js';
import { createClass } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { onFreePort } from '../../scripts/lib/ports.js';
import { command, connectClient, ok, type ClientSocket } from '../support/sockets.js';
import { cheapPasswordHasher } from '../support/passwords.js';

const TOKEN = 'metrics-token-for-the-test';
const ROOM = { lat: 45.4642, lon: 9.19, radiusM: 60 };

/** The value of one sample line (`name{labels} value`), or 0 when Prometheus has none yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

// /metrics during a short live session: the check-in counters and histograms move.
describe('Prometheus metrics (/metrics)', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let metricsPort: number;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await onFreePort((port) => {
      metricsPort = port;
      return startTestServer({ METRICS_TOKEN: TOKEN, METRICS_PORT: String(port) });
    });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  const scrape = async () => {
    const res = await fetch(`${srv.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.contain('text/plain');
    return res.text();
  };

  it('answers only the bearer of METRICS_TOKEN on the main port, and anyone on the metrics port', async () => {
    expect((await fetch(`${srv.baseUrl}/metrics`)).status).to.equal(401);
    expect((await fetch(`${srv.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-same-len' } })).status).to.equal(401);
    const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(own.status).to.equal(200);
    expect(await own.text()).to.contain('nodejs_eventloop_lag_seconds');
  });

  it('counts check-ins, socket commands, HTTP requests and store operations of a live session', async () => {
    const { teacher, students, subject } = await createClass(srv.store, 3, { location: ROOM });
    const before = await scrape();

    const staff = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(teacher).token);
    sockets.push(staff);
    const sessionId = ok(
      await command(staff, 'session:open', { subjectId: subject.id, policy: { geofence: true, rotatingCode: false } }),
    ).id;
    for (const s of students) {
      const phone = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(s).token);
      sockets.push(phone);
      ok(
        await command(phone, 'checkin:submit', {
          sessionId,
          location: { lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() },
        }),
      );
    }
    const refused = await command(staff, 'checkin:submit', {
      sessionId,
      location: { lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() },
    });
    expect(refused.ok ? 'ok' : refused.error.code).to.equal('FORBIDDEN');
    expect(
      (
        await fetch(`${srv.baseUrl}/api/v1/subjects`, {
          headers: { authorization: `Bearer ${srv.app.tokenService.signAccess(teacher).token}` },
        })
      ).status,
    ).to.equal(200);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('attendance_record_changes_total', { status: 'present', reason: 'none' }), after).to.equal(3);
    expect(delta('attendance_socket_commands_total', { event: 'checkin:submit', outcome: 'ok' })).to.equal(3);
    expect(delta('attendance_socket_commands_total', { event: 'checkin:submit', outcome: 'FORBIDDEN' })).to.equal(1);
    expect(delta('attendance_socket_commands_total', { event: 'session:open', outcome: 'ok' })).to.equal(1);
    expect(sample(after, 'attendance_sockets_connected')).to.equal(4);
    expect(delta('attendance_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/subjects', status: '200' })).to.equal(
      1,
    );
    // Each check-in here is answered before the next is sent: three group commits of one.
    expect(delta('attendance_store_operation_duration_seconds_count', { op: 'records.writeBatch' })).to.equal(3);
    expect(sample(after, 'attendance_scheduler_ticks_total')).to.be.above(0);
  });

  it('labels requests by declared route, never by id, and keeps unmatched paths in one series', async () => {
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    await fetch(`${srv.baseUrl}/no/such/page-${Date.now()}`);
    const text = await scrape();
    expect(text).to.match(/route="unmatched"/);
    expect(text).to.not.match(/route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}/);
  });
});

import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer, refusal } from '../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../support/sockets.js';

const ROOM = { lat: 45.4642, lon: 9.19, radiusM: 60 };

// One phone checking in a friend after its owner: flagged for the teacher by default, refused
// when the organisation says so (PATCH /organisation settings.sharedDevice).
describe('shared-device rule of the organisation (settings.sharedDevice)', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  let teacher: User;
  let subject: Subject;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
    teacher = await createUser(srv.store, org.id, 'teacher');
    subject = await srv.store.subjects.create(org.id, {
      code: 'DEV1',
      name: 'Devices',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: [],
    });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  const connect = async (u: User) => {
    const s = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(u).token);
    sockets.push(s);
    return s;
  };

  /** Two students check in to a new session from one device; answers the second one's view. */
  async function friendFromOwnersPhone(): Promise<{ status: string; reason: string | null; flags: string[] }> {
    const owner = await createUser(srv.store, org.id, 'student');
    const friend = await createUser(srv.store, org.id, 'student');
    await srv.store.subjects.enrol(org.id, subject.id, [owner.id, friend.id]);
    const staff = await connect(teacher);
    const sessionId = ok(
      await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'location' }, parallel: true }),
    ).id;
    const here = () => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() });
    const deviceId = `phone-${owner.id.slice(0, 8)}`;
    ok(await command(await connect(owner), 'checkin:submit', { sessionId, location: here(), deviceId }));
    return ok(await command(await connect(friend), 'checkin:submit', { sessionId, location: here(), deviceId }));
  }

  it('flags the second account by default and leaves the decision to the teacher', async () => {
    const view = await friendFromOwnersPhone();
    expect(view.status).to.equal('present');
    expect(view.flags).to.include('SHARED_DEVICE');
  });

  it("refuses it with SHARED_DEVICE once the organisation's admin sets the rule to refuse", async () => {
    const token = srv.app.tokenService.signAccess(admin).token;
    const patched = await srv.request('PATCH', '/api/v1/organisation', { token, body: { settings: { sharedDevice: 'refuse' } } });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(patched.body.settings.sharedDevice).to.equal('refuse');
    const view = await friendFromOwnersPhone();
    expect(view).to.include({ status: 'rejected', reason: 'SHARED_DEVICE' });
    const bad = await srv.request('PATCH', '/api/v1/organisation', { token, body: { settings: { sharedDevice: 'ignore' } } });
    expect(refusal(bad)).to.deep.equal([400, 'VALIDATION_FAILED']);
  });

  it('refuses one of two check-ins sent together from one device, though neither was stored when the other was checked', async () => {
    const token = srv.app.tokenService.signAccess(admin).token;
    expect((await srv.request('PATCH', '/api/v1/organisation', { token, body: { settings: { sharedDevice: 'refuse' } } })).status).to.equal(
      200,
    );
    const pair = [await createUser(srv.store, org.id, 'student'), await createUser(srv.store, org.id, 'student')];
    await srv.store.subjects.enrol(
      org.id,
      subject.id,
      pair.map((u) => u.id),
    );
    const staff = await connect(teacher);
    const sessionId = ok(
      await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'location' }, parallel: true }),
    ).id;
    const phones = await Promise.all(pair.map((u) => connect(u)));
    const here = { lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() };
    const views = (
      await Promise.all(phones.map((p) => command(p, 'checkin:submit', { sessionId, location: here, deviceId: 'one-phone-for-two' })))
    ).map(ok);
    expect(views.map((v) => v.status).sort()).to.deep.equal(['present', 'rejected']);
    expect(views.find((v) => v.status === 'rejected')).to.include({ reason: 'SHARED_DEVICE' });
  });
});

import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import type { RosterUpdates } from '../../src/shared/events.js';
import { CheckinFrames, LeanClients } from '../../scripts/lib/lean-socket.js';
import { RosterFrameReader } from '../../scripts/lib/roster-frames.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { EVENT_WAIT_MS, waitFor } from '../support/sockets.js';

const ROOM = { lat: 48.8566, lon: 2.3522, radiusM: 100 };
const GEOFENCE = { geofence: true, rotatingCode: false, network: false };
/** Names a scan would trip on if it read inside strings: the keys it looks for, quotes, backslashes. */
const NAMES = [
  'Quote " {"version":9,"entry":{"studentId":"fake","status":"present"}}',
  'Back\\slash\\',
  ',"status":"late" and {"version":',
  'Zoë Ünal — 名前\nnewline',
  'Plain Name',
];

/** What the full parse says the pairing needs of a frame, as the reader should have read it. */
function expected(text: string): { sessionId: string; updates: string[] } {
  const [, batch] = JSON.parse(text.slice(2)) as [string, RosterUpdates];
  return { sessionId: batch.sessionId, updates: batch.updates.map((u) => `${u.version} ${u.entry.studentId} ${u.entry.status}`) };
}
function read(reader: RosterFrameReader): { sessionId: string; updates: string[] } {
  const updates: string[] = [];
  for (let j = 0; j < reader.count; j += 1) updates.push(`${reader.versions[j]} ${reader.studentIds[j]} ${reader.status(j)}`);
  return { sessionId: reader.sessionId, updates };
}

/**
 * The load generator's cheap read of `roster:updates` (scripts/lib/roster-frames.ts) against the
 * full parse, on frames a real server sent: check-ins of students with hostile names, then
 * teacher's marks (other statuses, higher versions).
 */
describe('load generator roster frame reader, on a real node', function () {
  // The hook starts a server and six sockets: room for a loaded CI machine.
  this.timeout(30_000);
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let students: User[];
  let subject: Subject;
  let clients: LeanClients;
  const answers = new Map<number, string | null>();
  /** Every roster:updates text frame the screen received, as sent. */
  const frames: string[] = [];

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    students = await srv.store.users.createMany(
      org.id,
      NAMES.map((name, i) => ({
        email: `frames-${i}@example.test`,
        name,
        role: 'student' as const,
        studentNumber: i % 2 === 0 ? `F${i}` : null,
        passwordHash: null,
        active: true,
      })),
    );
    subject = await srv.store.subjects.create(org.id, {
      code: 'FRAMES',
      name: 'Roster frames',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(
      org.id,
      subject.id,
      students.map((s) => s.id),
    );
    clients = new LeanClients((id, _at, code) => answers.set(id, code), EVENT_WAIT_MS);

    const tokenOf = (u: User) => srv.app.tokenService.signAccess(u).token;
    const screen = await clients.connect(srv.baseUrl, tokenOf(teacher));
    screen.onRaw('roster:updates', (text) => frames.push(text));
    const opened = await screen.request<{ id: string }>('session:open', { subjectId: subject.id, policy: GEOFENCE, parallel: true });
    if (!opened.ok) throw new Error(`session:open ${opened.error.code}`);
    const sessionId = opened.data.id;
    const watched = await screen.request('session:watch', { sessionId });
    if (!watched.ok) throw new Error(`session:watch ${watched.error.code}`);
    const phones = await Promise.all(students.map((s) => clients.connect(srv.baseUrl, tokenOf(s))));
    const checkins = new CheckinFrames({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 15 });
    // At once: the roster batch window gathers several into one frame.
    phones.forEach((phone, i) => phone.send(i, checkins.frame(i, sessionId, Date.now())));
    await waitFor(() => answers.size === phones.length);
    expect([...answers.values()]).to.deep.equal(phones.map(() => null));
    const seen = () => new Set(frames.flatMap((f) => expected(f).updates.map((u) => u.split(' ')[1])));
    await waitFor(() => students.every((s) => seen().has(s.id)));
    // Marks: statuses other than present, in frames of their own.
    for (const [i, status] of [
      [0, 'late'],
      [1, 'absent'],
      [2, 'excused'],
    ] as const) {
      const before = frames.length;
      const marked = await screen.request('checkin:mark', { sessionId, studentId: students[i]!.id, status });
      if (!marked.ok) throw new Error(`checkin:mark ${marked.error.code}`);
      await waitFor(() => frames.slice(before).some((f) => f.includes(`"status":"${status}"`)));
    }
  });
  after(async () => {
    clients.close();
    await srv.cleanup();
  });

  it('reads every frame by the scan, as the full parse reads it', () => {
    const reader = new RosterFrameReader(1);
    for (const text of frames) {
      expect(reader.read(text)).to.equal(true);
      expect(read(reader)).to.deep.equal(expected(text));
    }
    expect(reader.drift).to.equal(null);
    expect(reader.parsedOnly).to.equal(0);
    expect(reader.checked).to.equal(frames.length);
    const statuses = new Set(frames.flatMap((f) => expected(f).updates.map((u) => u.split(' ')[2])));
    expect([...statuses].sort()).to.deep.equal(['absent', 'excused', 'late', 'present']);
  });

  it('reads a frame of many updates (the batch window gathers them) by the scan', () => {
    const received = frames.flatMap((f) => (JSON.parse(f.slice(2)) as [string, RosterUpdates])[1].updates);
    // Past the reader's first 64 slots, so that it grows them.
    const all = Array.from({ length: 10 }, () => received).flat();
    const sessionId = expected(frames[0]!).sessionId;
    // As the server writes a batch: socket.io's JSON.stringify of the event and its payload.
    const text = `42${JSON.stringify(['roster:updates', { sessionId, updates: all }])}`;
    const reader = new RosterFrameReader(1);
    expect(reader.read(text)).to.equal(true);
    expect(reader.parsedOnly).to.equal(0);
    expect(reader.drift).to.equal(null);
    expect(reader.count).to.equal(all.length).and.be.above(64);
    expect(read(reader)).to.deep.equal(expected(text));
  });

  it('names the drift and reads the full parse when the layout changes under it', () => {
    const [, batch] = JSON.parse(frames[0]!.slice(2)) as [string, RosterUpdates];
    // A nested object shaped like an update: the scan would count one update too many.
    const ghost = { version: 2, entry: { studentId: 'ghost', status: 'present' } };
    const nested = { ...batch, updates: batch.updates.map((u) => ({ ...u, entry: { ...u.entry, verification: ghost } })) };
    const text = `42${JSON.stringify(['roster:updates', nested])}`;
    const reader = new RosterFrameReader(1);
    expect(reader.read(text)).to.equal(true);
    expect(reader.drift)
      .to.be.a('string')
      .and.match(/updates read as/);
    expect(read(reader)).to.deep.equal(expected(text));
    // Turned off for good: later frames are parsed in full, and read right.
    expect(reader.read(frames[1]!)).to.equal(true);
    expect(reader.parsedOnly).to.equal(1);
    expect(read(reader)).to.deep.equal(expected(frames[1]!));
  });

  it('parses in full a frame whose keys come in another order, without calling it drift', () => {
    const [, batch] = JSON.parse(frames[0]!.slice(2)) as [string, RosterUpdates];
    const text = `42${JSON.stringify(['roster:updates', { updates: batch.updates, sessionId: batch.sessionId }])}`;
    const reader = new RosterFrameReader(1);
    expect(reader.read(text)).to.equal(true);
    expect(reader.parsedOnly).to.equal(1);
    expect(reader.drift).to.equal(null);
    expect(read(reader)).to.deep.equal(expected(text));
    expect(reader.read('42["session:status",{"id":"x"}]')).to.equal(false);
  });
});

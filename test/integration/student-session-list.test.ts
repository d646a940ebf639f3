import { expect } from 'chai';
import type { SessionView } from '../../src/shared/events.js';
import { useSocketClass } from '../support/socket-class.js';
import { command, nextEvent, ok } from '../support/sockets.js';

describe("socket.io: a student's session list stays live", function () {
  this.timeout(20_000);
  const cls = useSocketClass({ code: 'LIVE1', name: 'Live list', location: null });
  const client = cls.client;

  it('tells a student who listed sessions when one of their subjects opens and closes, and no one else', async () => {
    const { teacher, student, outsider, subject } = cls.current();
    const s = await client(student);
    const other = await client(outsider);
    expect(ok(await command(s, 'session:list-active', {}))).to.deep.equal([]);
    ok(await command(other, 'session:list-active', {}));
    const heardByOutsider: SessionView[] = [];
    other.on('session:status', (v) => heardByOutsider.push(v));

    const t = await client(teacher);
    const opened = nextEvent(s, 'session:status', (v) => v.subjectId === subject.id && v.status === 'open');
    const session = ok(await command(t, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
    const [view] = await opened;
    expect(view.id).to.equal(session.id);
    expect(view.policy.preset).to.equal('manual');

    const closed = nextEvent(s, 'session:status', (v) => v.id === session.id && v.status === 'closed');
    ok(await command(t, 'session:close', { sessionId: session.id }));
    await closed;
    // The outsider's socket is on the same node: the broadcast that reached the student passed it by.
    expect(heardByOutsider).to.deep.equal([]);
  });

  it("carries the student's own check-in per session, and a teacher's change reaches the student without a join", async () => {
    const { teacher, student, subject } = cls.current();
    const s = await client(student);
    const t = await client(teacher);
    const session = ok(await command(t, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
    const before = ok(await command(s, 'session:list-active', {})).find((v) => v.id === session.id);
    expect(before?.checkin).to.equal(null);
    const ack = ok(await command(s, 'checkin:submit', { sessionId: session.id }));
    expect(ok(await command(s, 'session:list-active', {})).find((v) => v.id === session.id)?.checkin).to.deep.equal({
      status: ack.status,
      attemptsLeft: ack.attemptsLeft,
      verifying: false,
      recordVersion: ack.recordVersion,
    });
    // The student's socket never joined the session: the page's list follows this push.
    const pushed = nextEvent(s, 'checkin:decision', (v) => v.sessionId === session.id && v.status === 'excused');
    ok(await command(t, 'checkin:mark', { sessionId: session.id, studentId: student.id, status: 'excused' }));
    const [view] = await pushed;
    const listed = ok(await command(s, 'session:list-active', {})).find((v) => v.id === session.id)?.checkin;
    expect(listed).to.include({ status: 'excused', recordVersion: view.recordVersion });
    expect(view.recordVersion).to.be.above(ack.recordVersion);
    expect(ok(await command(t, 'session:list-active', {})).find((v) => v.id === session.id)).to.not.have.property('checkin');
    ok(await command(t, 'session:close', { sessionId: session.id }));
  });
});

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
});

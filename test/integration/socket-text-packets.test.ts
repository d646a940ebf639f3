import { expect } from 'chai';
import WebSocket from 'ws';
import type { Ack } from '../../src/shared/errors.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { MAX_TEXT_PACKET_CHARS } from '../../src/realtime/text-packet-bound.js';
import { useSocketClass } from '../support/socket-class.js';
import { command, ok } from '../support/sockets.js';

const ROOM = { lat: 48.8566, lon: 2.3522, radiusM: 80 };
const here = () => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() });

/**
 * Text packets longer than MAX_TEXT_PACKET_CHARS are refused unread, under the default
 * SOCKET_MAX_BUFFER_BYTES (1 MiB), which still bounds binary attachments alone. A megabyte of
 * nested arrays cost the event loop 0.2 to 0.9 s to parse, from anyone who opened a connection.
 */
describe('socket.io: text packets bounded before they are parsed', function () {
  this.timeout(20_000);
  const cls = useSocketClass({ code: 'TXT1', name: 'Text bound', location: ROOM });
  let org: Organisation;
  let teacher: User;
  let student: User;
  let sessionId: string;

  before(async () => {
    ({ org, teacher, student } = cls.current());
    const t = await cls.client(teacher);
    sessionId = ok(await command(t, 'session:open', { subjectId: cls.current().subject.id, policy: { rotatingCode: false } })).id;
    expect(org.id).to.be.a('string');
  });

  it("closes a signed-in client's connection on a text packet over the bound, unanswered, while a selfie near the buffer's size is still answered", async () => {
    const s = await cls.client(student);
    // Binary: a selfie of 900 kB is read (and answered: this session asks for none).
    const selfie = await new Promise<Ack<unknown>>((resolve) =>
      s.emit('checkin:submit', { sessionId, location: here(), selfie: new Uint8Array(900_000) } as never, resolve as never),
    );
    expect(selfie.ok ? 'ok' : selfie.error.code).to.not.equal('INTERNAL');
    const gone = new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(`closed: ${reason}`)));
    // Its text alone is over the bound (a string here; nested arrays cost the parse far more).
    const answered = new Promise<string>((resolve) =>
      s.emit(
        'session:list-active',
        { padding: 'x'.repeat(MAX_TEXT_PACKET_CHARS) } as never,
        ((ack: Ack<unknown>) => resolve(`answered: ${ack.ok ? 'ok' : ack.error.code}`)) as never,
      ),
    );
    expect(await Promise.race([gone, answered])).to.equal('closed: transport close');
    const again = await cls.client(student);
    expect(ok(await command(again, 'session:join', { sessionId }))).to.be.an('object');
  });

  it('closes a connection whose CONNECT is over the bound without reading it, though its token is valid', async () => {
    const { srv } = cls.current();
    const ws = new WebSocket(`${srv.baseUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const packets: string[] = [];
    ws.on('message', (data) => packets.push(String(data)));
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const token = srv.app.tokenService.signAccess(student).token;
    ws.send(`40${JSON.stringify({ token, padding: 'x'.repeat(MAX_TEXT_PACKET_CHARS) })}`);
    // Connected, socket.io answers 40{"sid":...}; refused, the connection closes without it.
    const outcome = await Promise.race([
      closed.then(() => 'closed'),
      new Promise<string>((resolve) => ws.on('message', (data) => String(data).startsWith('40') && resolve('connected'))),
    ]);
    ws.terminate();
    expect(outcome).to.equal('closed');
    expect(packets.filter((p) => p.startsWith('40'))).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { Socket as NetSocket } from 'node:net';
import type { Store } from '../../src/domain/ports/store.js';
import { createClass } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { NO_CHECKS } from '../support/live-class.js';
import { command, connectClient, nextEvent, ok, type ClientSocket } from '../support/sockets.js';

/**
 * What one phone's reconnect costs the node, since a school's phones reconnect together when
 * their node dies (docs/deploy.md, "Many sockets reconnect at once"): the handshake's token is
 * checked once, and the page's resync reads the student's subjects once.
 */
describe('the cost of one reconnect', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let subjectReads = 0;
  const sockets: ClientSocket[] = [];
  const counting = (store: Store): Store => {
    const list = store.subjects.list.bind(store.subjects);
    store.subjects.list = (...args) => {
      subjectReads += 1;
      return list(...args);
    };
    return store;
  };
  beforeEach(async () => {
    srv = await startTestServer({}, { wrapStore: counting });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv.cleanup();
  });

  it("checks a handshake's access token once (the connection limit and the authentication share it)", async () => {
    const made = await createClass(srv.store, 1);
    const token = srv.app.tokenService.signAccess(made.students[0]!).token;
    const verify = srv.app.tokenService.verifyAccess.bind(srv.app.tokenService);
    let checks = 0;
    srv.app.tokenService.verifyAccess = (t) => {
      checks += 1;
      return verify(t);
    };
    sockets.push(await connectClient(srv.baseUrl, token));
    expect(checks).to.equal(1);
  });

  it("sends the upgrade's 101 answer and the engine.io open packet in one write", async () => {
    const made = await createClass(srv.store, 1);
    const token = srv.app.tokenService.signAccess(made.students[0]!).token;
    // Each system-call write of the node's side of a connection (net.Socket's one write path), as text.
    type WriteGeneric = (this: NetSocket, writev: boolean, data: unknown, ...rest: unknown[]) => unknown;
    const proto = NetSocket.prototype as unknown as { _writeGeneric: WriteGeneric };
    const original = proto._writeGeneric;
    const writes: string[] = [];
    proto._writeGeneric = function (writev, data, ...rest) {
      if ((this as NetSocket & { server?: unknown }).server) {
        const chunks = writev ? (data as Array<{ chunk: Buffer | string } | Buffer>).map((c) => ('chunk' in c ? c.chunk : c)) : [data];
        writes.push(chunks.map((c) => (Buffer.isBuffer(c) ? c.toString('latin1') : String(c))).join(''));
      }
      return original.call(this, writev, data, ...rest);
    };
    try {
      sockets.push(await connectClient(srv.baseUrl, token));
    } finally {
      proto._writeGeneric = original;
    }
    const upgrade = writes.findIndex((w) => w.startsWith('HTTP/1.1 101'));
    expect(upgrade, writes.join(' | ')).to.be.at.least(0);
    expect(writes[upgrade]).to.include('0{"sid"');
  });

  it("session:list-active reads a student's subjects once, and the student still hears a session opened after it", async () => {
    const made = await createClass(srv.store, 1);
    const student = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(made.students[0]!).token);
    const teacher = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(made.teacher).token);
    sockets.push(student, teacher);
    subjectReads = 0;
    expect(ok(await command(student, 'session:list-active', {}))).to.deep.equal([]);
    expect(subjectReads).to.equal(1);

    const heard = nextEvent(student, 'session:status');
    const opened = ok(await command(teacher, 'session:open', { subjectId: made.subject.id, policy: NO_CHECKS }));
    expect((await heard)[0].id).to.equal(opened.id);
    expect(ok(await command(student, 'session:list-active', {})).map((s) => s.id)).to.deep.equal([opened.id]);
  });
});

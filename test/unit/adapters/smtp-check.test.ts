import { expect } from 'chai';
import { createServer, type AddressInfo } from 'node:net';
import { checkSmtp } from '../../../src/adapters/mail/smtp-mailer.js';
import { startSmtpServer } from '../../support/mail.js';

/** Keeps what a start would log. */
function recordingLog(): {
  lines: { level: string; obj: object; msg: string }[];
  info: (o: object, m: string) => void;
  warn: (o: object, m: string) => void;
} {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

/** A port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// A wrong SMTP_URL showed only as emails waiting in the outbox: the start now says whether the server took it.
describe('the start-time check of SMTP_URL', function () {
  this.timeout(15_000);

  it('logs that the server accepted the connection', async () => {
    const smtp = await startSmtpServer();
    try {
      const log = recordingLog();
      expect(await checkSmtp(smtp.url, log)).to.equal(true);
      expect(log.lines.map((l) => l.level)).to.deep.equal(['info']);
    } finally {
      await smtp.close();
    }
  });

  it('warns, naming the server and the reason but never the password, when nothing answers', async () => {
    const port = await closedPort();
    const log = recordingLog();
    expect(await checkSmtp(`smtp://attendance:secret-pass@127.0.0.1:${port}`, log)).to.equal(false);
    expect(log.lines).to.have.length(1);
    const [line] = log.lines;
    expect(line!.level).to.equal('warn');
    expect(line!.msg).to.contain('SMTP_URL');
    expect(line!.obj).to.deep.include({ smtp: { host: '127.0.0.1', port: String(port) } });
    expect((line!.obj as { reason: string }).reason).to.match(/ECONNREFUSED/);
    expect(JSON.stringify(line)).to.not.contain('secret-pass');
  });
});

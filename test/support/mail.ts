import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { MailQueue } from '../../src/domain/accounts/mail-queue.js';
import type { MailMessage, Mailer } from '../../src/domain/accounts/mailer.js';

/** A mailer that keeps what it is given, for unit tests of the domain. */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  async send(message: MailMessage): Promise<void> {
    this.sent.push(message);
    this.waiters = this.waiters.filter((w) => (this.sent.length >= w.count ? (w.resolve(), false) : true));
  }

  async close(): Promise<void> {}

  /** Resolves once `count` messages were sent in all. */
  waitFor(count: number): Promise<void> {
    if (this.sent.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

export function recordingQueue(max = 100): { mailer: RecordingMailer; queue: MailQueue } {
  const mailer = new RecordingMailer();
  const queue = new MailQueue(mailer, { max, concurrency: 2 }, (err) => {
    throw err;
  });
  return { mailer, queue };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw RFC 5322 message as the SMTP server received it. */
  raw: string;
}

export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** The messages answered 451, as they came (what a link in them would have opened, had they been delivered). */
  refusedMails: ReceivedMail[];
  /** Resolves with the first message to `to` received after `after` messages (wait on events, not time). */
  next(to: string, after?: number): Promise<ReceivedMail>;
  /** From now on answers every message 451 (true), or accepts them again (false). */
  refuse(on: boolean): void;
  /** From now on answers RCPT TO for this address 550, as a server with no such mailbox does. */
  noSuchMailbox(address: string): void;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Answers this many messages (the first ones) 451, a temporary failure, before accepting. */
  failFirst?: number;
}

/** A real SMTP server in this process on a free port, without TLS or authentication. */
export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<TestSmtpServer & { refused: number }> {
  const received: ReceivedMail[] = [];
  const refusedMails: ReceivedMail[] = [];
  let toFail = opts.failFirst ?? 0;
  let refusing = false;
  const unknown = new Set<string>();
  const state = { refused: 0 };
  let listeners: (() => void)[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (unknown.has(address.address.toLowerCase())) {
        callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        if (refusing || toFail > 0) {
          if (!refusing) toFail--;
          state.refused++;
          refusedMails.push(mail);
          callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
          return;
        }
        received.push(mail);
        const current = listeners;
        listeners = [];
        for (const l of current) l();
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refusedMails,
    get refused() {
      return state.refused;
    },
    next(to, after = 0) {
      const find = () => received.slice(after).find((m) => m.to.includes(to));
      return new Promise((resolve) => {
        const check = () => {
          const m = find();
          if (m) resolve(m);
          else listeners.push(check);
        };
        check();
      });
    },
    refuse(on) {
      refusing = on;
    },
    noSuchMailbox(address) {
      unknown.add(address.toLowerCase());
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The set-password token of a link in a raw message (quoted-printable soft breaks undone). */
export function tokenFromMail(raw: string): string {
  const unfolded = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = /reset\.html#token=([A-Za-z0-9_-]{43})/.exec(unfolded);
  if (!m) throw new Error(`no set-password link in the message:\n${raw}`);
  return m[1]!;
}

/** The raw message made readable: encoded-word headers and quoted-printable bodies decoded (UTF-8). */
export function decodedMail(raw: string): string {
  // Whitespace between adjacent encoded-words is not text (RFC 2047 §6.2), folded or not: nodemailer
  // splits a long subject into two words on one line ("…student_25?= =?UTF-8?Q?1?=").
  const headers = raw
    .replace(/\?=(?:\r?\n)?[ \t]+=\?UTF-8\?Q\?/gi, '')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, words: string) => words.replace(/_/g, ' '));
  const unfolded = headers.replace(/=\r?\n/g, '');
  return unfolded.replace(/(?:=[0-9A-F]{2})+/g, (m) => Buffer.from(m.replace(/=/g, ''), 'hex').toString('utf8'));
}

/**
 * The real clock moved back to 03:00 UTC of today, for servers whose tests count the emails an
 * alert sends: time still passes (the outbox backoff needs it), but an organisation in UTC never
 * reaches DIGEST_HOUR 7, so no daily digest joins those emails whatever hour the suite runs at.
 */
export function beforeDigestHour(): () => Date {
  const midnight = new Date();
  midnight.setUTCHours(0, 0, 0, 0);
  const shift = Date.now() - midnight.getTime() - 3 * 3_600_000;
  return () => new Date(Date.now() - shift);
}

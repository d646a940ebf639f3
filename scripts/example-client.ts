/**
 * A runnable walk through the live-attendance protocol (docs/protocol.md), as the demo teacher
 * and one demo student: open a session, watch the roster, read the code, join, check in at the
 * classroom, see the roster update, close.
 *
 *   node --import tsx scripts/example-client.ts --url http://localhost:3000
 *
 * Exits 0 when every step succeeds, 1 with a message on the first failure, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import type { Ack, ErrorBody } from '../src/shared/errors.js';
import type { ClientToServerEvents, RosterEntry, RosterSnapshot, RosterUpdates, ServerToClientEvents } from '../src/shared/events.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Command = keyof ClientToServerEvents;
type CommandInput<E extends Command> = Parameters<ClientToServerEvents[E]>[0];
type CommandData<E extends Command> = Parameters<ClientToServerEvents[E]>[1] extends (ack: Ack<infer T>) => void ? T : never;

const USAGE = `usage: node --import tsx scripts/example-client.ts [options]

  --url URL                 server base URL (default http://localhost:3000)
  --org SLUG                organisation slug (default demo)
  --subject CODE            subject code to open a session for (default CS101)
  --teacher EMAIL           teacher login (default ada@demo.school)
  --teacher-password PASS   (default teacher-demo-pass)
  --student EMAIL           student login (default student01@demo.school)
  --student-password PASS   (default student-demo-pass)
  --timeout MS              per-step timeout (default 10000)
  -h, --help                print this help
`;

/** A command answered `{ ok: false }`, or an HTTP call answered with an error body. */
class ProtocolError extends Error {
  constructor(
    readonly step: string,
    readonly body: ErrorBody,
  ) {
    super(`${step}: ${body.code}: ${body.message}${body.details ? ` ${JSON.stringify(body.details)}` : ''}`);
  }
}

interface Options {
  url: string;
  org: string;
  subject: string;
  teacher: string;
  teacherPassword: string;
  student: string;
  studentPassword: string;
  timeoutMs: number;
}

function readOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:3000' },
      org: { type: 'string', default: 'demo' },
      subject: { type: 'string', default: 'CS101' },
      teacher: { type: 'string', default: 'ada@demo.school' },
      'teacher-password': { type: 'string', default: 'teacher-demo-pass' },
      student: { type: 'string', default: 'student01@demo.school' },
      'student-password': { type: 'string', default: 'student-demo-pass' },
      timeout: { type: 'string', default: '10000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new TypeError('--timeout must be an integer of at least 100 (ms)');
  return {
    url: values.url.replace(/\/+$/, ''),
    org: values.org,
    subject: values.subject,
    teacher: values.teacher,
    teacherPassword: values['teacher-password'],
    student: values.student,
    studentPassword: values['student-password'],
    timeoutMs,
  };
}

function log(who: string, what: string, value?: unknown): void {
  const text = value === undefined ? '' : ` ${JSON.stringify(value, null, 2)}`;
  process.stdout.write(`[${who}] ${what}${text}\n`);
}

// ---- HTTP ---------------------------------------------------------------------------------

interface Login {
  accessToken: string;
  accessTokenExpiresAt: string;
  user: { id: string; name: string; role: string };
}

interface SubjectDto {
  id: string;
  code: string;
  name: string;
  location: { lat: number; lon: number; radiusM: number } | null;
}

async function http<T>(opts: Options, step: string, path: string, init: { token?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${opts.url}/api/v1${path}`, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    throw new Error(`${step}: cannot reach ${opts.url} (${unreachableReason(err)})`, { cause: err });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    throw new Error(`${step}: HTTP ${res.status}, body is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const error = (json as { error?: ErrorBody } | null)?.error;
    if (error) throw new ProtocolError(`${step} (HTTP ${res.status})`, error);
    throw new Error(`${step}: HTTP ${res.status}`);
  }
  return json as T;
}

/** Codes Node gives a TLS certificate it does not trust or that does not name the host. */
const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why a request got no answer, in words an operator can act on: fetch itself only says "fetch
 * failed", and the reason (refused, unknown host, an untrusted certificate) is in its cause.
 */
function unreachableReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  const why = typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  if (code && CERTIFICATE_CODES.has(code)) {
    return (
      `${why}: Node does not trust the server's certificate. One signed by the school's own root CA ` +
      `needs that root given to Node: NODE_EXTRA_CA_CERTS=/path/to/school-root.crt node --import tsx scripts/example-client.ts ...`
    );
  }
  return code && !why.includes(code) ? `${why} (${code})` : why;
}

function login(opts: Options, email: string, password: string): Promise<Login> {
  return http<Login>(opts, `login ${email}`, '/auth/login', { body: { email, password, organisation: opts.org } });
}

// ---- Socket.IO ----------------------------------------------------------------------------

/** Connects with the access token in the handshake `auth`; a refusal carries `err.data.code`. */
function connect(opts: Options, who: string, token: string): Promise<ClientSocket> {
  // The URL's path is the prefix a proxy publishes the service under (docs/deploy.md): it belongs
  // in the Socket.IO path, since socket.io-client reads a URL's path as a namespace.
  const base = new URL(opts.url);
  const socket: ClientSocket = io(base.origin, {
    path: `${base.pathname.replace(/\/+$/, '')}/socket.io`,
    auth: { token },
    transports: ['websocket'],
    // A demo run fails fast instead of retrying; a real client keeps reconnecting (see docs).
    reconnection: false,
    timeout: opts.timeoutMs,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('connect_error');
      log(who, `connected (socket ${socket.id ?? '?'})`);
      resolve(socket);
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.disconnect();
      const body = err.data as ErrorBody | undefined;
      if (body?.code) reject(new ProtocolError(`${who} connect`, body));
      // No coded refusal: the transport itself failed (wrong URL, or no Socket.IO at /socket.io).
      else reject(new Error(`${who} connect: ${err.message} (is Socket.IO served at ${opts.url}/socket.io?)`));
    });
  });
}

/** Sends one command and unwraps its acknowledgement; `{ ok: false }` and timeouts throw. */
async function command<E extends Command>(opts: Options, socket: ClientSocket, event: E, input: CommandInput<E>): Promise<CommandData<E>> {
  // socket.io's timeout() decoration loses the acknowledgement type; the event map restores it.
  const timed = socket.timeout(opts.timeoutMs);
  const emit = timed.emitWithAck.bind(timed) as (ev: E, payload: CommandInput<E>) => Promise<unknown>;
  let ack: Ack<CommandData<E>>;
  try {
    ack = (await emit(event, input)) as Ack<CommandData<E>>;
  } catch (err) {
    throw new Error(`${event}: no acknowledgement within ${opts.timeoutMs} ms (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
  if (!ack.ok) throw new ProtocolError(event, ack.error);
  return ack.data;
}

/** Records every event of one name from now on, so a push that beats an ack is not missed. */
function record<K extends keyof ServerToClientEvents>(socket: ClientSocket, event: K) {
  type Payload = Parameters<ServerToClientEvents[K]>[0];
  const seen: Payload[] = [];
  const waiters: { match: (p: Payload) => boolean; resolve: (p: Payload) => void }[] = [];
  const listener = (payload: Payload) => {
    seen.push(payload);
    for (const w of [...waiters]) {
      if (w.match(payload)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(payload);
      }
    }
  };
  (socket.on as (ev: K, fn: (p: Payload) => void) => void)(event, listener);
  return {
    seen,
    next(match: (p: Payload) => boolean, timeoutMs: number): Promise<Payload> {
      const already = seen.find(match);
      if (already !== undefined) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (p: Payload) => (clearTimeout(timer), resolve(p)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no ${event} event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}

/**
 * The teacher's copy of the roster, kept by the protocol's rules: an entry replaces the one
 * held when its recordVersion is newer; a roster version beyond the next one is a gap.
 */
class RosterMirror {
  version = 0;
  readonly entries = new Map<string, RosterEntry>();

  load(snapshot: RosterSnapshot): void {
    this.version = snapshot.version;
    this.entries.clear();
    for (const e of snapshot.entries) this.entries.set(e.studentId, e);
  }

  /** Applies a batch's changes in order; returns false on a version gap (the caller re-watches for a snapshot). */
  apply(batch: RosterUpdates): boolean {
    for (const update of batch.updates) {
      if (update.version > this.version + 1) return false;
      this.version = Math.max(this.version, update.version);
      const held = this.entries.get(update.entry.studentId);
      if (!held || update.entry.recordVersion > held.recordVersion) this.entries.set(update.entry.studentId, update.entry);
    }
    return true;
  }
}

// ---- The walk-through ---------------------------------------------------------------------

async function run(opts: Options): Promise<void> {
  const [teacher, student] = await Promise.all([
    login(opts, opts.teacher, opts.teacherPassword),
    login(opts, opts.student, opts.studentPassword),
  ]);
  log('teacher', `logged in as ${teacher.user.name} (${teacher.user.role}), token expires ${teacher.accessTokenExpiresAt}`);
  log('student', `logged in as ${student.user.name} (${student.user.role})`);

  const subjects = await http<{ items: SubjectDto[] }>(opts, 'list subjects', `/subjects?q=${encodeURIComponent(opts.subject)}`, {
    token: teacher.accessToken,
  });
  const subject = subjects.items.find((s) => s.code === opts.subject);
  if (!subject) throw new Error(`subject ${opts.subject} not found among the teacher's subjects`);
  if (!subject.location) throw new Error(`subject ${opts.subject} has no classroom location to check in at`);
  log('teacher', `subject ${subject.code} "${subject.name}" at`, subject.location);

  const tSocket = await connect(opts, 'teacher', teacher.accessToken);
  const sSocket = await connect(opts, 'student', student.accessToken);
  try {
    const rosterUpdates = record(tSocket, 'roster:updates');
    const decisions = record(sSocket, 'checkin:decision');
    const studentStatus = record(sSocket, 'session:status');
    const teacherStatus = record(tSocket, 'session:status');

    const session = await command(opts, tSocket, 'session:open', {
      subjectId: subject.id,
      policy: { geofence: true, rotatingCode: true },
    });
    log('teacher', 'session:open ->', session);

    const roster = new RosterMirror();
    const snapshot = await command(opts, tSocket, 'session:watch', { sessionId: session.id });
    roster.load(snapshot);
    log('teacher', `session:watch -> roster version ${snapshot.version}, ${snapshot.entries.length} students`, snapshot.counts);

    const code = await command(opts, tSocket, 'session:code', { sessionId: session.id });
    log('teacher', 'session:code ->', code);

    const active = await command(opts, sSocket, 'session:list-active', {});
    if (!active.some((s) => s.id === session.id)) throw new Error('session:list-active does not list the new session');
    log('student', `session:list-active -> ${active.length} session(s), including ${session.id}`);

    const joined = await command(opts, sSocket, 'session:join', { sessionId: session.id });
    log('student', 'session:join ->', { status: joined.session.status, checkin: joined.checkin });

    // A code read just before it rotated is still accepted for one more period.
    const checkin = await command(opts, sSocket, 'checkin:submit', {
      sessionId: session.id,
      location: { lat: subject.location.lat, lon: subject.location.lon, accuracy: 12, timestamp: Date.now() },
      code: code.code,
    });
    log('student', 'checkin:submit ->', checkin);
    if (checkin.status !== 'present' && checkin.status !== 'late') {
      throw new Error(`expected the check-in to be accepted, got ${checkin.status} (${String(checkin.reason)})`);
    }

    const batch = await rosterUpdates.next(
      (b) => b.sessionId === session.id && b.updates.some((u) => u.entry.studentId === student.user.id),
      opts.timeoutMs,
    );
    if (!roster.apply(batch)) {
      log('teacher', `roster version gap (held ${roster.version}): re-watching`);
      roster.load(await command(opts, tSocket, 'session:watch', { sessionId: session.id }));
    }
    log('teacher', 'roster:updates ->', batch);
    const decision = await decisions.next((d) => d.sessionId === session.id, opts.timeoutMs);
    log('student', `checkin:decision -> ${decision.status}`);

    const closed = await command(opts, tSocket, 'session:close', { sessionId: session.id });
    log('teacher', 'session:close ->', { status: closed.session.status, closedAt: closed.session.closedAt, counts: closed.counts });
    // A large class on a slow store is answered while still closing; session:status says when it is done.
    if (closed.session.status === 'closing') {
      const done = await teacherStatus.next((s) => s.id === session.id && s.status === 'closed', opts.timeoutMs);
      log('teacher', `session:status -> ${done.status}`);
    } else if (closed.session.status !== 'closed') throw new Error(`expected a closed session, got ${closed.session.status}`);
    const status = await studentStatus.next((s) => s.id === session.id && s.status === 'closed', opts.timeoutMs);
    log('student', `session:status -> ${status.status}`);
    log('teacher', `roster:updates messages received: ${rosterUpdates.seen.length} (closing records every other student absent)`);
  } finally {
    tSocket.disconnect();
    sSocket.disconnect();
  }
}

async function main(): Promise<number> {
  let opts: Options | null;
  try {
    opts = readOptions();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    await run(opts);
    log('done', 'every step succeeded');
    return 0;
  } catch (err) {
    process.stderr.write(`example-client failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main();

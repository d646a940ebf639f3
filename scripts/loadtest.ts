/**
 * Load generator for several nodes (not a test). Run with --help for the flags.
 *
 *   node --import tsx scripts/loadtest.ts --nodes 2 --rooms 20 --students 100
 *
 * Loopback only. Starts its own redis-server and node processes (src/index.ts) over one
 * temporary SQLite file, seeds rooms and students straight into the store, signs student
 * tokens with the nodes' JWT secret (no logins), and then drives socket.io clients.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { io as connect, type Socket } from 'socket.io-client';
import { JwtTokenSigner } from '../src/adapters/jwt-token-signer.js';
import { loadConfig } from '../src/config.js';
import type { Ack } from '../src/shared/errors.js';
import { loadFaceConfig } from '../src/face/face-config.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { User } from '../src/domain/ports/users.js';
import { batchSizes, stageTable, stageTableText, type GeneratorTimes } from './lib/checkin-stages-table.js';
import { writerThreadTable } from './lib/writer-thread-table.js';
import { gcTimelineTable, readGcTimeline } from './lib/gc-timeline-table.js';
import { startNodeProcess, startRedis, waitReadyz, type NodeProcess } from './lib/loadtest-cluster.js';
import {
  expectedOutcome,
  impostorsIn,
  prepareReferenceFaces,
  seedEnrolments,
  selfieOf,
  type ReferenceFaces,
} from './lib/loadtest-faces.js';
import { report, type RunResult } from './lib/loadtest-report.js';
import { renderHtml } from './lib/loadtest-html.js';
import { buildSummary, type RunSummary } from './lib/loadtest-summary.js';
import { cpuByThreadName, cpuSecondsOf, sampleNodes, threadDelta, Timeline } from './lib/loadtest-timeline.js';
import { SELFIE_POLICY, SelfieStats, submitSelfie } from './lib/loadtest-selfies.js';
import { MAX_SCREENS, RosterLatency, ScreenArrivals } from './lib/loadtest-roster.js';
import { RosterFrameReader } from './lib/roster-frames.js';
import { Senders, type SenderData, type SenderEntry, type SenderTotals } from './lib/loadtest-senders.js';
import { repoRoot } from './lib/repo-root.js';
import { InFlight } from './lib/in-flight.js';
import { CheckinFrames, LeanClients, type LeanSocket } from './lib/lean-socket.js';

const HELP = `usage: node --import tsx scripts/loadtest.ts [flags]

  --nodes N         node processes to start (default 2)
  --urls A,B        target running nodes instead (http or https; loopback only unless
                    --i-own-these-hosts); they must share the SQLite file given with --sqlite
                    and the JWT_SECRET in this environment; with METRICS_TOKEN in this
                    environment their event-loop lag is read from /metrics
  --i-own-these-hosts  allow --urls that are not loopback: only hosts you operate
  --sqlite PATH     with --urls: the nodes' SQLITE_PATH, seeded by this script
  --redis URL       use this Redis instead of starting a redis-server
  --rooms R         rooms (subjects, one teacher each) (default 10)
  --students S      students per room, one socket each (default 100)
  --screens T       teacher screens per room, spread over the nodes (default 2, at most 31)
  --rate C          check-ins per second to offer, open loop: submissions leave on schedule
                    whether or not earlier ones were answered (default 0 = closed loop;
                    with --selfies 4 per face worker: nodes x face threads x 4)
  --closed-loop     --window submitters, each sending its next check-in when the previous one
                    is answered (the same as --rate 0; refused together with a --rate above 0)
  --duration D      check-in phase bound in seconds; with --rate, the run offers C x D
                    check-ins, opening more sessions per room when R x S is smaller (at most
                    200 per room) (default 10)
  --window W        check-ins in flight at most; a selfie check-in is in flight until its
                    verdict (default 500)
  --senders N       worker threads that hold the student sockets, send the check-ins and read
                    their acknowledgements, a room's students on one thread, so that the
                    generator's own loop (the screens, the figures) delays neither (default 1;
                    0 = all on the one loop, as before round 24); open loop without --selfies
                    only, else 0
  --client K        the Socket.IO client of the screens and students: lean (default; the
                    load generator's own, scripts/lib/lean-socket.ts: the same wire protocol
                    over one WebSocket, pre-encoded check-ins, acknowledgements read by id, one
                    timeout timer for all; a socket reconnects when its connection drops) or
                    socketio (socket.io-client, for checking; the default with --selfies, which
                    lean cannot send). Both give the same node-side figures while no
                    connection drops (lean reconnects a dropped socket and counts its check-ins
                    in flight DISCONNECTED; socket.io-client here stays down and times them
                    out after 15 s, as lean does unanswered ones); lean costs the
                    generator a quarter to two fifths less CPU per check-in (docs/multi-node.md,
                    round 31). Lean screens read each roster:updates frame by a scan for the
                    session and each update's version, student id and status, not a full
                    JSON.parse; the first frame and every 64th are parsed in full as well and
                    compared, and a difference (the server's format moved) is printed and
                    turns the scan off for the rest of the run (round 32)
  --hold H          seconds all sockets stay connected before RSS is read (default 3)
  --no-baseline     skip the comparison run with the same load on one node without Redis
  --timeout T       whole-run bound in seconds; everything is stopped after it (default 300)
  --out DIR         also write DIR/summary.json (per second: offered, sent and achieved
                    check-ins, ack and roster latency percentiles, errors by code; per node:
                    CPU, RSS and event-loop lag; the load generator's own CPU and lag) and
                    DIR/report.html (charts drawn with uPlot, inlined: opens offline)
  --cpu-prof DIR    run the started nodes under node --cpu-prof, each writing
                    DIR/CPU.<date>.<time>.<pid>...cpuprofile at its shutdown (or
                    LOADTEST_CPU_PROF=DIR);
                    print the heaviest frames with scripts/profile-top.ts
  --stages DIR      time every check-in's stages (the nodes with CHECKIN_STAGES_FILE, the
                    generator on its own clock) and print where an acknowledgement's time went:
                    p50/p90/p99 per stage, and of the record writer's transactions: on a
                    core, waiting for one (run queue), blocked; batch size, WAL frames,
                    checkpoint overlap (Linux schedstat); also written to DIR/<run>-stages.md,
                    each transaction to DIR/<run>-writer-transactions.csv
  --gc DIR          record each started node's garbage collections per second (the nodes
                    preload scripts/lib/gc-timeline.ts) and print them beside the ack and
                    roster p99 of the same second, with the node's turns of 30 ms or more (a
                    1 ms timer) and the generator's own lag and collection pauses; also
                    written to DIR/<run>-load-<i>-gc.md; with --cpu-prof,
                    scripts/long-turns.ts names the frames of each long turn
  --node-flags=F    node options for the started nodes, space-separated, e.g.
                    --node-flags='--max-semi-space-size=32 --v8-pool-size=1' (with the =: the
                    value starts with --) (or LOADTEST_NODE_FLAGS=F);
                    the single-node baseline gets them too; they come after the
                    service's own (--max-semi-space-size=64, as npm start), so
                    --node-flags=--max-semi-space-size=16 measures V8's default
  --help            this text

Selfies (the nodes then run with FACE_ENABLED=true):
  --selfies         send selfies in the rooms whose sessions require one
  --selfie-share P  fraction of the rooms whose session policy requires a selfie (default 1)
  --face-threads N  face workers per node (FACE_POOL_SIZE; default: FACE_POOL_SIZE from the
                    environment, else 1); other FACE_* variables reach the nodes unchanged
  --impostor-every N  every Nth student of a room sends another person's photo (default 20;
                    0 = none)
  --busy-attempts A submits per check-in while the answer is BUSY; waits details.retryAfterMs
                    between them (default 5)
  --faces-dir DIR   LFW folders, one per person (default ../shared/faces/lfw-devtrain)
                    With --urls the nodes must already run with FACE_ENABLED=true.

  Reference faces: K = min(students, 50) people with two usable images, analysed once in this
  process (2 face threads) before the nodes start; student i of every selfie room is enrolled
  as person i % K (image 1, written straight into the store) and sends image 2. Impostors
  send a photo of someone enrolled as nobody and far from every enrolled face, and should be
  rejected FACE_MISMATCH. With more than K students a person repeats in a room, and the later
  student is likely flagged POSSIBLE_PROXY.
  A worker decides about 9 selfies/s when it has a core to itself; offer no more than the
  pools can decide (workers x ~9/s, and no more workers than cores) or the queues fill and
  answers turn BUSY. The single-node baseline gets the same offered rate with one node's workers.
  Reports, besides the above: verification latency p50/p95/p99 (submit to the student's
  checkin:decision with verifying false), outcomes (present FACE_MATCH, rejected
  FACE_MISMATCH, pending with its reason), the outcomes expected from the load generator's own
  distances, and BUSY acks. RSS then includes the face workers and their models.

Without --selfies no selfie is sent (the face pipeline has its own benchmark, scripts/bench-face.ts).
The script raises its soft open-files limit to the hard one when the sockets need it.
Reports connected sockets, check-ins/s, ack p50/p95/p99, errors, the nodes' CPU per acknowledged
check-in over the check-ins with each node's share of a core (on a shared machine the figure that
compares two builds: rates and latencies follow the share), RSS per node and per
connection, and the roster: p50/p95/p99 from the submit to the last teacher screen of the room
(what people see: it includes the wait for the group commit), p50/p95/p99 from the check-in's
acknowledgement to that screen (what the roster path adds once the record is stored: the ack
leaves only after storage; mostly the session's ROSTER_BATCH_MS window), and roster:updates
messages per screen per second. --stages adds stored -> screen on the node's own clock.
`;

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '2' },
    urls: { type: 'string' },
    sqlite: { type: 'string' },
    redis: { type: 'string' },
    rooms: { type: 'string', default: '10' },
    students: { type: 'string', default: '100' },
    screens: { type: 'string', default: '2' },
    rate: { type: 'string' },
    duration: { type: 'string', default: '10' },
    window: { type: 'string', default: '500' },
    hold: { type: 'string', default: '3' },
    senders: { type: 'string', default: '1' },
    client: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    'closed-loop': { type: 'boolean', default: false },
    'i-own-these-hosts': { type: 'boolean', default: false },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'node-flags': { type: 'string' },
    stages: { type: 'string' },
    gc: { type: 'string' },
    timeout: { type: 'string', default: '300' },
    selfies: { type: 'boolean', default: false },
    'selfie-share': { type: 'string', default: '1' },
    'face-threads': { type: 'string' },
    'impostor-every': { type: 'string', default: '20' },
    'busy-attempts': { type: 'string', default: '5' },
    'faces-dir': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const int = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer >= ${min}\n`);
    process.exit(1);
  }
  return n;
};
if (args['closed-loop'] && args.rate !== undefined && Number(args.rate) > 0) {
  process.stderr.write('--closed-loop and --rate above 0 exclude each other\n');
  process.exit(1);
}
const faceThreads = args.selfies ? int('face-threads', args['face-threads'] ?? process.env['FACE_POOL_SIZE'] ?? '1', 1) : 0;
const nodeCount = int('nodes', args.nodes, 1);
const opts = {
  nodes: nodeCount,
  rooms: int('rooms', args.rooms, 1),
  students: int('students', args.students, 1),
  screens: int('screens', args.screens, 1),
  rate: args['closed-loop'] ? 0 : int('rate', args.rate ?? String(args.selfies ? 4 * faceThreads * nodeCount : 0), 0),
  duration: int('duration', args.duration, 1),
  window: int('window', args.window, 1),
  hold: int('hold', args.hold, 0),
  senders: int('senders', args.senders, 0),
  timeout: int('timeout', args.timeout, 10),
};
if (opts.screens > MAX_SCREENS) {
  process.stderr.write(`--screens must be at most ${MAX_SCREENS}\n`);
  process.exit(1);
}
const selfieShare = Number(args['selfie-share']);
if (!(selfieShare >= 0 && selfieShare <= 1)) {
  process.stderr.write('--selfie-share must be a number from 0 to 1\n');
  process.exit(1);
}
const selfie = {
  on: args.selfies,
  // At least one selfie room when any share is asked for, so a small run still sends selfies.
  rooms: args.selfies ? Math.min(opts.rooms, Math.max(selfieShare > 0 ? 1 : 0, Math.round(selfieShare * opts.rooms))) : 0,
  impostorEvery: int('impostor-every', args['impostor-every'], 0),
  attempts: int('busy-attempts', args['busy-attempts'], 1),
  people: Math.min(opts.students, 50),
};
const clientArg = args.client ?? (args.selfies ? 'socketio' : 'lean');
if (clientArg !== 'lean' && clientArg !== 'socketio') {
  process.stderr.write('--client must be lean or socketio\n');
  process.exit(1);
}
if (clientArg === 'lean' && args.selfies) {
  process.stderr.write('--client lean does not send binary attachments: --selfies needs --client socketio\n');
  process.exit(1);
}
/** Which Socket.IO client speaks for the screens and the students. */
const client: 'lean' | 'socketio' = clientArg;
/** The first `selfie.rooms` rooms require a selfie. */
const isSelfieRoom = (r: number) => r < selfie.rooms;
const urls = args.urls
  ? args.urls
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean)
  : null;
for (const u of urls ?? []) {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    process.stderr.write(`--urls: ${u} is not a URL\n`);
    process.exit(1);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    process.stderr.write(`--urls: ${u} is neither http nor https\n`);
    process.exit(1);
  }
  // Load is an attack on hosts one does not run: loopback, or the operator's word for it.
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname) && !args['i-own-these-hosts']) {
    process.stderr.write(`refusing ${u}: the load generator targets loopback only, unless --i-own-these-hosts says you operate it\n`);
    process.exit(1);
  }
}
if (urls && (!args.sqlite || !process.env['JWT_SECRET'])) {
  process.stderr.write("--urls needs --sqlite PATH (the nodes' SQLITE_PATH) and JWT_SECRET in the environment\n");
  process.exit(1);
}

const cpuProfArg = args['cpu-prof'] ?? process.env['LOADTEST_CPU_PROF'];
const cpuProfDir = cpuProfArg ? path.resolve(cpuProfArg) : null;
if (cpuProfDir && urls) {
  process.stderr.write('--cpu-prof profiles the nodes this script starts; it cannot profile --urls\n');
  process.exit(1);
}
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
const stagesDir = args.stages ? path.resolve(args.stages) : null;
if (stagesDir) mkdirSync(stagesDir, { recursive: true });
const gcDir = args.gc ? path.resolve(args.gc) : null;
if (gcDir && urls) {
  process.stderr.write('--gc records the nodes this script starts; it cannot record --urls\n');
  process.exit(1);
}
if (gcDir) mkdirSync(gcDir, { recursive: true });
const slug = (label: string) => label.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
const nodeFlags = (args['node-flags'] ?? process.env['LOADTEST_NODE_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
if (nodeFlags.length > 0 && urls) {
  process.stderr.write('--node-flags apply to the nodes this script starts; it cannot change --urls\n');
  process.exit(1);
}

const reexeced = raiseOpenFilesLimit(opts.rooms * (opts.students + opts.screens) * (urls ? 1 : 2) + 1_000);

const root = repoRoot(import.meta.url);
const ROOM = { lat: 52.2297, lon: 21.0122, radiusM: 100 };
/**
 * Sessions per room at most (each student checks in once per session): 60 s at 5,000/s over
 * 20 rooms of 100 needs 150. Each is an open session the screens watch, a few hundred bytes of
 * the node's memory; the cap keeps a mistyped --rate from opening sessions for minutes.
 */
const MAX_ROUNDS = 200;
const SECRET = process.env['JWT_SECRET'] ?? `loadtest-${Math.random().toString(36).slice(2)}-0123456789abcdefghij`;
const cleanups: (() => Promise<void>)[] = [];
const sockets = new Set<Socket>();
/** --client lean: the run's sockets; their answers go to the run that is under way. */
let answerHandler: (id: number, at: number, code: string | null) => void = () => undefined;
const lean = new LeanClients((id, at, code) => answerHandler(id, at, code));

/** What the run asks of a teacher screen, whichever client speaks for it. */
interface Screen {
  request<T>(event: string, payload: unknown): Promise<Ack<T>>;
  /** Each `roster:updates` push, read into the run's one reader (the listener reads it at once). */
  onRoster(listener: (batch: RosterFrameReader) => void): void;
}

/**
 * The screens' roster pushes, read by the scan with every ROSTER_CHECK_EVERY-th frame also
 * parsed in full and compared (scripts/lib/roster-frames.ts); socket.io-client's parsed batches
 * are copied into it.
 */
const ROSTER_CHECK_EVERY = 64;
let rosterReader = new RosterFrameReader(ROSTER_CHECK_EVERY);

async function connectScreen(url: string, token: string): Promise<Screen> {
  if (client === 'lean') {
    const s = await lean.connect(url, token);
    return {
      request: (event, payload) => s.request(event, payload),
      onRoster: (listener) =>
        s.onRaw('roster:updates', (text) => {
          if (rosterReader.read(text)) listener(rosterReader);
        }),
    };
  }
  const s = await connectSocket(url, token);
  return {
    request: (event, payload) => emitAck(s, event, payload),
    onRoster: (listener) =>
      void s.on('roster:updates', (batch) => {
        rosterReader.fill(batch);
        listener(rosterReader);
      }),
  };
}

/**
 * Re-executes this script under `ulimit -n <hard>` when the soft limit is too low for the
 * sockets (Node cannot raise its own limit). True when the child now does the run.
 */
function raiseOpenFilesLimit(needed: number): boolean {
  const read = (flag: string) => Number(spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim());
  const soft = read('-Sn');
  const hard = read('-Hn');
  if (!(soft < needed)) return false;
  if (process.env['LOADTEST_REEXEC'] || !(hard > soft)) {
    process.stderr.write(`warning: open files limit ${soft} (hard ${hard}) is below the ~${needed} this run needs\n`);
    return false;
  }
  process.stderr.write(`raising the open files limit from ${soft} to ${hard}\n`);
  const child = spawn(
    'sh',
    ['-c', `ulimit -n ${hard} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
      env: { ...process.env, LOADTEST_REEXEC: '1' },
    },
  );
  child.on('exit', (code) => process.exit(code ?? 1));
  return true;
}

interface Seeded {
  teachers: User[];
  subjectIds: string[];
  students: User[][];
}

async function seed(sqlitePath: string, faces: ReferenceFaces | null): Promise<Seeded> {
  const store = await createSqliteStore({ path: sqlitePath });
  try {
    const org = await store.organisations.create({ name: 'Load test', slug: `load-${Date.now()}`, timezone: 'UTC' });
    const teachers: User[] = [];
    const subjectIds: string[] = [];
    const students: User[][] = [];
    for (let r = 0; r < opts.rooms; r += 1) {
      const teacher = await store.users.create(org.id, {
        email: `t${r}@load.test`,
        name: `Teacher ${r}`,
        role: 'teacher',
        studentNumber: null,
        passwordHash: null,
        active: true,
      });
      const roomStudents = await store.users.createMany(
        org.id,
        Array.from({ length: opts.students }, (_, i) => ({
          email: `s${r}-${i}@load.test`,
          name: `Student ${r}-${i}`,
          role: 'student' as const,
          studentNumber: `N${r}-${i}`,
          passwordHash: null,
          active: true,
        })),
      );
      const subject = await store.subjects.create(org.id, {
        code: `L${r}`,
        name: `Room ${r}`,
        teacherIds: [teacher.id],
        location: ROOM,
        allowedIpRanges: [],
      });
      await store.subjects.enrol(
        org.id,
        subject.id,
        roomStudents.map((s) => s.id),
      );
      if (faces && isSelfieRoom(r)) await seedEnrolments(store, org.id, roomStudents, faces);
      teachers.push(teacher);
      subjectIds.push(subject.id);
      students.push(roomStudents);
    }
    return { teachers, subjectIds, students };
  } finally {
    await store.close();
  }
}

function connectSocket(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 20_000 });
    sockets.add(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => reject(err));
  });
}

async function emitAck<T>(s: Socket, event: string, payload: unknown): Promise<Ack<T>> {
  return (await s.timeout(15_000).emitWithAck(event, payload)) as Ack<T>;
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(100)}`);
  else process.stderr.write(`${line}\n`);
}
const endProgress = () => process.stderr.isTTY && process.stderr.write('\n');

async function run(
  label: string,
  nodeCount: number,
  redisUrl: string | null,
  faces: ReferenceFaces | null,
): Promise<{ result: RunResult; summary: RunSummary }> {
  // Our nodes serve /metrics for this token (event-loop lag); given nodes, for the operator's.
  const metricsToken = urls ? (process.env['METRICS_TOKEN'] ?? null) : randomBytes(24).toString('base64url');
  const dir = mkdtempSync(path.join(tmpdir(), 'loadtest-'));
  const stopDir = async () => rmSync(dir, { recursive: true, force: true });
  cleanups.push(stopDir);
  const sqlitePath = urls ? args.sqlite! : path.join(dir, 'load.db');
  rosterReader = new RosterFrameReader(ROSTER_CHECK_EVERY);
  progress(`[${label}] seeding ${opts.rooms} rooms x ${opts.students} students`);
  const seeded = await seed(sqlitePath, faces);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    SQLITE_PATH: sqlitePath,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '4',
    JWT_SECRET: SECRET,
    ...(metricsToken ? { METRICS_TOKEN: metricsToken } : {}),
    CHECKIN_RATE_PER_MINUTE: '600',
    // A teacher screen opens and watches up to MAX_ROUNDS sessions per room before the load.
    SOCKET_HEAVY_RATE_PER_MINUTE: '10000',
    // Every simulated client connects from this one address.
    SOCKET_CONNECT_RATE_PER_MINUTE: '1000000',
    SOCKET_CONNECT_USER_RATE_PER_MINUTE: '1000000',
    // Without selfies the face worker pool would only add its model memory to the RSS.
    ...(faces ? { FACE_ENABLED: 'true', FACE_POOL_SIZE: String(faceThreads) } : { FACE_ENABLED: 'false' }),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
  const nodes: NodeProcess[] = [];
  const stageFiles: string[] = [];
  const gcFiles: string[] = [];
  /** --stages: each check-in's offered, sent and acknowledged times (absolute ms), by `${sessionId}/${studentId}`. */
  const generatorTimes = new Map<string, GeneratorTimes>();
  const stopNodes = async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  };
  cleanups.push(stopNodes);
  if (!urls) {
    for (let i = 0; i < nodeCount; i += 1) {
      progress(`[${label}] starting node ${i + 1}/${nodeCount}`);
      const stagesFile = stagesDir ? path.join(stagesDir, `${slug(label)}-load-${i}.json`) : null;
      if (stagesFile) stageFiles.push(stagesFile);
      const gcFile = gcDir ? path.join(gcDir, `${slug(label)}-load-${i}.jsonl`) : null;
      if (gcFile) gcFiles.push(gcFile);
      nodes.push(
        await startNodeProcess(
          root,
          `load-${i}`,
          { ...env, ...(stagesFile ? { CHECKIN_STAGES_FILE: stagesFile } : {}), ...(gcFile ? { GC_TIMELINE_FILE: gcFile } : {}) },
          cpuProfDir,
          nodeFlags,
          gcFile ? [path.join(root, 'scripts/lib/gc-timeline.ts')] : [],
        ),
      );
    }
  }
  const targets = urls ?? nodes.map((n) => n.url);
  if (faces) {
    progress(`[${label}] waiting for the face models on ${targets.length} node(s)`);
    await Promise.all(targets.map((u) => waitReadyz(u, 120_000)));
  }
  const idle = nodes.map((n) => n.rss());
  // Day-long tokens: a socket is never cut by expiry mid-measurement.
  const tokens = new JwtTokenSigner(loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET, ACCESS_TOKEN_TTL_S: '86400' }).jwt);
  const perNode = targets.map(() => 0);
  const place = (k: number) => {
    const at = k % targets.length;
    perNode[at] = (perNode[at] ?? 0) + 1;
    return targets[at]!;
  };

  // Connect: teacher screens first (spread so a room's screens sit on different nodes), then students.
  let connected = 0;
  let connectErrors = 0;
  const screens: Screen[][] = [];
  const studentSockets: (Socket | null)[][] = [];
  /** --client lean without senders: the students' sockets. */
  const leanStudents: (LeanSocket | null)[][] = [];
  const total = opts.rooms * (opts.students + opts.screens);
  // Sender threads: open loop without selfies (a selfie's retries stay on this loop).
  const senderCount = opts.rate > 0 && !faces ? Math.min(opts.senders, opts.rooms) : 0;
  const shares: SenderData[] = Array.from({ length: senderCount }, () => ({
    senders: senderCount,
    sockets: [],
    rate: opts.rate,
    durationMs: opts.duration * 1_000,
    window: Math.ceil(opts.window / senderCount),
    location: { lat: ROOM.lat, lon: ROOM.lon, accuracy: 15 },
    flushMs: 10,
    client,
  }));
  /** With senders: the place of student i of room r among its thread's sockets. */
  const slotOf: number[][] = [];
  let senders: Senders | null = null;
  const ticker = setInterval(() => progress(`[${label}] connected ${connected}/${total}, errors ${connectErrors}`), 1_000);
  try {
    for (let r = 0; r < opts.rooms; r += 1) {
      const token = tokens.signAccess(seeded.teachers[r]!).token;
      screens.push(await Promise.all(Array.from({ length: opts.screens }, (_, j) => connectScreen(place(r + j), token))));
      connected += opts.screens;
    }
    const jobs: (() => Promise<void>)[] = [];
    for (let r = 0; r < opts.rooms && senderCount > 0; r += 1) {
      const share = shares[r % senderCount]!;
      slotOf.push(
        Array.from({ length: opts.students }, (_, i) => {
          share.sockets.push({ url: place(r * opts.students + i), token: tokens.signAccess(seeded.students[r]![i]!).token });
          return share.sockets.length - 1;
        }),
      );
    }
    if (senderCount > 0) {
      senders = new Senders(shares, {
        connected: (n) => (connected += n),
        sent: (index, at) => onSent(index, at),
        answered: (index, at, code) => onAnswered(index, at, code),
      });
      const stopSenders = senders;
      cleanups.push(() => stopSenders.stop());
      connectErrors += await senders.connectedAll();
    }
    for (let r = 0; r < opts.rooms && senderCount === 0; r += 1) {
      studentSockets.push(new Array<Socket | null>(opts.students).fill(null));
      leanStudents.push(new Array<LeanSocket | null>(opts.students).fill(null));
      for (let i = 0; i < opts.students; i += 1) {
        const url = place(r * opts.students + i);
        const token = tokens.signAccess(seeded.students[r]![i]!).token;
        jobs.push(async () => {
          try {
            // A phone reconnects when its connection drops; what it had in flight is told DISCONNECTED.
            if (client === 'lean') leanStudents[r]![i] = await lean.connect(url, token, { reconnect: true, reconnectDelayMs: 1_000 });
            else studentSockets[r]![i] = await connectSocket(url, token);
            connected += 1;
          } catch {
            connectErrors += 1;
          }
        });
      }
    }
    await pool(jobs, 200);
  } finally {
    clearInterval(ticker);
  }
  progress(`[${label}] connected ${connected}/${total}, errors ${connectErrors}`);
  endProgress();

  // Sessions: enough per room for the offered check-ins (each student checks in once per session).
  const roomSize = opts.rooms * opts.students;
  const offered = opts.rate > 0 ? opts.rate * opts.duration : roomSize;
  const rounds = Math.min(MAX_ROUNDS, Math.max(1, Math.ceil(offered / roomSize)));
  if (rounds * roomSize < offered)
    progress(`[${label}] ${MAX_ROUNDS} sessions per room: the run ends after ${rounds * roomSize} check-ins\n`);
  // The rooms open their sessions at once, each room's in turn (its screens watch each as it opens).
  const sessions: string[][] = await Promise.all(
    Array.from({ length: opts.rooms }, async (_, r) => {
      const ids: string[] = [];
      for (let k = 0; k < rounds; k += 1) {
        const opened = await screens[r]![0]!.request<{ id: string }>('session:open', {
          subjectId: seeded.subjectIds[r],
          policy: faces && isSelfieRoom(r) ? SELFIE_POLICY : { geofence: true, rotatingCode: false, network: false },
          // Rounds of one room are sessions of one subject at once: confirmed parallel.
          parallel: true,
        });
        if (!opened.ok) throw new Error(`session:open: ${opened.error.code}`);
        ids.push(opened.data.id);
        for (const screen of screens[r]!) {
          const watched = await screen.request('session:watch', { sessionId: opened.data.id });
          if (!watched.ok) throw new Error(`session:watch: ${watched.error.code}`);
        }
      }
      return ids;
    }),
  );

  await new Promise((r) => setTimeout(r, opts.hold * 1_000));
  const loaded = nodes.map((n) => n.rss());
  const rss = nodes.map((n, k) => ({ name: n.name, idle: idle[k]!, loaded: loaded[k]!, connections: perNode[k]! }));

  // Propagation: from the submit to the last screen of the room that shows it.
  // With senders a screen may show a check-in before its thread has reported the send.
  const pending = new ScreenArrivals<number>(senders !== null);
  const propagation: number[] = [];
  function shown(index: number, screen: number, at: number): void {
    const worst = pending.shown(index, screen, at);
    if (worst !== null) complete(index, worst, at);
  }
  /** Every screen of the room showed `key`, the last at `at`, `worst` after its submit. */
  function complete(index: number, worst: number, at: number): void {
    timeline.roster(at, worst);
    const traced = stagesDir ? generatorTimes.get(keyOf(index)) : undefined;
    if (traced) traced.screen = performance.timeOrigin + at;
    propagation.push(worst);
    rosterLatency.shown(index, at);
  }
  const timeline = new Timeline(performance.now());
  const rosterLatency = new RosterLatency<number>(performance.now());
  // A check-in is known by its plan index (below), found from the pushed session and student
  // ids by two lookups: no key string per entry, and numbers for the pairing's maps.
  const sessionSlot = new Map<string, number>();
  sessions.forEach((ids, r) => ids.forEach((id, k) => sessionSlot.set(id, k * opts.rooms + r)));
  const studentSlot = new Map<string, number>();
  for (const roomStudents of seeded.students) roomStudents.forEach((s, i) => studentSlot.set(s.id, i));
  let screenNo = 0;
  for (const roomScreens of screens) {
    roomScreens.forEach((screen, j) => {
      const thisScreen = screenNo++;
      screen.onRoster((batch) => {
        const now = performance.now();
        rosterLatency.message(thisScreen, now);
        const slot = sessionSlot.get(batch.sessionId);
        if (slot === undefined) return;
        // plan index = (k x students + i) x rooms + r, with slot = k x rooms + r
        const r = slot % opts.rooms;
        const base = (slot - r) * opts.students + r;
        for (let u = 0; u < batch.count; u += 1) {
          const i = studentSlot.get(batch.studentIds[u]!);
          if (i !== undefined) shown(base + i * opts.rooms, j, now);
        }
      });
    });
  }

  const plan: { r: number; i: number; k: number }[] = [];
  for (let k = 0; k < rounds; k += 1)
    for (let i = 0; i < opts.students; i += 1) for (let r = 0; r < opts.rooms; r += 1) plan.push({ r, i, k });
  const toOffer = Math.min(plan.length, offered);
  const ack: number[] = [];
  const errors = new Map<string, number>();
  const countError = (code: string): void => {
    errors.set(code, (errors.get(code) ?? 0) + 1);
  };
  let launched = 0;
  let acked = 0;
  let inFlight = 0;
  const cpuNodes = urls ? [] : nodes.map((n) => ({ name: n.name, pid: n.child.pid ?? null }));
  const cpuOf = () => cpuNodes.map((n) => (n.pid === null ? null : cpuSecondsOf(n.pid)));
  const threadsOf = () => cpuNodes.map((n) => (n.pid === null ? null : cpuByThreadName(n.pid)));
  const cpuAtStart = cpuOf();
  const threadsAtStart = threadsOf();
  const start = performance.now();
  const wallStart = Date.now();
  timeline.start = start;
  const stopSampling = sampleNodes(
    timeline,
    urls
      ? urls.map((u) => ({ name: u, url: u, pid: null, rss: () => Number.NaN }))
      : nodes.map((n) => ({ name: n.name, url: n.url, pid: n.child.pid ?? null, rss: () => n.rss() })),
    metricsToken,
  );
  let scheduled = 0;
  const end = start + opts.duration * 1_000;
  const selfieStats = faces ? new SelfieStats() : null;

  /** One selfie check-in of student `i`: BUSY retries restart the propagation clock, as nothing was stored. */
  function submitOneSelfie(
    refs: ReferenceFaces,
    stats: SelfieStats,
    socket: Socket,
    sessionId: string,
    i: number,
    index: number,
    screenCount: number,
  ): Promise<void> {
    stats.expect(expectedOutcome(refs, i, selfie.impostorEvery));
    const bytes = selfieOf(refs, i, selfie.impostorEvery);
    return submitSelfie({
      socket,
      sessionId,
      payload: () => ({
        sessionId,
        location: { lat: ROOM.lat, lon: ROOM.lon, accuracy: 15, timestamp: Date.now() },
        selfie: bytes,
      }),
      attempts: selfie.attempts,
      stats,
      emitAck,
      onAttempt: () => pending.expect(index, performance.now(), screenCount),
      onAck: (ms, ok) => {
        // A BUSY answer stored nothing: the pairing waits for the acknowledgement that stored it.
        if (ok) rosterLatency.acked(index, performance.now());
        ack.push(ms);
        timeline.latency(performance.now(), ms);
      },
    }).then((result) => {
      timeline.answered(performance.now(), null, result.acked ? null : result.code);
      if (result.acked) acked += 1;
      else countError(result.code);
      // A check-in refused BUSY stored nothing: no screen will ever show it.
      if (!result.acked && result.code === 'BUSY') pending.drop(index);
    });
  }

  const selfieProgress = () => (selfieStats ? `, decided ${selfieStats.decided}, BUSY ${selfieStats.busyAcks}` : '');
  const loadTicker = setInterval(() => {
    const s = (performance.now() - start) / 1000;
    progress(
      `[${label}] ${s.toFixed(0)}s submitted ${launched}/${toOffer}, acked ${acked}${selfieProgress()}, in flight ${inFlight}, errors ${[...errors.values()].reduce((a, b) => a + b, 0)}`,
    );
  }, 1_000);
  const inflight = new InFlight();
  /** With senders or the lean client: each plan entry's send time (this thread's clock), NaN until sent. */
  const sentAt = new Float64Array(senders || client === 'lean' ? toOffer : 0).fill(Number.NaN);
  /** --stages: the check-in's key in the nodes' stage files. */
  const keyOf = (index: number): string => {
    const { r, i, k } = plan[index]!;
    return `${sessions[r]![k]!}/${seeded.students[r]![i]!.id}`;
  };
  function onSent(index: number, at: number): void {
    const t0 = at - performance.timeOrigin;
    launched += 1;
    inFlight += 1;
    sentAt[index] = t0;
    timeline.sent(t0);
    if (stagesDir)
      generatorTimes.set(keyOf(index), {
        offered: performance.timeOrigin + start + (index * 1000) / opts.rate,
        sent: at,
        acked: null,
        screen: null,
      });
    // After the stage times exist: a showing held for this check-in completes it now.
    const done = pending.expect(index, t0, screens[plan[index]!.r]!.length);
    if (done) complete(index, done.worst, done.at);
  }
  function onAnswered(index: number, at: number, code: string | null): void {
    if (code === 'NOT_CONNECTED') {
      launched += 1;
      countError(code);
      return;
    }
    const now = at - performance.timeOrigin;
    inFlight -= 1;
    if (code === 'ACK_TIMEOUT' || code === 'DISCONNECTED') {
      timeline.answered(now, null, code);
      countError(code);
      return;
    }
    const traced = stagesDir ? generatorTimes.get(keyOf(index)) : undefined;
    if (traced && code === null) traced.acked = at;
    if (code === null) rosterLatency.acked(index, now);
    ack.push(now - sentAt[index]!);
    timeline.answered(now, now - sentAt[index]!, code);
    if (code === null) acked += 1;
    else countError(code);
  }
  let senderTotals: SenderTotals | null = null;
  if (senders) {
    const plans: SenderEntry[][] = Array.from({ length: senderCount }, () => []);
    for (let index = 0; index < toOffer; index += 1) {
      const { r, i, k } = plan[index]!;
      plans[r % senderCount]!.push({ index, socket: slotOf[r]![i]!, sessionId: sessions[r]![k]! });
    }
    let finished = false;
    const done = senders.start(performance.timeOrigin + start, plans).then((t) => {
      finished = true;
      senderTotals = t;
    });
    // The schedule's count, on this loop: the threads send it.
    while (!finished) {
      const now = performance.now();
      const offeredNow = Math.min(toOffer, Math.floor(((Math.min(now, end) - start) / 1000) * opts.rate));
      if (offeredNow > scheduled) timeline.offered(now, offeredNow - scheduled);
      scheduled = Math.max(scheduled, offeredNow);
      await Promise.race([done, new Promise((r) => setTimeout(r, 10))]);
    }
  }
  const frames = new CheckinFrames({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 15 });
  answerHandler = (index, at, code) => onAnswered(index, performance.timeOrigin + at, code);
  // --client lean on this loop: the same schedule, each check-in a pre-encoded frame whose ack id
  // is its plan index; answers come to onAnswered as the sender threads' do.
  while (!senders && client === 'lean' && launched < toOffer && performance.now() < end) {
    const now = performance.now();
    if (opts.rate > 0) {
      const offeredNow = Math.min(toOffer, Math.floor(((now - start) / 1000) * opts.rate));
      if (offeredNow > scheduled) timeline.offered(now, offeredNow - scheduled);
      scheduled = Math.max(scheduled, offeredNow);
    }
    const due = opts.rate > 0 ? Math.floor(((now - start) / 1000) * opts.rate) - launched : toOffer - launched;
    const n = Math.min(due, opts.window - inFlight, toOffer - launched);
    for (let j = 0; j < n; j += 1) {
      const index = launched;
      const { r, i, k } = plan[index]!;
      const socket = leanStudents[r]![i];
      if (!socket?.isConnected) {
        onAnswered(index, performance.timeOrigin + performance.now(), 'NOT_CONNECTED');
        continue;
      }
      const at = performance.now();
      if (opts.rate === 0) timeline.offered(at);
      onSent(index, performance.timeOrigin + at);
      socket.send(index, frames.frame(index, sessions[r]![k]!, Date.now()));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  // Every answer in: acknowledged, refused, timed out (the clients' sweep) or lost with its connection.
  while (!senders && client === 'lean' && inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  while (!senders && client === 'socketio' && launched < toOffer && performance.now() < end) {
    // Open loop: what the schedule has offered so far, sent or not (a full window holds some back).
    if (opts.rate > 0) {
      const now = performance.now();
      const offeredNow = Math.min(toOffer, Math.floor(((now - start) / 1000) * opts.rate));
      if (offeredNow > scheduled) timeline.offered(now, offeredNow - scheduled);
      scheduled = Math.max(scheduled, offeredNow);
    }
    const due = opts.rate > 0 ? Math.floor(((performance.now() - start) / 1000) * opts.rate) - launched : toOffer - launched;
    const n = Math.min(due, opts.window - inFlight, toOffer - launched);
    for (let j = 0; j < n; j += 1) {
      const index = launched;
      const { r, i, k } = plan[index]!;
      launched += 1;
      const socket = studentSockets[r]![i];
      if (!socket) {
        countError('NOT_CONNECTED');
        continue;
      }
      const sessionId = sessions[r]![k]!;
      const t0 = performance.now();
      pending.expect(index, t0, screens[r]!.length);
      const traced: GeneratorTimes | null = stagesDir
        ? {
            offered: performance.timeOrigin + start + ((launched - 1) * 1000) / Math.max(1, opts.rate),
            sent: performance.timeOrigin + t0,
            acked: null,
            screen: null,
          }
        : null;
      if (traced) generatorTimes.set(keyOf(index), traced);
      inFlight += 1;
      timeline.sent(t0);
      if (opts.rate === 0) timeline.offered(t0);
      const p =
        faces && selfieStats && isSelfieRoom(r)
          ? submitOneSelfie(faces, selfieStats, socket, sessionId, i, index, screens[r]!.length)
          : emitAck(socket, 'checkin:submit', {
              sessionId,
              location: { lat: ROOM.lat, lon: ROOM.lon, accuracy: 15, timestamp: Date.now() },
            }).then(
              (a) => {
                const now = performance.now();
                if (traced && a.ok) traced.acked = performance.timeOrigin + now;
                if (a.ok) rosterLatency.acked(index, now);
                ack.push(now - t0);
                timeline.answered(now, now - t0, a.ok ? null : a.error.code);
                if (a.ok) acked += 1;
                else countError(a.error.code);
              },
              () => {
                timeline.answered(performance.now(), null, 'ACK_TIMEOUT');
                countError('ACK_TIMEOUT');
              },
            );
      inflight.add(p.finally(() => (inFlight -= 1)));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await inflight.settled();
  const elapsedS = (performance.now() - start) / 1000;
  const cpuAtEnd = cpuOf();
  const threadsAtEnd = threadsOf();
  const cpu = cpuNodes.map((n, i) => {
    const [a, b] = [cpuAtStart[i], cpuAtEnd[i]];
    return {
      name: n.name,
      seconds: a === null || a === undefined || b === null || b === undefined ? null : b - a,
      threads: threadDelta(threadsAtStart[i] ?? null, threadsAtEnd[i] ?? null),
    };
  });
  const settle = Date.now() + 5_000;
  while (pending.size > 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
  clearInterval(loadTicker);
  stopSampling();
  const lags = (senderTotals as SenderTotals | null)?.lag;
  if (lags)
    process.stdout.write(
      `senders: ${lags.length} thread(s), own event-loop delay p99 ${lags.map((l) => l.p99Ms.toFixed(1)).join(' / ')} ms, max ${lags.map((l) => l.maxMs.toFixed(1)).join(' / ')} ms\n`,
    );
  progress(
    `[${label}] submitted ${launched}, acked ${acked}${selfieProgress()}, errors ${[...errors.values()].reduce((a, b) => a + b, 0)}`,
  );
  endProgress();
  if (client === 'lean') {
    const rr = rosterReader;
    process.stdout.write(
      `roster frames: ${rr.frames} read, ${rr.checked} of them also parsed in full and compared, ${rr.parsedOnly} parsed in full only${rr.drift ? `; the scan differed from the full parse (${rr.drift}) and was turned off` : ''}\n`,
    );
    if (rr.drift) process.stderr.write(`warning: roster:updates frames no longer have the layout the scan expects: ${rr.drift}\n`);
  }

  for (const s of sockets) s.disconnect();
  sockets.clear();
  lean.closeSockets();
  await senders?.stop();
  await stopNodes();
  if (!urls) await stopDir();
  if (stagesDir && opts.rate > 0) {
    const table = stageTableText(stageTable(generatorTimes, stageFiles), batchSizes(stageFiles));
    const writer = writerThreadTable(stageFiles);
    const writerText = writer ? `\n\n== the record writer's transactions (${label})\n${writer.text}` : '';
    if (writer) writeFileSync(path.join(stagesDir, `${slug(label)}-writer-transactions.csv`), writer.csv);
    writeFileSync(path.join(stagesDir, `${slug(label)}-stages.md`), `${table}${writerText}\n`);
    process.stdout.write(`\n== stages of an acknowledged check-in (${label})\n${table}${writerText}\n\n`);
  }
  ack.sort((a, b) => a - b);
  propagation.sort((a, b) => a - b);
  const result: RunResult = {
    label,
    nodes: targets.length,
    sockets: total,
    connected,
    connectErrors,
    checkins: launched,
    acked,
    errors,
    elapsedS,
    ack,
    propagation,
    propagationMissing: pending.size,
    rosterFromAck: rosterLatency.ackToScreen(),
    rosterMessageRate: rosterLatency.messageRate(),
    rss,
    cpu,
    ...(faces && selfieStats
      ? {
          selfies: {
            stats: selfieStats,
            selfieRooms: selfie.rooms,
            rooms: opts.rooms,
            faceWorkersPerNode: faceThreads,
            people: faces.people.length,
            impostorsPerRoom: impostorsIn(opts.students, selfie.impostorEvery),
            attempts: selfie.attempts,
          },
        }
      : {}),
  };
  const summary = buildSummary(result, timeline, {
    mode: opts.rate > 0 ? 'open' : 'closed',
    rate: opts.rate,
    window: opts.window,
    rooms: opts.rooms,
    students: opts.students,
    screens: opts.screens,
    offered: opts.rate > 0 ? scheduled : launched,
    rosterMessages: rosterLatency.messages,
  });
  if (gcDir) {
    for (const [i, file] of gcFiles.entries()) {
      const table = gcTimelineTable(summary.perSecond, readGcTimeline(file), wallStart, summary.generator);
      writeFileSync(path.join(gcDir, `${slug(label)}-load-${i}-gc.md`), `${table}\n`);
      // The start lets scripts/long-turns.ts number the seconds of the turns as this table does.
      process.stdout.write(`\n== garbage collections of load-${i} per second (${label}; second 0 from ${wallStart})\n${table}\n\n`);
    }
  }
  return { result, summary };
}

/** Runs jobs with at most `width` at a time. */
async function pool(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

async function cleanup(): Promise<void> {
  for (const s of sockets) s.disconnect();
  lean.close();
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
}

async function referenceFaces(): Promise<ReferenceFaces> {
  const dir = path.resolve(args['faces-dir'] ?? path.join(root, '..', 'shared', 'faces', 'lfw-devtrain'));
  if (!existsSync(dir)) throw new Error(`--selfies needs the LFW folders: ${dir} is absent (--faces-dir)`);
  const faces = await prepareReferenceFaces({
    dir,
    people: selfie.people,
    impostors: Math.min(5, impostorsIn(opts.students, selfie.impostorEvery)),
    config: loadFaceConfig(process.env),
    threads: 2,
    progress,
  });
  endProgress();
  progress(`reference faces ready in ${(faces.elapsedMs / 1000).toFixed(1)} s (${faces.modelId}, ${faces.modelVersion})`);
  endProgress();
  return faces;
}

async function main(): Promise<void> {
  const bound = setTimeout(() => {
    process.stderr.write(`\nstopped: the run exceeded --timeout ${opts.timeout} s\n`);
    void cleanup().finally(() => process.exit(2));
  }, opts.timeout * 1_000);
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    let redisUrl = args.redis ?? null;
    if (!urls && !redisUrl && opts.nodes > 1) {
      const redis = await startRedis();
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
    }
    // Before any node starts: the reference analysis would otherwise compete with them for the cores.
    const faces = selfie.on ? await referenceFaces() : null;
    const runs = [await run(urls ? 'given nodes' : 'cluster', urls ? urls.length : opts.nodes, redisUrl, faces)];
    if (!urls && !args['no-baseline'] && opts.nodes > 1) runs.push(await run('single node, no Redis', 1, null, faces));
    const text = runs.map((r) => report(r.result, opts)).join('\n\n');
    process.stdout.write(`${text}\n`);
    if (args.out) {
      mkdirSync(args.out, { recursive: true });
      const summaries = runs.map((r) => r.summary);
      writeFileSync(
        path.join(args.out, 'summary.json'),
        `${JSON.stringify({ generatedAt: new Date().toISOString(), argv: process.argv.slice(2), runs: summaries }, null, 2)}\n`,
      );
      writeFileSync(path.join(args.out, 'report.html'), renderHtml(summaries, text));
      process.stdout.write(`\nwrote ${path.join(args.out, 'summary.json')} and ${path.join(args.out, 'report.html')}\n`);
    }
    process.stdout.write(
      '\nissue 5 targets: 10,000 sockets on 2 nodes at <= 25 KB RSS/connection; 1,000 check-ins/s on 3 nodes with roster propagation p99 <= 100 ms\n',
    );
  } finally {
    clearTimeout(bound);
    await cleanup();
  }
}

if (!reexeced) {
  try {
    await main();
    process.exit(0);
  } catch (err) {
    process.stderr.write(`loadtest failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    await cleanup();
    process.exit(1);
  }
}

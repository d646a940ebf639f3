/**
 * Bulk face enrolment of a subject's students from a folder of photos.
 *
 *   node --import tsx scripts/enrol-faces.ts --subject CS101 --dir ./photos [--org demo]
 *     [--by admin@demo.school] [--threads 2] [--dry-run] [--report report.csv] [--no-progress]
 *
 * See HELP below. Opens the store the service is configured with (STORE, DATA_DIR, SQLITE_PATH,
 * MONGODB_URI) and enrols through FaceEnrolmentService, so the service's rules, audit entries
 * and FACE_KEEP_PHOTOS apply. Exit 0 when every file was enrolled, 1 otherwise, 2 on bad usage.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { FacePoolEngine } from '../src/adapters/face-pool-engine.js';
import { createApplication } from '../src/app.js';
import type { Actor } from '../src/domain/actor.js';
import { AppError } from '../src/shared/app-error.js';
import type { FaceEnrolmentService, PhotoRefusal } from '../src/domain/face/enrolment-service.js';
import { FacePool } from '../src/face/face-pool.js';
import { createLogger } from '../src/logger.js';
import { createStore } from '../src/store/index.js';
import type { Organisation } from '../src/domain/ports/organisations.js';
import type { Store } from '../src/domain/ports/store.js';
import type { Subject } from '../src/domain/ports/subjects.js';
import type { User } from '../src/domain/ports/users.js';
import { retryWhileBusy } from '../src/domain/face/busy-retry.js';
import {
  exitCodeOf,
  formatCsv,
  formatSummary,
  formatTable,
  isPhotoName,
  PHOTO_EXTENSIONS,
  planEnrolment,
  studentLabel,
  unresolvedKeys,
  type Batch,
  type BatchResult,
  type EnrolPlan,
  type PhotoFile,
} from './lib/enrol-plan.js';
import { failUnfinished, messageOf, runBatches } from './lib/enrol-runner.js';
import { readToolConfig, UsageError } from './lib/tool-config.js';
import type { Config } from '../src/config.js';

const HELP = `usage: enrol-faces --subject CODE|ID --dir DIR [options]

Enrols the reference faces of a subject's students from a folder of photos.

Files: DIR/*.jpg|jpeg|png|webp, named by student number or email, with an optional
suffix for further photos (S001.jpg, S001_2.jpg, S001-3.jpg, ada@x.org.jpg), or one
sub-folder per student (DIR/S001/*.jpg). Keys match case-insensitively the students
enrolled in the subject; 1 to 5 photos per student (later ones are skipped). A student's
photos are stored all together or not at all.

Options:
  --subject CODE|ID   the subject (required)
  --dir DIR           the folder of photos (required)
  --org SLUG          the organisation; defaults to the one of --by when unambiguous
  --by EMAIL|ID       the admin, or a teacher of the subject, the enrolment is made as
                      (required unless --dry-run); it appears in the audit log
  --threads N         face worker threads (default FACE_POOL_SIZE)
  --dry-run           only match files to students; nothing is analysed or stored
  --report FILE       also write the per-file report as CSV
  --no-progress       plain progress lines instead of a progress bar
  -h, --help          this text

The store and face settings come from the same environment as the service (STORE,
DATA_DIR, SQLITE_PATH, MONGODB_URI, FACE_*). Exit code: 0 when every file was enrolled
(on a dry run: would be), 1 when some were not, 2 on bad usage.
`;

/** Attempts per student while the pool answers BUSY. */
const MAX_ATTEMPTS = 5;
const DEFAULT_RETRY_MS = 1_000;

interface Args {
  subject: string;
  dir: string;
  org: string | undefined;
  by: string | undefined;
  threads: number | undefined;
  dryRun: boolean;
  report: string | undefined;
  progress: boolean;
}

function parse(argv: string[]): Args | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        subject: { type: 'string' },
        dir: { type: 'string' },
        org: { type: 'string' },
        by: { type: 'string' },
        threads: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        report: { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return 'help';
  if (!values.subject) throw new UsageError('--subject is required');
  if (!values.dir) throw new UsageError('--dir is required');
  if (!values['dry-run'] && !values.by) throw new UsageError('--by is required (the admin or teacher the enrolment is made as)');
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new UsageError('--threads must be an integer from 1 to 64');
  }
  return {
    subject: values.subject,
    dir: path.resolve(values.dir),
    org: values.org,
    by: values.by,
    threads,
    dryRun: values['dry-run'],
    report: values.report,
    progress: !values['no-progress'] && process.stderr.isTTY === true,
  };
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (!existsSync(args.dir) || !statSync(args.dir).isDirectory()) throw new UsageError(`no folder at ${args.dir}`);
  const config = readToolConfig();
  if (!args.dryRun && !config.face.enabled) throw new UsageError('face verification is disabled (FACE_ENABLED=false)');
  // Opening a missing SQLite file would create an empty store and find nothing.
  if (config.store.kind === 'sqlite' && !existsSync(config.store.path)) throw new UsageError(`no SQLite store at ${config.store.path}`);

  const files = await collectPhotos(args.dir);
  if (files.length === 0) throw new UsageError(`no photos (${PHOTO_EXTENSIONS.join(' ')}) in ${args.dir}`);

  const store = await createStore(config.store);
  // An enrolment run hands the store to the application, which closes it with the face workers.
  let storeOwned = false;
  try {
    const org = await findOrganisation(store, args);
    const subject = await findSubject(store, org, args.subject);
    const actor = args.by ? await findActor(store, org, subject, args.by) : null;
    const enrolled = await store.users.getMany(org.id, await store.subjects.listEnrolled(org.id, subject.id));
    const others = await findOtherStudents(store, org, unresolvedKeys(files, enrolled));
    const plan = planEnrolment(files, { enrolled, others });
    process.stderr.write(
      `${subject.code}: ${enrolled.length} students enrolled; ${files.length} photo files; ${plan.batches.length} students to enrol\n`,
    );

    if (!args.dryRun && actor && plan.batches.length > 0) {
      storeOwned = true;
      try {
        await enrolAll(plan, { store, config, actor, args });
      } catch (err) {
        // The pool did not start, or the run broke off: the students done so far stay in the report.
        process.stderr.write(`enrolment stopped: ${messageOf(err)}\n`);
        failUnfinished(plan, messageOf(err));
      }
    }

    process.stdout.write(`${formatTable(plan.entries)}\n\n${formatSummary(plan)}\n`);
    if (args.report) {
      await writeFile(args.report, formatCsv(plan.entries));
      process.stderr.write(`report written to ${path.resolve(args.report)}\n`);
    }
    return exitCodeOf(plan, args.dryRun);
  } finally {
    if (!storeOwned) await store.close();
  }
}

/**
 * The service's own configuration. NODE_ENV=test keeps loadConfig from demanding production
 * secrets or writing a development JWT secret: this script issues no tokens.
 */
/** Photos directly in the folder and one level down in per-student sub-folders; symlinks followed. */
async function collectPhotos(dir: string): Promise<PhotoFile[]> {
  const out: PhotoFile[] = [];
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    const stat = statSync(full);
    if (stat.isDirectory()) {
      for (const inner of await readdir(full)) {
        const innerFull = path.join(full, inner);
        if (isPhotoName(inner) && statSync(innerFull).isFile()) out.push({ name: `${entry}/${inner}`, digest: await digestOf(innerFull) });
      }
    } else if (stat.isFile() && isPhotoName(entry)) {
      out.push({ name: entry, digest: await digestOf(full) });
    }
  }
  return out;
}

async function digestOf(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function findOrganisation(store: Store, args: Args): Promise<Organisation> {
  if (args.org) {
    const org = await store.organisations.getBySlug(args.org);
    if (!org) throw new UsageError(`no organisation with slug ${args.org}`);
    return org;
  }
  if (!args.by?.includes('@')) throw new UsageError('--org is required unless --by is an email');
  const accounts = await store.users.findByEmailAnyOrg(args.by.toLowerCase());
  if (accounts.length !== 1) {
    throw new UsageError(accounts.length === 0 ? `no account ${args.by}` : `${args.by} exists in several organisations: pass --org`);
  }
  const org = await store.organisations.get(accounts[0]!.orgId);
  if (!org) throw new Error(`organisation of ${args.by} not found`);
  return org;
}

async function findSubject(store: Store, org: Organisation, codeOrId: string): Promise<Subject> {
  const byId = await store.subjects.get(org.id, codeOrId);
  if (byId) return byId;
  const { items } = await store.subjects.list(org.id, { q: codeOrId, limit: 100, offset: 0 });
  const subject = items.find((s) => s.code.toLowerCase() === codeOrId.toLowerCase());
  if (!subject) throw new UsageError(`no subject ${codeOrId} in ${org.slug}`);
  return subject;
}

/** The account the enrolment is made as; the same rules as a signed-in user of the API. */
async function findActor(store: Store, org: Organisation, subject: Subject, by: string): Promise<Actor> {
  const user = by.includes('@') ? await store.users.getByEmail(org.id, by.toLowerCase()) : await store.users.get(org.id, by);
  if (!user) throw new UsageError(`no account ${by} in ${org.slug}`);
  if (!user.active) throw new UsageError(`${by} is deactivated`);
  const allowed = user.role === 'admin' || (user.role === 'teacher' && subject.teacherIds.includes(user.id));
  if (!allowed) throw new UsageError(`${by} is neither an admin nor a teacher of ${subject.code}`);
  return { id: user.id, orgId: org.id, role: user.role };
}

/** Students of the organisation, outside the subject, that the unmatched file keys name. */
async function findOtherStudents(store: Store, org: Organisation, keys: string[]): Promise<User[]> {
  const found = new Map<string, User>();
  for (const key of keys) {
    const candidates = key.includes('@')
      ? [await store.users.getByEmail(org.id, key)].filter((u): u is User => u !== null)
      : (await store.users.list(org.id, { role: 'student', q: key, limit: 50, offset: 0 })).items.filter(
          (u) => u.studentNumber?.trim().toLowerCase() === key,
        );
    for (const u of candidates) if (u.role === 'student') found.set(u.id, u);
  }
  return [...found.values()];
}

interface RunDeps {
  store: Store;
  config: Config;
  actor: Actor;
  args: Args;
}

/**
 * Enrols the batches, as many students at a time as there are worker threads; rejects when the
 * pool cannot start. The service comes from the application's own composition root (never
 * listening: nobody is connected to this process, the audit log records each change); closing
 * the application closes the face workers and the store.
 */
async function enrolAll(plan: EnrolPlan, deps: RunDeps): Promise<void> {
  const faceConfig = { ...deps.config.face, ...(deps.args.threads ? { poolSize: deps.args.threads } : {}) };
  const pool = new FacePool({ config: faceConfig });
  const app = createApplication({
    config: { ...deps.config, face: faceConfig },
    store: deps.store,
    logger: createLogger('silent'),
    face: new FacePoolEngine(pool),
  });
  const service = app.domain.faces;
  const total = plan.batches.reduce((n, b) => n + b.files.length, 0);
  const progress = createProgress(deps.args.progress, total);
  try {
    process.stderr.write(`loading face models (${faceConfig.poolSize} worker thread${faceConfig.poolSize === 1 ? '' : 's'})...\n`);
    await pool.start();
    progress.start();
    await runBatches(plan, {
      concurrency: faceConfig.poolSize,
      enrol: (batch) => enrolOne(service, deps, batch),
      onResult: (batch, result) => progress.advance(batch, result),
      onError: (batch, err) => process.stderr.write(`\n${studentLabel(batch.student)}: enrolment failed: ${messageOf(err)}\n`),
    });
  } finally {
    progress.stop();
    await app.close();
  }
}

/**
 * One student's photos through the service; a BUSY pool is retried after its hint. Coded
 * errors become the student's outcome; anything else rejects, and runBatches records it.
 */
async function enrolOne(service: FaceEnrolmentService, deps: RunDeps, batch: Batch): Promise<BatchResult> {
  const bytes = await Promise.all(batch.files.map((f) => readFile(path.join(deps.args.dir, f))));
  try {
    // Fresh copies per attempt: the pool transfers (detaches) the buffers it is given.
    const enrol = () =>
      service.enrol(
        deps.actor,
        batch.student.id,
        bytes.map((b) => new Uint8Array(b)),
      );
    const result = await retryWhileBusy(enrol, { attempts: MAX_ATTEMPTS, defaultWaitMs: DEFAULT_RETRY_MS });
    return { ok: true, proposed: result.outcome === 'proposed' };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    if (err.code === 'FACE_ENROLMENT_REFUSED') return { ok: false, refusals: (err.details?.['photos'] ?? []) as PhotoRefusal[] };
    return { ok: false, code: err.code };
  }
}

interface Progress {
  start(): void;
  advance(batch: Batch, result: BatchResult): void;
  stop(): void;
}

/** A bar on a terminal; elsewhere (logs, CI) one line per student. */
function createProgress(bar: boolean, total: number): Progress {
  let done = 0;
  if (bar) {
    const b = new cliProgress.SingleBar(
      { format: 'enrolling [{bar}] {value}/{total} photos | {student}', hideCursor: true, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    let running = false;
    return {
      start: () => {
        b.start(total, 0, { student: '' });
        running = true;
      },
      advance: (batch) => {
        done += batch.files.length;
        b.update(done, { student: studentLabel(batch.student) });
      },
      stop: () => {
        if (running) b.stop();
        running = false;
      },
    };
  }
  return {
    start: () => undefined,
    advance: (batch, result) => {
      done += batch.files.length;
      const status = result.ok ? (result.proposed ? 'proposed' : 'enrolled') : 'code' in result ? `failed ${result.code}` : 'refused';
      process.stderr.write(`  ${done}/${total} photos  ${studentLabel(batch.student)} ${status}\n`);
    },
    stop: () => undefined,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n(enrol-faces --help shows the usage)\n`);
      process.exit(2);
    }
    process.stderr.write(`enrol-faces failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

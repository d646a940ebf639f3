/**
 * The operator's tool: organisations and their admins, straight against the store the service
 * uses. The first run of a production deployment starts here (README "First run in production").
 *
 *   node --import tsx scripts/admin.ts org create --name "Example School" --slug example [--timezone Europe/Paris]
 *   npm run admin -- admin create --org example --email head@example.org --name "Head Teacher"
 *   npm run admin -- oneroster import --org example --dir ./sis-export [--dry-run]
 *
 * See HELP below. Every change goes through the domain services, so their validation and
 * audit entries apply (actorId null, reason "admin-cli"). Exit 0 on success, 1 when the
 * command failed, 2 on bad usage.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../src/config.js';
import { systemActor } from '../src/domain/actor.js';
import { AppError } from '../src/shared/app-error.js';
import { BUNDLE_FILES, type Bundle } from '../src/domain/oneroster/bundle.js';
import type { OrganisationView } from '../src/domain/organisations/organisation-service.js';
import type { Services } from '../src/domain/services.js';
import { normaliseEmail } from '../src/domain/users/public-user.js';
import { readToolConfig, UsageError } from './lib/tool-config.js';
import type { Store } from '../src/domain/ports/store.js';

const TOOL = 'admin-cli';

/** How this CLI was run, for the next command it suggests: the compiled one needs no dev dependency (tsx). */
const SELF = import.meta.url.endsWith('.js') ? 'node dist/scripts/admin.js' : 'npm run admin --';

const HELP = `usage: admin <command> [options]

Organisations:
  org create --name NAME --slug SLUG [--timezone TZ]
                        a new, active organisation (time zone: DEFAULT_TIMEZONE)
  org list              every organisation: slug, name, time zone, status
  org rename --org SLUG --name NAME
  org deactivate --org SLUG
                        its users can no longer log in; their requests are refused
  org activate --org SLUG

Admins:
  admin create --org SLUG --email EMAIL --name NAME [--password-stdin]
                        a new admin account of the organisation
  admin reset --org SLUG --email EMAIL [--password-stdin]
                        a new password for an admin; the account is active again and
                        every earlier login of it ends

OneRoster (docs/oneroster.md):
  oneroster import --org SLUG --dir DIR [--dry-run]
                        imports the OneRoster 1.1 CSV files found in DIR (manifest.csv,
                        orgs.csv, academicSessions.csv, users.csv, classes.csv,
                        enrollments.csv); prints the counts per file and every refused row.
                        Exit code 1 when a row was refused (the others are imported)

Passwords: with --password-stdin the password is read from standard input (at least 8
characters); otherwise a strong one is generated and printed once, on standard output.

The store comes from the same environment as the service (STORE, DATA_DIR, SQLITE_PATH,
MONGODB_URI, NODE_ENV, BCRYPT_COST). Exit code: 0 done, 1 failed, 2 bad usage.
  -h, --help            this text
`;

interface Options {
  name?: string | undefined;
  slug?: string | undefined;
  org?: string | undefined;
  timezone?: string | undefined;
  email?: string | undefined;
  dir?: string | undefined;
  passwordStdin: boolean;
  dryRun: boolean;
}

type Command =
  | { kind: 'help' }
  | { kind: 'org create'; name: string; slug: string; timezone: string | undefined }
  | { kind: 'org list' }
  | { kind: 'org rename'; org: string; name: string }
  | { kind: 'org deactivate' | 'org activate'; org: string }
  | { kind: 'admin create'; org: string; email: string; name: string; passwordStdin: boolean }
  | { kind: 'admin reset'; org: string; email: string; passwordStdin: boolean }
  | { kind: 'oneroster import'; org: string; dir: string; dryRun: boolean };

function parse(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        slug: { type: 'string' },
        org: { type: 'string' },
        timezone: { type: 'string' },
        email: { type: 'string' },
        'password-stdin': { type: 'boolean', default: false },
        dir: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { kind: 'help' };
  const o: Options = { ...values, passwordStdin: values['password-stdin'], dryRun: values['dry-run'] };
  const verb = positionals.join(' ');
  const need = (key: 'name' | 'slug' | 'org' | 'email' | 'dir'): string => {
    const v = o[key]?.trim();
    if (!v) throw new UsageError(`${verb}: --${key} is required`);
    return v;
  };
  switch (verb) {
    case 'org create':
      return { kind: verb, name: need('name'), slug: need('slug'), timezone: o.timezone };
    case 'org list':
      return { kind: verb };
    case 'org rename':
      return { kind: verb, org: need('org'), name: need('name') };
    case 'org deactivate':
    case 'org activate':
      return { kind: verb, org: need('org') };
    case 'admin create':
      return { kind: verb, org: need('org'), email: need('email'), name: need('name'), passwordStdin: o.passwordStdin };
    case 'admin reset':
      return { kind: verb, org: need('org'), email: need('email'), passwordStdin: o.passwordStdin };
    case 'oneroster import':
      return { kind: verb, org: need('org'), dir: need('dir'), dryRun: o.dryRun };
    default:
      throw new UsageError(`unknown command: ${verb}`);
  }
}

async function readPassword(fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: randomBytes(18).toString('base64url'), generated: true };
  if (process.stdin.isTTY) process.stderr.write('password (then Enter and Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing line break is the end of the input, not part of the password.
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password.length === 0) throw new UsageError('--password-stdin: standard input was empty');
  return { password, generated: false };
}

function formatOrganisations(items: OrganisationView[]): string {
  const rows = [
    ['SLUG', 'NAME', 'TIME ZONE', 'STATUS', 'ID'],
    ...items.map((o) => [o.slug, o.name, o.timezone, o.active ? 'active' : 'deactivated', o.id]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The bundle's files found in `dir`; a missing file is simply not part of the bundle. */
function readBundle(dir: string): Bundle {
  if (!existsSync(dir)) throw new UsageError(`--dir: no directory ${dir}`);
  const bundle: Bundle = {};
  for (const name of ['manifest', ...BUNDLE_FILES] as const) {
    const file = path.join(dir, `${name}.csv`);
    if (existsSync(file)) bundle[name] = readFileSync(file, 'utf8');
  }
  return bundle;
}

/** What a command runs on: the account services, and the OneRoster import for its command only. */
type CliServices = Pick<Services, 'organisations' | 'users'> & Partial<Pick<Services, 'oneRosterImport'>>;

/** Exit code 1 when some row was refused (the run itself went through). */
async function run(
  command: Exclude<Command, { kind: 'help' }>,
  services: CliServices,
  store: Store,
  config: Config,
): Promise<number | void> {
  const { organisations, users } = services;
  const out = (line: string) => process.stdout.write(`${line}\n`);

  switch (command.kind) {
    case 'org create': {
      const org = await organisations.create(TOOL, {
        name: command.name,
        slug: command.slug,
        timezone: command.timezone ?? config.defaultTimezone,
      });
      out(`created organisation ${org.slug} (${org.name}, ${org.timezone}) id ${org.id}`);
      out(`next: ${SELF} admin create --org ${org.slug} --email EMAIL --name NAME`);
      return;
    }
    case 'org list': {
      const items: OrganisationView[] = [];
      for (let offset = 0; ; offset += 200) {
        const page = await organisations.list({ limit: 200, offset });
        items.push(...page.items);
        if (page.items.length === 0 || items.length >= page.total) break;
      }
      out(items.length === 0 ? 'no organisations yet (org create makes the first)' : formatOrganisations(items));
      return;
    }
    case 'org rename': {
      const org = await organisations.rename(TOOL, command.org, command.name);
      out(`renamed ${org.slug} to ${org.name}`);
      return;
    }
    case 'org deactivate':
    case 'org activate': {
      const org = await organisations.setActive(TOOL, command.org, command.kind === 'org activate');
      out(`${org.slug} is ${org.active ? 'active' : 'deactivated'}`);
      return;
    }
    case 'admin create':
    case 'admin reset': {
      const org = await organisations.getBySlug(command.org);
      const actor = systemActor(org.id, TOOL);
      const { password, generated } = await readPassword(command.passwordStdin);
      let done: string;
      if (command.kind === 'admin create') {
        const user = await users.create(actor, { name: command.name, email: command.email, role: 'admin', password });
        done = `created admin ${user.email} in ${org.slug}`;
      } else {
        const existing = await store.users.getByEmail(org.id, normaliseEmail(command.email));
        if (!existing || existing.role !== 'admin') throw new AppError('NOT_FOUND', `No admin ${command.email} in ${org.slug}.`);
        const user = await users.resetPassword(actor, existing.id, password);
        done = `new password for admin ${user.email} in ${org.slug}; earlier logins ended`;
      }
      out(done);
      if (generated) out(`password (shown once): ${password}`);
      if (!org.active) out(`note: ${org.slug} is deactivated; nobody can log in until: org activate --org ${org.slug}`);
      return;
    }
    case 'oneroster import': {
      const org = await organisations.getBySlug(command.org);
      if (!services.oneRosterImport) throw new Error('oneroster import runs on the whole domain (services()), not the account services');
      const report = await services.oneRosterImport.run(systemActor(org.id, TOOL), readBundle(command.dir), { dryRun: command.dryRun });
      out(`${command.dryRun ? 'dry run (nothing written)' : 'imported'} into ${org.slug}`);
      for (const file of BUNDLE_FILES) {
        const c = report.files[file];
        out(`${file}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.error} refused`);
      }
      const refused = report.rows.filter((r) => r.action === 'error');
      for (const r of refused) out(`refused ${r.file}.csv line ${r.line} (${r.sourcedId}): ${r.reason}`);
      return refused.length > 0 ? 1 : 0;
    }
  }
}

async function main(): Promise<number> {
  const command = parse(process.argv.slice(2));
  if (command.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const config = readToolConfig();
  // Only the first organisation may bring a new SQLite file into being; elsewhere a missing
  // file is a wrong SQLITE_PATH or DATA_DIR, and an empty store would hide it.
  if (config.store.kind === 'sqlite' && command.kind !== 'org create' && !existsSync(config.store.path)) {
    throw new UsageError(`no SQLite store at ${config.store.path} (check SQLITE_PATH / DATA_DIR)`);
  }
  const { createStore } = await import('../src/store/index.js');
  const store = await createStore(config.store);
  // This process has no sockets to tell: the running nodes see a changed account or organisation
  // at the next socket command (they re-read it from the store, src/realtime/current-actor.ts).
  const { services, close } = command.kind === 'oneroster import' ? await wholeDomain(config, store) : await accountServices(config, store);
  try {
    return (await run(command, services, store, config)) ?? 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    process.stderr.write(`${err.code}: ${err.message}\n`);
    return 1;
  } finally {
    await close();
  }
}

/**
 * The organisation and admin commands: their two services as the domain builds them
 * (createAccountServices), one hash in this thread. The whole service's composition (its worker
 * pools, face models, jobs) was most of this tool's start and stop, and asked for every setting.
 */
async function accountServices(config: Config, store: Store): Promise<{ services: CliServices; close: () => Promise<void> }> {
  const [{ createAccountServices }, { BcryptPasswordHasher }, { EventBus }] = await Promise.all([
    import('../src/domain/services.js'),
    import('../src/adapters/bcrypt-password-hasher.js'),
    import('../src/domain/events.js'),
  ]);
  // Nobody listens in this process; a listener that fails is a bug to hear of.
  const events = new EventBus((err) => {
    throw err;
  });
  const services = createAccountServices({
    store,
    clock: () => new Date(),
    events,
    passwords: new BcryptPasswordHasher(config.bcrypt.cost),
  });
  return { services, close: () => store.close() };
}

/**
 * The OneRoster import touches subjects, enrolments and live sessions: the services come from
 * the server's own composition root (never listening), built exactly as the service builds them.
 * Closing the application closes the store.
 */
async function wholeDomain(config: Config, store: Store): Promise<{ services: CliServices; close: () => Promise<void> }> {
  const [{ createApplication }, { createLogger }] = await Promise.all([import('../src/app.js'), import('../src/logger.js')]);
  const app = createApplication({ config, store, logger: createLogger('silent') });
  return { services: app.services, close: () => app.close() };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n(admin --help shows the usage)\n`);
      process.exit(2);
    }
    process.stderr.write(`admin failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

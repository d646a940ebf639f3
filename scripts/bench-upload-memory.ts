/**
 * Upload memory benchmark: how much a node's resident memory rises while it is sent face
 * uploads, refused ones (callers without the right over the student) and accepted ones.
 *
 *   node --import tsx scripts/bench-upload-memory.ts [--uploads 10] [--photo-mb 8]
 *
 * The node runs in a child process (loopback only, in-memory SQLite, a face engine that refuses
 * every image so nothing is analysed), so the client's own buffers are not counted. Resident
 * memory is sampled from /proc every 2 ms (Linux).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createApplication } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { FaceEngine } from '../src/domain/face/face-engine.js';
import { createLogger } from '../src/logger.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';

const { values: args } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    uploads: { type: 'string', default: '10' },
    'photo-mb': { type: 'string', default: '8' },
  },
});

interface Fixture {
  url: string;
  victim: string;
  strangers: string[];
  admin: string;
}

if (args.serve) await serve();
else await measure();

async function serve(): Promise<void> {
  const config = {
    ...loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      BCRYPT_COST: '4',
      SEED_DEMO: 'false',
      UPLOADS_MAX_CONCURRENT: '100',
      HTTP_HEAVY_RATE_PER_MINUTE: '100000',
      FACE_UPLOADS_PER_HOUR: '100000',
      FACE_MAX_IMAGE_BYTES: String(Number(args['photo-mb']) * 1024 * 1024),
    }),
    store: { kind: 'sqlite' as const, path: ':memory:' },
  };
  const store = await createSqliteStore({ path: ':memory:' });
  const refuses: FaceEngine = {
    analyse: async () => ({ ok: false, reason: 'IMAGE_INVALID', message: 'not analysed in this benchmark' }),
    status: () => ({ backend: null, modelId: null, ready: true, queueSize: 0, maxQueue: 1, retryAfterMs: 1_000 }),
  };
  const app = createApplication({ config, store, logger: createLogger('silent'), face: refuses });
  const { port } = await app.listen();
  const org = await store.organisations.create({ name: 'Bench', slug: 'bench', timezone: 'UTC' });
  const user = (role: 'admin' | 'student', i: number) =>
    store.users.create(org.id, {
      name: `${role} ${i}`,
      email: `${role}${i}@bench.test`,
      role,
      studentNumber: role === 'student' ? `S${i}` : null,
      passwordHash: null,
      active: true,
    });
  const victim = await user('student', 0);
  const strangers = await Promise.all(Array.from({ length: Number(args.uploads) }, (_, i) => user('student', i + 1)));
  const admin = await user('admin', 0);
  const token = (u: typeof admin) => app.tokenService.signAccess(u).token;
  const fixture: Fixture = { url: `http://127.0.0.1:${port}`, victim: victim.id, strangers: strangers.map(token), admin: token(admin) };
  process.send!(fixture);
  process.once('disconnect', () => void app.close().then(() => process.exit(0)));
}

async function measure(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', '--uploads', args.uploads!, '--photo-mb', args['photo-mb']!], {
    execArgv: ['--import', 'tsx'],
  });
  const fixture = await new Promise<Fixture>((resolve) => child.once('message', (m) => resolve(m as Fixture)));
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  const photo = new Uint8Array(Number(args['photo-mb']) * 1024 * 1024 - 1024);
  const form = () => {
    const f = new FormData();
    for (let i = 0; i < 5; i++) f.append('photos', new Blob([photo], { type: 'image/jpeg' }), `p${i}.jpg`);
    return f;
  };
  const round = async (label: string, tokens: string[]) => {
    const before = rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 2);
    const statuses = await Promise.all(
      tokens.map((t) =>
        fetch(`${fixture.url}/api/v1/users/${fixture.victim}/face`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${t}` },
          body: form(),
        })
          .then((r) => String(r.status))
          .catch((err: Error & { cause?: { code?: string } }) => `error ${err.cause?.code ?? err.message}`),
      ),
    );
    clearInterval(sampler);
    const counts = new Map<string, number>();
    for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
    console.log(
      `${label}: ${[...counts].map(([s, n]) => `${n} x ${s}`).join(', ')}; node RSS ${before.toFixed(0)} MB before, peak +${(peak - before).toFixed(0)} MB`,
    );
  };
  const size = `5 x ${args['photo-mb']} MB`;
  await round(`${fixture.strangers.length} uploads by students without the right (${size})`, fixture.strangers);
  await round(`4 uploads by an admin (${size}, read, then refused by the engine)`, Array(4).fill(fixture.admin));
  child.disconnect();
}

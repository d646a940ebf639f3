/**
 * Rate-limit benchmark (not a test): what one check-in's rate-limit check costs a node with Redis.
 * The check-in limiter of src/cluster (the budget and window of CHECKIN_RATE_PER_MINUTE) counts
 * E events over K students, arriving W at a time as a busy node's turns do, with
 * RATE_LIMIT_LOCAL_SHARE 0 (every event asks Redis, the code before the local budget) and with
 * the given share, alternated R times. Prints per mode: this process's CPU per event, events per
 * second, the Redis commands per event (INFO commandstats) and redis-server's CPU per event.
 *
 *   node --import tsx scripts/bench-rate-limit.ts [--events 60000] [--students 2000] [--points 600]
 *     [--share 0.1] [--concurrency 64] [--runs 3] [--redis URL]
 *
 * Loopback only: starts its own redis-server (scripts/lib/loadtest-cluster.ts) unless --redis is
 * given. Keys are fresh per run, so each student's first events open a window as in a lecture.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { connectRedis } from '../src/cluster/redis.js';
import { redisRateLimiter } from '../src/cluster/redis-rate-limiter.js';
import { createLogger } from '../src/logger.js';
import { startRedis } from './lib/loadtest-cluster.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '60000' },
    students: { type: 'string', default: '2000' },
    points: { type: 'string', default: '600' },
    share: { type: 'string', default: '0.1' },
    concurrency: { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    redis: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: bench-rate-limit.ts [--events E] [--students K] [--points P] [--share S] [--concurrency W] [--runs R] [--redis URL]\n',
  );
  process.exit(0);
}
const events = Number(args.events);
const students = Number(args.students);
const points = Number(args.points);
const share = Number(args.share);
const concurrency = Number(args.concurrency);
const runs = Number(args.runs);
if (args.redis && !/^redis:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(args.redis)) {
  process.stderr.write('--redis must be a loopback URL\n');
  process.exit(2);
}

const own = args.redis ? null : await startRedis();
const url = args.redis ?? own!.url;
const logger = createLogger('silent');
const data = await connectRedis(url, 'data', { nodeId: 'bench', logger });
const stats = await connectRedis(url, 'data', { nodeId: 'bench-stats', logger });
const redisPid = Number(/process_id:(\d+)/.exec(await stats.info('server'))?.[1]);

/** Calls and CPU of redis-server so far (INFO commandstats and INFO cpu). */
async function redisCounters(): Promise<{ calls: number; cpuS: number }> {
  const text = await stats.info('all');
  let calls = 0;
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') calls += Number(m[2]);
  const cpu = /used_cpu_sys:([\d.]+)[\s\S]*used_cpu_user:([\d.]+)/.exec(text);
  return { calls, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN };
}

async function run(localShare: number): Promise<string> {
  const limiter = redisRateLimiter(data, { points, windowS: 60, keyPrefix: `bench-${randomUUID()}` }, localShare);
  const before = await redisCounters();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let refused = 0;
  const worker = async () => {
    while (next < events) {
      const i = next;
      next += 1;
      if (!(await limiter.consume(`student-${i % students}`)).allowed) refused += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = await redisCounters();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return [
    `share ${localShare.toFixed(2)}`,
    `node CPU ${((cpuMs * 1000) / events).toFixed(2)} µs/event`,
    `${Math.round(events / (wallMs / 1000))} events/s`,
    `Redis commands ${((after.calls - before.calls) / events).toFixed(2)}/event`,
    `redis-server CPU ${(((after.cpuS - before.cpuS) * 1e6) / events).toFixed(2)} µs/event`,
    `refused ${refused}`,
  ].join(', ');
}

process.stdout.write(
  `${events} events over ${students} students, budget ${points}/min, ${concurrency} at a time, redis pid ${redisPid}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
for (let r = 0; r < runs; r += 1) {
  for (const s of [0, share]) process.stdout.write(`run ${r + 1}: ${await run(s)}\n`);
}
data.disconnect();
stats.disconnect();
await own?.stop();

/**
 * Face pool benchmark: per-selfie latency and throughput with 1 and 2 workers, resident
 * memory per worker, and a lecture-sized burst through a bounded queue.
 *
 *   npx tsx scripts/bench-face.ts [--dir DIR] [--latency N] [--throughput N] [--burst N]
 *
 * Selfies: the single-face photographs of ../shared/faces/photos, re-encoded as a web client
 * would upload a camera capture (JPEG, quality 85, at most 1280 px on the long side).
 * Burst clients honour BUSY by retrying after the pool's retryAfterMs hint.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { AppError } from '../src/shared/app-error.js';
import { loadFaceConfig, type FaceConfig } from '../src/face/face-config.js';
import { FacePool } from '../src/face/face-pool.js';
import { quantile } from '../src/face/eval-metrics.js';
import { repoRoot } from './lib/repo-root.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    latency: { type: 'string', default: '60' },
    throughput: { type: 'string', default: '120' },
    burst: { type: 'string', default: '300' },
  },
});

const dir = path.resolve(args.dir ?? path.join(repoRoot(import.meta.url), '..', 'shared', 'faces', 'photos'));
const base = loadFaceConfig(process.env);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (x: number) => `${x.toFixed(0)} ms`;

const selfies = await prepareSelfies();
console.log(
  `bench-face  ${selfies.length} selfies from ${dir} (JPEG q85, ≤1280 px, mean ${(mean(selfies.map((s) => s.length)) / 1024).toFixed(0)} KB); ${availableParallelism()} cores`,
);

for (const threads of [1, 2]) await measure(threads);
await burst(Number(args.burst));

async function prepareSelfies(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const pool = new FacePool({ config: { ...base, poolSize: 1 } });
  for (const name of readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()) {
    const bytes = await sharp(readFileSync(path.join(dir, name)))
      .rotate()
      .resize({ width: 1280, height: 1280, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 85 })
      .toBuffer();
    // Only photographs that pass as a selfie (one usable face) are used.
    const r = await pool.analyse(new Uint8Array(bytes), 'single');
    if (r.ok) out.push(bytes);
  }
  await pool.close();
  return out;
}

async function measure(threads: number): Promise<void> {
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  const pool = new FacePool({ config: { ...base, poolSize: threads, maxQueue: 10_000 } });
  const engine = await pool.start();
  // Warm every worker: the first tasks pay for lazy kernel set-up.
  await Promise.all(selfies.slice(0, 4 * threads).map((s) => pool.analyse(new Uint8Array(s), 'single')));
  const rssAfter = process.memoryUsage.rss();

  const latencies: number[] = [];
  const worker: number[] = [];
  for (let i = 0; i < Number(args.latency); i++) {
    const t = performance.now();
    const r = await pool.analyse(new Uint8Array(selfies[i % selfies.length]!), 'single');
    latencies.push(performance.now() - t);
    if (r.ok) worker.push(r.timings.total);
  }

  const n = Number(args.throughput);
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => pool.analyse(new Uint8Array(selfies[i % selfies.length]!), 'single')),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const failures = results.filter((r) => !r.ok).length;
  const rssLoaded = process.memoryUsage.rss();
  const info = await pool.workerInfo();
  await pool.close();

  console.log(
    `\n${threads} worker(s)  backend ${engine.backend}, ${engine.modelId}\n` +
      `  latency   p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))} per selfie, one at a time (${latencies.length}); ` +
      `in-worker p50 ${ms(quantile(worker, 0.5))}\n` +
      `  throughput ${(n / elapsed).toFixed(1)} selfies/s (${n} concurrent, ${elapsed.toFixed(1)} s, ${failures} refused)\n` +
      `  memory    process RSS ${mb(rssBefore)} before the pool, ${mb(rssAfter)} warm, ${mb(rssLoaded)} after the run: ` +
      `${mb((rssLoaded - rssBefore) / threads)} per worker; tfjs heap in a worker ${mb(info.memory.tfBytes)}`,
  );
}

async function burst(count: number): Promise<void> {
  const config: FaceConfig = { ...base, poolSize: 2 };
  const pool = new FacePool({ config });
  await pool.start();
  let busy = 0;
  let errors = 0;
  let peakQueue = 0;
  const sampler = setInterval(() => (peakQueue = Math.max(peakQueue, pool.status().queueSize)), 5);
  const latencies: number[] = [];
  const t0 = performance.now();
  const decided = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const submitted = performance.now();
      for (;;) {
        try {
          const r = await pool.analyse(new Uint8Array(selfies[i % selfies.length]!), 'single');
          latencies.push(performance.now() - submitted);
          return r.ok;
        } catch (err) {
          if (err instanceof AppError && err.code === 'BUSY') {
            busy++;
            await new Promise((resolve) => setTimeout(resolve, Number(err.details?.['retryAfterMs'] ?? 500)));
            continue;
          }
          errors++;
          return false;
        }
      }
    }),
  );
  const total = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  await pool.close();
  console.log(
    `\nburst      ${count} selfies at once into 2 workers, queue bound ${config.maxQueue}, task timeout ${config.taskTimeoutMs} ms\n` +
      `  decided   ${decided.filter(Boolean).length} accepted as one usable face, ${errors} errors, ${busy} BUSY answers retried after the hint\n` +
      `  queue     peak ${peakQueue} (bound ${config.maxQueue})\n` +
      `  time      all decided in ${total.toFixed(1)} s; time to decision p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}`,
  );
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AppError } from '../shared/app-error.js';
import type { Logger } from '../logger.js';
import type { PasswordPoolStatus } from '../domain/accounts/passwords.js';
import { TimingSafeBcrypt } from './bcrypt-password-hasher.js';

/** A unit of work for workers/bcrypt-worker.ts. */
export type BcryptTask = { kind: 'hash'; password: string; cost: number } | { kind: 'compare'; password: string; hash: string };

/** What the worker answers: the hash or the match, and the thread's time on it. */
export interface BcryptAnswer {
  value: string | boolean;
  ms: number;
}

export interface BcryptPoolOptions {
  cost: number;
  /** Worker threads (BCRYPT_THREADS). */
  threads: number;
  /** Password checks waiting for a thread beyond those running (BCRYPT_MAX_QUEUE); more answer BUSY. */
  maxQueue: number;
  logger?: Logger;
}

const MIN_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

/**
 * bcrypt on a small Piscina pool, so a class logging in at once (a quarter of a second of CPU
 * each at cost 12) does not stall every check-in on the node's event loop. Password checks are
 * refused BUSY with `details.retryAfterMs` once `maxQueue` wait for a thread; hashes (a password
 * being set: an import, a reset) are never refused, as each such request hashes one password at
 * a time and refusing one half-way would fail a whole import. close() ends the threads.
 */
export class BcryptWorkerHasher extends TimingSafeBcrypt {
  readonly cost: number;
  private readonly pool: Piscina<BcryptTask, BcryptAnswer>;
  private readonly threads: number;
  private readonly maxQueue: number;
  /** Tasks handed to the pool and not settled: running plus waiting. */
  private inFlight = 0;
  /** Moving average of a thread's time on one task; starts from cost 12's quarter second. */
  private serviceMs: number;
  private closed = false;

  constructor(options: BcryptPoolOptions) {
    super();
    this.cost = options.cost;
    this.threads = options.threads;
    this.maxQueue = options.maxQueue;
    this.serviceMs = 250 * 2 ** (options.cost - 12);
    this.pool = new Piscina({
      filename: workerFile(),
      // Threads start with the first login, not with every process that builds the application.
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      // A task the busy threads cannot take goes back to the head of the queue, not its tail
      // (Piscina's default): otherwise, under a class's stream of logins, some checks are passed
      // by every later one and wait minutes while the others take seconds.
      stricterFIFO: true,
    });
    this.pool.on('error', (err: unknown) => options.logger?.error({ err }, 'bcrypt worker error'));
  }

  async hash(password: string): Promise<string> {
    return (await this.run({ kind: 'hash', password, cost: this.cost })) as string;
  }

  protected async compare(password: string, hash: string): Promise<boolean> {
    return (await this.run({ kind: 'compare', password, hash })) as boolean;
  }

  protected override admit(): void {
    if (this.closed) throw shutDown();
    if (this.inFlight < this.threads + this.maxQueue) return;
    throw new AppError('BUSY', 'Too many logins at once on this server; retry after details.retryAfterMs.', {
      cause: 'password_queue_full',
      retryAfterMs: this.retryAfterMs(),
    });
  }

  status(): PasswordPoolStatus {
    return {
      threads: this.threads,
      running: Math.min(this.inFlight, this.threads),
      waiting: Math.max(0, this.inFlight - this.threads),
      maxQueue: this.maxQueue,
    };
  }

  /**
   * Ends the threads at once; a task still running or waiting is answered UNAVAILABLE. The
   * application calls it after its HTTP requests were drained, so none is waiting for an answer.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }

  private async run(task: BcryptTask): Promise<string | boolean> {
    if (this.closed) throw shutDown();
    this.inFlight += 1;
    try {
      const answer = await this.pool.run(task);
      this.serviceMs = this.serviceMs * 0.9 + answer.ms * 0.1;
      return answer.value;
    } catch (err) {
      if (this.closed) throw shutDown();
      throw err;
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Time for half the waiting checks to drain: a retry then finds room while the threads still have work. */
  private retryAfterMs(): number {
    const waiting = Math.max(0, this.inFlight - this.threads);
    const estimate = Math.ceil(((waiting / 2 + this.threads) / this.threads) * this.serviceMs);
    return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, estimate));
  }
}

function shutDown(): AppError {
  return new AppError('UNAVAILABLE', 'This server is shutting down; retry.', { retryAfterMs: MIN_RETRY_MS });
}

/**
 * The worker next to this module: compiled JS in dist, or under tsx a small bootstrap that
 * registers the TypeScript loader inside the thread (Node 20 does not apply `--import` there).
 */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const workers = path.resolve(path.dirname(here), '..', '..', 'workers');
  return path.extname(here) === '.ts' ? path.join(workers, 'bcrypt-worker.dev.mjs') : path.join(workers, 'bcrypt-worker.js');
}

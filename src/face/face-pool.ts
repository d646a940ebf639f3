import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AppError } from '../shared/app-error.js';
import type { Logger } from '../logger.js';
import { analyserSettings, type FaceConfig } from './face-config.js';
import type {
  AnalyseMode,
  AnalyseResult,
  BackendName,
  EmbedderOptions,
  EngineInfo,
  FaceTask,
  FaceWorkerData,
  FramesResult,
} from '../domain/face/face-types.js';
// Importing image-input also loads sharp on the main thread before any worker does, which
// sharp asks for when it is used from worker threads.
import { precheckImage } from './image-input.js';

export interface FacePoolOptions {
  config: FaceConfig;
  logger?: Logger;
  /** Test-only: lets `crashWorkerForTest()` kill a worker. Never set in production. */
  allowCrashTask?: boolean;
  /** Pipeline variant (face-eval); the net defaults to config.embedder, the rest to the calibrated choice. */
  embedder?: Partial<EmbedderOptions>;
  /**
   * The timer behind each task's deadline (`AbortSignal.timeout`): tests pass deadlines they
   * expire themselves, so a loaded machine neither ends a task early nor lets one run late.
   */
  deadline?: (ms: number) => AbortSignal;
}

export interface FacePoolStatus {
  backend: BackendName | null;
  modelId: string | null;
  modelVersion: string | null;
  /** True once a worker has loaded its models and answered. */
  ready: boolean;
  threads: number;
  queueSize: number;
  maxQueue: number;
  /** The BUSY hint the pool would give now (`details.retryAfterMs`); the engine's status passes it on. */
  retryAfterMs: number;
  /** Why the workers could not load their models (a missing package, a broken model file), until one does. */
  loadError: string | null;
}

export interface AnalyseOptions {
  /** Cancels the task; a running task is cancelled by replacing its worker. */
  signal?: AbortSignal;
}

const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;
/**
 * After the models failed to load, tasks are refused at once for this long, then one load is
 * tried again: a missing package fails again in a second, a passing fault (memory) recovers.
 */
const RELOAD_AFTER_MS = 60_000;
/**
 * The deadline of the start's 'info' task, which waits for a worker to load its models (seconds,
 * a minute on a loaded machine). FACE_TASK_TIMEOUT_MS is for analyses: applied here, a short
 * one would abort the load, and so terminate the loading worker, on every start.
 */
const LOAD_TIMEOUT_MS = 180_000;

/**
 * Main-thread face of the face workers: a bounded Piscina pool. A full queue answers BUSY with
 * `details.retryAfterMs` at once instead of stalling; each task has a deadline; a crashed
 * worker is replaced by Piscina and the queued tasks go to the new one.
 */
export class FacePool {
  private readonly pool: Piscina<FaceTask, AnalyseResult | FramesResult | EngineInfo>;
  private readonly config: FaceConfig;
  private readonly logger: Logger | undefined;
  private readonly deadline: (ms: number) => AbortSignal;
  private engine: EngineInfo | null = null;
  private starting: Promise<EngineInfo> | null = null;
  /** Moving average of the time a worker spends on one image (queue wait excluded). */
  private serviceMs = 150;
  private closed = false;
  private loadFailure: { message: string; at: number } | null = null;
  /**
   * Aborted when a worker fails while loading its models: Piscina reports that failure as a
   * pool 'error' and leaves the tasks waiting for the worker until their deadline, so each
   * selfie would wait FACE_TASK_TIMEOUT_MS for nothing.
   */
  private loading = new AbortController();

  constructor(options: FacePoolOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.deadline = options.deadline ?? ((ms) => AbortSignal.timeout(ms));
    const workerData: FaceWorkerData = {
      settings: analyserSettings(options.config),
      allowCrashTask: options.allowCrashTask === true,
      embedder: { model: options.config.embedder, ...options.embedder },
    };
    this.pool = new Piscina({
      filename: workerFile(),
      minThreads: options.config.poolSize,
      maxThreads: options.config.poolSize,
      maxQueue: options.config.maxQueue,
      // Models take seconds to load: never let an idle worker go.
      idleTimeout: Number.POSITIVE_INFINITY,
      // Selfies are analysed in the order they came (see bcrypt-worker-hasher.ts): Piscina's
      // default puts a task the busy workers could not take at the tail, so in a lecture hall's
      // burst some students' verdicts were passed by every later selfie.
      stricterFIFO: true,
      workerData,
    });
    this.pool.on('error', (err: unknown) => {
      this.logger?.error({ err }, 'face worker error');
      if (this.engine === null) this.modelsFailed(err);
    });
  }

  /** Resolves once a worker has its models loaded; logs the backend chosen. Idempotent. */
  start(): Promise<EngineInfo> {
    this.starting ??= this.runTask({ kind: 'info' }, undefined).then(
      (info) => {
        const engine = info as EngineInfo;
        this.engine = engine;
        this.loadFailure = null;
        this.logger?.info(
          { backend: engine.backend, modelId: engine.modelId, modelVersion: engine.modelVersion, threads: this.config.poolSize },
          'face engine ready',
        );
        return engine;
      },
      (err: unknown) => {
        // A later start (after RELOAD_AFTER_MS) may try again.
        this.starting = null;
        if (!(err instanceof AppError)) this.modelsFailed(err);
        throw err;
      },
    );
    return this.starting;
  }

  /**
   * Analyses an encoded selfie or photo. Resolves with a coded failure for bad images and
   * unusable faces; rejects with AppError BUSY when the queue is full or the deadline passes.
   * The image's buffer is transferred to the worker when the view covers it entirely (it is
   * then detached for the caller); otherwise the bytes are copied.
   */
  async analyse(image: Uint8Array, mode: AnalyseMode, options: AnalyseOptions = {}): Promise<AnalyseResult> {
    // Cheap refusals stay on this thread, so a 60 MB upload is never copied to a worker.
    const pre = precheckImage(image, { maxBytes: this.config.image.maxBytes });
    if (!pre.ok) return pre;
    const owned =
      image.byteOffset === 0 && image.byteLength === image.buffer.byteLength && image.buffer instanceof ArrayBuffer ? image : copyOf(image);
    const result = await this.runTask({ kind: 'analyse', image: owned, mode }, options.signal, [owned.buffer as ArrayBuffer]);
    return result as AnalyseResult;
  }

  /**
   * Measures the frames of a liveness challenge on one worker, in order (FramesResult). A frame
   * refused by the cheap checks is reported as such without reaching the worker; the others are
   * copied and transferred. Rejects like `analyse` when the pool is full or too slow.
   */
  async analyseFrames(frames: readonly Uint8Array[], options: AnalyseOptions = {}): Promise<FramesResult> {
    const refused = new Map<number, FramesResult['frames'][number]>();
    const sent: Uint8Array[] = [];
    frames.forEach((frame, i) => {
      const pre = precheckImage(frame, { maxBytes: this.config.image.maxBytes });
      if (pre.ok) sent.push(copyOf(frame));
      else refused.set(i, { ok: false, reason: pre.reason });
    });
    const measured =
      sent.length === 0
        ? { frames: [], modelId: this.engine?.modelId ?? '', totalMs: 0 }
        : ((await this.runTask(
            { kind: 'frames', frames: sent },
            options.signal,
            sent.map((f) => f.buffer as ArrayBuffer),
          )) as FramesResult);
    const queue = [...measured.frames];
    return { ...measured, frames: frames.map((_, i) => refused.get(i) ?? queue.shift()!) };
  }

  /** Test-only: asks a worker to exit abruptly. Rejects as the worker dies. */
  crashWorkerForTest(): Promise<unknown> {
    return this.runTask({ kind: 'crash' }, undefined);
  }

  /** Test-only: sets a worker spinning for ever; the task deadline must free the pool. */
  hangWorkerForTest(): Promise<unknown> {
    return this.runTask({ kind: 'hang' }, undefined);
  }

  /** Memory and identity of whichever worker answers; used by the benchmark. */
  async workerInfo(): Promise<EngineInfo> {
    return (await this.runTask({ kind: 'info' }, undefined)) as EngineInfo;
  }

  status(): FacePoolStatus {
    return {
      backend: this.engine?.backend ?? null,
      modelId: this.engine?.modelId ?? null,
      modelVersion: this.engine?.modelVersion ?? null,
      ready: this.engine !== null && !this.closed,
      threads: this.pool.threads.length,
      queueSize: this.pool.queueSize,
      maxQueue: this.config.maxQueue,
      retryAfterMs: this.retryAfterMs(),
      loadError: this.loadFailure?.message ?? null,
    };
  }

  /** Stops every worker at once; queued and running tasks are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }

  private async runTask(
    task: FaceTask,
    signal: AbortSignal | undefined,
    transferList?: ArrayBuffer[],
  ): Promise<AnalyseResult | FramesResult | EngineInfo> {
    if (this.closed) throw new AppError('UNAVAILABLE', 'The face engine is shut down.');
    if (this.loadFailure && task.kind !== 'info') {
      if (Date.now() - this.loadFailure.at < RELOAD_AFTER_MS) throw this.notLoaded();
      this.loadFailure.at = Date.now();
      this.start().catch(() => undefined); // logged by modelsFailed
    }
    if (this.pool.queueSize >= this.config.maxQueue && this.pool.threads.length > 0 && this.pool.idleThreads === 0) {
      throw this.busy('queue_full');
    }
    const deadline = this.deadline(task.kind === 'info' ? Math.max(LOAD_TIMEOUT_MS, this.config.taskTimeoutMs) : this.config.taskTimeoutMs);
    const loading = this.loading.signal;
    const combined = AbortSignal.any(signal ? [signal, deadline, loading] : [deadline, loading]);
    try {
      const result = await this.pool.run(task, { signal: combined, ...(transferList ? { transferList } : {}) });
      if (task.kind === 'analyse' && 'ok' in result && result.ok) this.serviceMs = this.serviceMs * 0.9 + result.timings.total * 0.1;
      return result;
    } catch (err) {
      throw this.translate(err, signal, deadline, loading);
    }
  }

  /** The models did not load: remembered for status and readiness, and the waiting tasks told at once. */
  private modelsFailed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.loadFailure?.message !== message) this.logger?.error({ err }, 'face models failed to load; selfies go to the teacher');
    this.loadFailure = { message, at: Date.now() };
    const waiting = this.loading;
    this.loading = new AbortController();
    waiting.abort(this.notLoaded());
  }

  private notLoaded(): AppError {
    return new AppError('UNAVAILABLE', 'The face engine could not load its models.', {
      cause: 'models_failed',
      retryAfterMs: RELOAD_AFTER_MS,
    });
  }

  private translate(err: unknown, signal: AbortSignal | undefined, deadline: AbortSignal, loading: AbortSignal): unknown {
    if (err instanceof AppError) return err;
    if (loading.aborted && loading.reason instanceof AppError) return loading.reason;
    const message = err instanceof Error ? err.message : String(err);
    if (/queue is at limit/i.test(message)) return this.busy('queue_full');
    if (signal?.aborted) return signal.reason ?? err;
    if (deadline.aborted) {
      this.logger?.warn({ timeoutMs: this.config.taskTimeoutMs }, 'face task timed out');
      return this.busy('timeout');
    }
    if (this.closed) return new AppError('UNAVAILABLE', 'The face engine is shut down.');
    if (/terminated|exited|exit code/i.test(message)) {
      this.logger?.error({ err }, 'face worker died during a task; Piscina replaces it');
      return new AppError('UNAVAILABLE', 'The face engine failed on this image; retry later.', { retryAfterMs: this.retryAfterMs() });
    }
    return err;
  }

  private busy(cause: 'queue_full' | 'timeout'): AppError {
    return new AppError('BUSY', undefined, { retryAfterMs: this.retryAfterMs(), cause });
  }

  /**
   * Time for half the queue to drain at the observed speed: a client retrying then finds room
   * while the workers still have work, so a burst neither stalls them nor hammers the queue.
   */
  private retryAfterMs(): number {
    const threads = Math.max(1, this.config.poolSize);
    const estimate = Math.ceil(((this.pool.queueSize / 2 + threads) / threads) * this.serviceMs);
    return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, estimate));
  }
}

/**
 * The worker next to this module: compiled JS in dist, or under tsx a small bootstrap that
 * registers the TypeScript loader inside the thread (Node 20 does not apply `--import` there).
 */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const workers = path.resolve(path.dirname(here), '..', '..', 'workers');
  return path.extname(here) === '.ts' ? path.join(workers, 'face-worker.dev.mjs') : path.join(workers, 'face-worker.js');
}

/**
 * The bytes in a buffer of their own, safe to transfer. Not `image.slice()`: on a Node Buffer
 * (socket.io attachments, multipart uploads) that is a view, so transferring its buffer would
 * detach whatever shares it, such as the other attachments of the same message.
 */
function copyOf(image: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(image);
}

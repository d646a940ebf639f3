import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../domain/events.js';
import type { PasswordHasher } from '../domain/accounts/passwords.js';
import type { FaceEngine } from '../domain/face/face-engine.js';
import type { OutboxHoldEvent } from '../domain/notifications/outbox-dispatcher.js';
import type { Store } from '../domain/ports/store.js';
import type { WalCheckpointer } from '../store/sqlite/wal-checkpointer.js';
import type { RecordWriter } from '../store/sqlite/record-writer.js';
import { OperationDurations } from './operation-durations.js';
import { PairCounts } from './pair-counts.js';
import { registerProcessMetrics } from './process-metrics.js';

/**
 * The node's Prometheus metrics, on a registry of its own (several applications share one
 * process in tests). Names follow Prometheus conventions: seconds, `_total` for counters.
 * Labels are bounded sets (routes as declared, event names, error codes), never ids.
 */
export interface AppMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly socketCommands: Counter<'event' | 'outcome'>;
  /** What socketCommands adds at each scrape (commandAnswers counts here). */
  readonly socketCommandCounts: PairCounts<'event', 'outcome'>;
  readonly socketAdmissionRefusals: Counter<'reason'>;
  /** Connections closed for more than SOCKET_MAX_QUEUED_BYTES waiting for them. */
  readonly socketQueueOverflowCloses: Counter;
  /** Handshakes refused for SOCKET_MAX_PER_USER sockets of their user open on this node. */
  readonly socketUserLimitRefusals: Counter;
  readonly storeDuration: OperationDurations;
  readonly schedulerTicks: Counter;
  /** A gauge whose value is read when Prometheus scrapes. */
  gauge(name: string, help: string, read: () => number): void;
  /** A gauge with one value per label value, read when Prometheus scrapes. */
  labelledGauge(name: string, help: string, label: string, read: () => Record<string, number>): void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): AppMetrics {
  const registry = new Registry();
  // Process CPU, memory, GC and event-loop lag (nodejs_eventloop_lag_* seconds).
  registerProcessMetrics(registry);
  const socketCommandCounts = new PairCounts('event', 'outcome');
  return {
    registry,
    httpDuration: new Histogram({
      name: 'attendance_http_request_duration_seconds',
      help: 'HTTP requests by method, declared route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    socketCommands: new Counter({
      name: 'attendance_socket_commands_total',
      help: 'Socket commands answered, by event and outcome (ok or the error code)',
      labelNames: ['event', 'outcome'],
      registers: [registry],
      collect() {
        socketCommandCounts.flushInto(this);
      },
    }),
    socketCommandCounts,
    socketAdmissionRefusals: new Counter({
      name: 'attendance_socket_admission_refusals_total',
      help: 'Socket.IO handshakes refused BUSY by the admission check, by reason (handshakes: too many in flight; address: its client address holds its share of them; lag: event loop late)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    socketQueueOverflowCloses: new Counter({
      name: 'attendance_socket_queue_overflow_closes_total',
      help: 'Socket.IO connections closed because more than SOCKET_MAX_QUEUED_BYTES waited to be written to them (a client that stopped reading)',
      registers: [registry],
    }),
    socketUserLimitRefusals: new Counter({
      name: 'attendance_socket_user_limit_refusals_total',
      help: 'Socket.IO handshakes refused RATE_LIMITED because their user had SOCKET_MAX_PER_USER sockets open on this node',
      registers: [registry],
    }),
    storeDuration: new OperationDurations({
      name: 'attendance_store_operation_duration_seconds',
      help: 'Store operations by repository method',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    schedulerTicks: new Counter({
      name: 'attendance_scheduler_ticks_total',
      help: 'Passes of this node over the sessions due to close',
      registers: [registry],
    }),
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    },
    labelledGauge(name, help, label, read) {
      new Gauge({
        name,
        help,
        labelNames: [label],
        registers: [registry],
        collect() {
          this.reset();
          for (const [value, n] of Object.entries(read())) this.set({ [label]: value }, n);
        },
      });
    },
  };
}

/**
 * The SQLite store's WAL checkpoint worker: 1 while it runs (or starts), 0 once it died and
 * SQLite's automatic checkpoint on the event loop is back on (logged at error level by the
 * checkpointer), which lasts until the process restarts. Alert on `== 0`.
 */
export function observeWalCheckpointer(metrics: AppMetrics, checkpointer: Pick<WalCheckpointer, 'status'>): void {
  metrics.gauge(
    'attendance_sqlite_checkpoint_worker_up',
    "1 while the SQLite WAL checkpoint worker runs; 0 once it died and SQLite's automatic checkpoint is back on",
    () => (checkpointer.status().mode === 'automatic' ? 0 : 1),
  );
}

/**
 * The SQLite store's record writer thread: 1 while it commits the check-in batches, 0 once it
 * died and they are committed on the event loop (logged at error level), until the process
 * restarts. Alert on `== 0`.
 */
export function observeRecordWriter(metrics: AppMetrics, writer: Pick<RecordWriter, 'status'>): void {
  metrics.gauge(
    'attendance_sqlite_writer_worker_up',
    '1 while the SQLite record writer worker commits the check-in batches; 0 once it died and the main connection commits them',
    () => (writer.status().mode === 'inline' ? 0 : 1),
  );
}

/** Socket.IO connections on this node, read at scrape time. */
export function observeSockets(metrics: AppMetrics, connected: () => number): void {
  metrics.gauge('attendance_sockets_connected', 'Socket.IO connections on this node', connected);
}

/** 1 per connected Redis client of this node (pub, sub, data), read at scrape time. */
export function observeRedis(metrics: AppMetrics, status: () => Record<string, boolean>): void {
  metrics.labelledGauge('attendance_redis_connected', '1 while the Redis client of this role is connected', 'client', () =>
    Object.fromEntries(Object.entries(status()).map(([role, up]) => [role, up ? 1 : 0])),
  );
}

/** Times every repository call of the store (`records.insertIfAbsent`, ...). */
export function observeStore(store: Store, metrics: AppMetrics): Store {
  const wrapped = new Map<string, unknown>();
  const repository = (name: string, repo: object): object => {
    // One timed function per method, made at its first call: a check-in makes a dozen store
    // calls, and each would otherwise hash its label and allocate a wrapper.
    const timed = new Map<string, { of: unknown; fn: (...args: unknown[]) => unknown }>();
    return new Proxy(repo, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        const known = timed.get(prop);
        if (known?.of === value) return known.fn;
        const times = metrics.storeDuration.times(`${name}.${prop}`);
        const fn = (...args: unknown[]) => {
          const start = performance.now();
          const end = () => times.observe((performance.now() - start) / 1000);
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) return result.finally(end);
          end();
          return result;
        };
        timed.set(prop, { of: value, fn });
        return fn;
      },
    });
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      // Repositories are the plain objects; ping, close and kind pass through untimed.
      if (typeof prop !== 'string' || value === null || typeof value !== 'object' || prop === 'transfer') return value;
      let repo = wrapped.get(prop);
      if (!repo) {
        repo = repository(prop, value);
        wrapped.set(prop, repo);
      }
      return repo;
    },
  });
}

/** Counts a socket command's answer by event and outcome (added to the counter at each scrape). */
export function commandAnswers(metrics: AppMetrics): (event: string, outcome: string) => void {
  const counts = metrics.socketCommandCounts;
  return (event, outcome) => counts.inc(event, outcome);
}

/** Face analyses by outcome, their time, BUSY refusals, and the queue's depth at scrape time. */
export function observeFace(engine: FaceEngine, metrics: AppMetrics): FaceEngine {
  const duration = new Histogram({
    name: 'attendance_face_task_duration_seconds',
    help: 'Face analyses (queue wait plus work) by outcome: ok, a refusal reason, or the error code (BUSY)',
    labelNames: ['outcome'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [metrics.registry],
  });
  metrics.gauge('attendance_face_queue_depth', 'Face analyses waiting for a worker', () => engine.status().queueSize);
  metrics.gauge('attendance_face_ready', 'Whether a face worker has its models loaded (1) or not (0: loading, or failed to load)', () =>
    engine.status().ready ? 1 : 0,
  );
  return {
    async analyse(image, mode) {
      const end = duration.startTimer();
      try {
        const result = await engine.analyse(image, mode);
        end({ outcome: result.ok ? 'ok' : result.reason });
        return result;
      } catch (err) {
        end({ outcome: errorOutcome(err) });
        throw err;
      }
    },
    ...(engine.analyseFrames
      ? {
          async analyseFrames(frames: readonly Uint8Array[]) {
            const end = duration.startTimer();
            try {
              const result = await engine.analyseFrames!(frames);
              end({ outcome: 'frames' });
              return result;
            } catch (err) {
              end({ outcome: errorOutcome(err) });
              throw err;
            }
          },
        }
      : {}),
    status: () => engine.status(),
    ...(engine.close ? { close: () => engine.close!() } : {}),
  };
}

/** A failed call's outcome label: its error code (BUSY, UNAVAILABLE), or `error` for anything uncoded. */
function errorOutcome(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

/**
 * Password checks by outcome (a login storm shows as `BUSY`, each one a login answered 503 with
 * Retry-After) and, for a hasher with a pool, its threads and queue read at scrape time.
 */
export function observePasswords(hasher: PasswordHasher, metrics: AppMetrics): PasswordHasher {
  const checks = new Counter({
    name: 'attendance_password_checks_total',
    help: 'Password checks (logins, password changes) by outcome: match, mismatch, or the error code (BUSY: the bcrypt queue was full)',
    labelNames: ['outcome'],
    registers: [metrics.registry],
  });
  const status = hasher.status?.bind(hasher);
  if (status) {
    metrics.gauge('attendance_password_threads', 'Worker threads that hash and check passwords (BCRYPT_THREADS)', () => status().threads);
    metrics.gauge('attendance_password_running', 'Password hashes and checks on a bcrypt thread now', () => status().running);
    metrics.gauge(
      'attendance_password_queue_depth',
      'Password hashes and checks waiting for a bcrypt thread; checks beyond BCRYPT_MAX_QUEUE are refused BUSY',
      () => status().waiting,
    );
    metrics.gauge('attendance_password_queue_max', 'BCRYPT_MAX_QUEUE: password checks that may wait for a thread', () => status().maxQueue);
  }
  return {
    hash: (password) => hasher.hash(password),
    async verify(password, hash) {
      try {
        const match = await hasher.verify(password, hash);
        checks.inc({ outcome: match ? 'match' : 'mismatch' });
        return match;
      } catch (err) {
        checks.inc({ outcome: errorOutcome(err) });
        throw err;
      }
    },
    async verifyAll(password, hashes) {
      try {
        const matches = await hasher.verifyAll(password, hashes);
        for (const match of matches) checks.inc({ outcome: match ? 'match' : 'mismatch' });
        return matches;
      } catch (err) {
        // Admitted as one: a login refused is one BUSY, however many comparisons it would have made.
        checks.inc({ outcome: errorOutcome(err) });
        throw err;
      }
    },
    ...(hasher.close ? { close: () => hasher.close!() } : {}),
    ...(status ? { status } : {}),
  };
}

/** Record changes by status and reason, and closed sessions, from the domain's own events. */
export function observeDomainEvents(bus: EventBus, metrics: AppMetrics): () => void {
  const counts = new PairCounts('status', 'reason');
  // Registered by its construction; counted in `counts`, added at each scrape.
  new Counter({
    name: 'attendance_record_changes_total',
    help: 'Stored attendance-record changes (check-ins, verdicts, teacher decisions, closing), by status and reason; each is one roster broadcast',
    labelNames: ['status', 'reason'],
    registers: [metrics.registry],
    collect() {
      counts.flushInto(this);
    },
  });
  const closed = new Counter({
    name: 'attendance_sessions_closed_total',
    help: 'Sessions closed (by a teacher or at close-at)',
    registers: [metrics.registry],
  });
  return bus.subscribe((event) => {
    if (event.type === 'roster.changed') counts.inc(event.checkin.status, event.checkin.reason ?? 'none');
    else if (event.type === 'session.changed' && event.session.status === 'closed') closed.inc();
  });
}

/** The outbox held back while the shared send count (Redis) is out of reach: how often, how long. */
export function outboxHoldMetrics(metrics: AppMetrics): (event: OutboxHoldEvent) => void {
  const outages = new Counter({
    name: 'attendance_outbox_held_outages_total',
    help: 'Times this node began holding the outbox back: the shared send count of MAIL_MAX_PER_MINUTE (Redis) out of reach',
    registers: [metrics.registry],
  });
  const passes = new Counter({
    name: 'attendance_outbox_held_passes_total',
    help: 'Outbox passes of this node that sent nothing because the shared send count (Redis) was out of reach',
    registers: [metrics.registry],
  });
  let held = 0;
  metrics.gauge(
    'attendance_outbox_held_back',
    '1 while this node holds the outbox back for the shared send count (Redis) out of reach',
    () => held,
  );
  return (event) => {
    if (event === 'outage') {
      outages.inc();
      held = 1;
    } else if (event === 'held-pass') passes.inc();
    else held = 0;
  };
}

/**
 * `scripts/loadtest.ts --senders N`: the student sockets and their check-ins on N worker threads
 * (scripts/lib/loadtest-sender-worker.ts), a room's students on one thread. The generator's one
 * loop used to send every check-in, read every acknowledgement and every screen's roster message
 * and keep the figures: at 5,000 check-ins/s its own delay (the schedule's slip, an
 * acknowledgement read late) was counted as the node's. Here the main thread keeps the screens,
 * the schedule's count and the figures, and reads the senders' times as they report them.
 */
import { Worker } from 'node:worker_threads';

/** What a sender thread is started with. */
export interface SenderData {
  senders: number;
  /** Its sockets, connected in this order; a plan entry names one by its place here. */
  sockets: { url: string; token: string }[];
  /** Check-ins per second offered by the whole run (every thread's schedule is the whole plan's). */
  rate: number;
  durationMs: number;
  /** Its share of the check-ins in flight at most. */
  window: number;
  location: { lat: number; lon: number; accuracy: number };
  /** How often it posts the times it has (ms). */
  flushMs: number;
  /** Which Socket.IO client holds its sockets (scripts/lib/lean-socket.ts or socket.io-client). */
  client: 'lean' | 'socketio';
}

/** A check-in of the thread's share: its place in the whole plan (its due time), its socket, its session. */
export interface SenderEntry {
  index: number;
  socket: number;
  sessionId: string;
}

export type ToSender = { type: 'start'; startAbs: number; plan: SenderEntry[] } | { type: 'stop' };

export type FromSender =
  | { type: 'connected'; n: number }
  | { type: 'ready'; failed: number }
  /** sent: [index, at]...; answered: [index, at, code index into codes or -1 when ok]... (absolute ms). */
  | { type: 'events'; sent: number[]; answered: number[]; codes: string[] }
  | { type: 'done'; unsent: number; lagP99Ms: number; lagMaxMs: number };

export interface SenderEvents {
  connected(n: number): void;
  /** `at` absolute ms. */
  sent(index: number, at: number): void;
  /** `code` null when acknowledged ok. */
  answered(index: number, at: number, code: string | null): void;
}

export interface SenderTotals {
  failed: number;
  unsent: number;
  /** Each thread's own event-loop delay over the load. */
  lag: { p99Ms: number; maxMs: number }[];
}

export class Senders {
  private readonly workers: Worker[];
  private readonly ready: Promise<number>;
  private done: Promise<SenderTotals> | null = null;
  private stopped: Promise<void> | null = null;

  constructor(
    shares: SenderData[],
    private readonly on: SenderEvents,
  ) {
    // The .mjs entry registers the TypeScript loader inside the thread first.
    const entry = new URL('./loadtest-sender-worker.dev.mjs', import.meta.url);
    this.workers = shares.map((data) => new Worker(entry, { workerData: data, execArgv: [], name: 'loadtest-sender' }));
    this.ready = Promise.all(
      this.workers.map(
        (w) =>
          new Promise<number>((resolve, reject) => {
            w.on('error', reject);
            w.on('message', (m: FromSender) => {
              if (m.type === 'connected') this.on.connected(m.n);
              else if (m.type === 'ready') resolve(m.failed);
              else if (m.type === 'events') this.events(m);
            });
          }),
      ),
    ).then((failed) => failed.reduce((a, b) => a + b, 0));
  }

  /** Once every thread has tried all its sockets: how many failed to connect. */
  connectedAll(): Promise<number> {
    return this.ready;
  }

  /** Starts every thread's schedule at `startAbs` (absolute ms); resolves once each has every answer. */
  start(startAbs: number, plans: SenderEntry[][]): Promise<SenderTotals> {
    const failed = this.ready;
    this.done = Promise.all(
      this.workers.map(
        (w, k) =>
          new Promise<Extract<FromSender, { type: 'done' }>>((resolve) => {
            w.on('message', (m: FromSender) => {
              if (m.type === 'done') resolve(m);
            });
            w.postMessage({ type: 'start', startAbs, plan: plans[k]! } satisfies ToSender);
          }),
      ),
    ).then(async (done) => ({
      failed: await failed,
      unsent: done.reduce((n, d) => n + d.unsent, 0),
      lag: done.map((d) => ({ p99Ms: d.lagP99Ms, maxMs: d.lagMaxMs })),
    }));
    return this.done;
  }

  /** Disconnects the threads' sockets and ends the threads; once, whoever asks again. */
  stop(): Promise<void> {
    this.stopped ??= this.end();
    return this.stopped;
  }

  private async end(): Promise<void> {
    await Promise.all(
      this.workers.map((w) => {
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.postMessage({ type: 'stop' } satisfies ToSender);
        // A thread stuck in a connect still ends with the run.
        const bound = setTimeout(() => void w.terminate(), 5_000);
        return exited.finally(() => clearTimeout(bound));
      }),
    );
  }

  private events(m: Extract<FromSender, { type: 'events' }>): void {
    for (let i = 0; i < m.sent.length; i += 2) this.on.sent(m.sent[i]!, m.sent[i + 1]!);
    for (let i = 0; i < m.answered.length; i += 3) {
      const code = m.answered[i + 2]!;
      this.on.answered(m.answered[i]!, m.answered[i + 1]!, code < 0 ? null : m.codes[code]!);
    }
  }
}

/**
 * A sender thread of `scripts/loadtest.ts --senders N` (scripts/lib/loadtest-senders.ts starts
 * it): it holds a share of the student sockets, sends their check-ins on the open-loop schedule
 * and reads their acknowledgements on its own event loop, so that the loop which reads the
 * screens' roster messages and keeps the figures does not delay either. Times cross to the main
 * thread as absolute milliseconds (performance.timeOrigin + performance.now()), in batches.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack } from '../../src/shared/errors.js';
import { InFlight } from './in-flight.js';
import { CheckinFrames, LeanClients, type LeanSocket } from './lean-socket.js';
import type { FromSender, SenderData, ToSender } from './loadtest-senders.js';

const data = workerData as SenderData;
const port = parentPort!;
const abs = () => performance.timeOrigin + performance.now();
const sockets: (Socket | null)[] = [];
/** --client lean: the sockets, and the check-ins sent and not yet answered. */
const leanSockets: (LeanSocket | null)[] = [];
let leanInFlight = 0;
const lean = new LeanClients((index, at, code) => {
  leanInFlight -= 1;
  answered.push(index, performance.timeOrigin + at, code === null ? -1 : codeIndex(code));
});
const frames = new CheckinFrames(data.location);
/** Times and outcomes not yet posted: [plan index, sent] and [plan index, acked, code index or -1]. */
let sent: number[] = [];
let answered: number[] = [];
const codes: string[] = [];
const codeIndex = (code: string): number => {
  const at = codes.indexOf(code);
  if (at >= 0) return at;
  codes.push(code);
  return codes.length - 1;
};

function post(message: FromSender): void {
  port.postMessage(message);
}

function flush(): void {
  if (sent.length === 0 && answered.length === 0) return;
  post({ type: 'events', sent, answered, codes: [...codes] });
  sent = [];
  answered = [];
}

function connectSocket(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 20_000 });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}

async function connectAll(): Promise<void> {
  let next = 0;
  let failed = 0;
  const width = Math.max(1, Math.ceil(200 / data.senders));
  await Promise.all(
    Array.from({ length: Math.min(width, data.sockets.length) }, async () => {
      while (next < data.sockets.length) {
        const k = next++;
        const { url, token } = data.sockets[k]!;
        const ok =
          data.client === 'lean'
            ? (leanSockets[k] = await lean.connect(url, token, { reconnect: true, reconnectDelayMs: 1_000 }).catch(() => null))
            : (sockets[k] = await connectSocket(url, token).catch(() => null));
        if (ok) post({ type: 'connected', n: 1 });
        else failed += 1;
      }
    }),
  );
  post({ type: 'ready', failed });
}

/** Sends this thread's share of the plan on its schedule: entry `index` of the whole plan is due at start + index / rate. */
async function load(message: Extract<ToSender, { type: 'start' }>): Promise<void> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const start = message.startAbs - performance.timeOrigin;
  const end = start + data.durationMs;
  const flusher = setInterval(flush, data.flushMs);
  const inFlight = new InFlight();
  let next = 0;
  const plan = message.plan;
  while (data.client === 'lean' && next < plan.length && performance.now() < end) {
    const dueIndex = Math.floor(((performance.now() - start) / 1000) * data.rate);
    while (next < plan.length && plan[next]!.index < dueIndex && leanInFlight < data.window) {
      const { index, socket: k, sessionId } = plan[next++]!;
      const socket = leanSockets[k];
      if (!socket?.isConnected) {
        answered.push(index, abs(), codeIndex('NOT_CONNECTED'));
        continue;
      }
      sent.push(index, abs());
      leanInFlight += 1;
      socket.send(index, frames.frame(index, sessionId, Date.now()));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  // Every answer in: acknowledged, refused, timed out (the clients' sweep) or lost with its connection.
  while (data.client === 'lean' && leanInFlight > 0) await new Promise((r) => setTimeout(r, 5));
  while (data.client === 'socketio' && next < plan.length && performance.now() < end) {
    const dueIndex = Math.floor(((performance.now() - start) / 1000) * data.rate);
    while (next < plan.length && plan[next]!.index < dueIndex && inFlight.size < data.window) {
      const { index, socket: k, sessionId } = plan[next++]!;
      const socket = sockets[k];
      if (!socket) {
        answered.push(index, abs(), codeIndex('NOT_CONNECTED'));
        continue;
      }
      const t0 = abs();
      sent.push(index, t0);
      inFlight.add(
        (
          socket.timeout(15_000).emitWithAck('checkin:submit', {
            sessionId,
            location: { ...data.location, timestamp: Date.now() },
          }) as Promise<Ack<unknown>>
        ).then(
          (a) => void answered.push(index, abs(), a.ok ? -1 : codeIndex(a.error.code)),
          () => void answered.push(index, abs(), codeIndex('ACK_TIMEOUT')),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await inFlight.settled();
  clearInterval(flusher);
  flush();
  lag.disable();
  post({ type: 'done', unsent: plan.length - next, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6 });
}

port.on('message', (message: ToSender) => {
  if (message.type === 'start') {
    void load(message);
  } else {
    for (const s of sockets) s?.disconnect();
    lean.close();
    port.close();
  }
});

await connectAll();

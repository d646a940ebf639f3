import type { Socket } from 'socket.io-client';
import type { Ack } from '../../src/shared/errors.js';
import type { CheckinView } from '../../src/shared/events.js';
import { percentile } from './loadtest-cluster.js';

/** The policy of a selfie room's sessions. */
export const SELFIE_POLICY = { selfie: true, geofence: true, rotatingCode: false, network: false } as const;

/** FACE_TASK_TIMEOUT_MS (30 s by default) turns a stuck analysis into a decision well before this. */
const DECISION_TIMEOUT_MS = 45_000;
const DEFAULT_BUSY_WAIT_MS = 1_000;

/** Measurements of the selfie check-ins of one run. */
export class SelfieStats {
  /** Accepted submit to the `checkin:decision` with verifying false. */
  readonly verification: number[] = [];
  /** First attempt to that decision, BUSY waits included. */
  readonly endToEnd: number[] = [];
  readonly outcomes = new Map<string, number>();
  /** Bands the load generator computed for the photos submitted. */
  readonly expected = new Map<string, number>();
  submitted = 0;
  decided = 0;
  busyAcks = 0;
  busyGaveUp = 0;
  noDecision = 0;

  count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  expect(outcome: string): void {
    this.expected.set(outcome, (this.expected.get(outcome) ?? 0) + 1);
  }
}

export interface SelfieSubmit {
  socket: Socket;
  sessionId: string;
  payload: () => Record<string, unknown>;
  /** Calls in all while the answer is BUSY, the first included. */
  attempts: number;
  stats: SelfieStats;
  emitAck<T>(s: Socket, event: string, payload: unknown): Promise<Ack<T>>;
  /** Called before every attempt (the roster propagation clock starts there). */
  onAttempt(): void;
  /** Latency of every acknowledgement, BUSY ones included (`ok` false: nothing was stored). */
  onAck(ms: number, ok: boolean): void;
}

/** How one selfie check-in ended, for the caller's acked/error counts. */
export type SelfieEnd = { acked: true } | { acked: false; code: string };

/**
 * Submits a selfie check-in, retries BUSY answers after their `details.retryAfterMs` hint, and
 * waits for the student's verdict. The listener is in place before the first emit, so a verdict
 * that comes before the acknowledgement (it travels another way, through the Redis adapter) is
 * not missed.
 */
export async function submitSelfie(o: SelfieSubmit): Promise<SelfieEnd> {
  let onDecision: ((v: CheckinView) => void) | undefined;
  const decision = new Promise<{ view: CheckinView; at: number }>((resolve) => {
    onDecision = (view) => {
      if (view.sessionId === o.sessionId && !view.verifying) resolve({ view, at: performance.now() });
    };
    o.socket.on('checkin:decision', onDecision);
  });
  const first = performance.now();
  o.stats.submitted += 1;
  try {
    for (let attempt = 1; ; attempt += 1) {
      o.onAttempt();
      const t0 = performance.now();
      let ack: Ack<CheckinView>;
      try {
        ack = await o.emitAck<CheckinView>(o.socket, 'checkin:submit', o.payload());
      } catch {
        o.stats.count('error ACK_TIMEOUT');
        return { acked: false, code: 'ACK_TIMEOUT' };
      }
      o.onAck(performance.now() - t0, ack.ok);
      if (!ack.ok) {
        if (ack.error.code !== 'BUSY') {
          o.stats.count(`error ${ack.error.code}`);
          return { acked: false, code: ack.error.code };
        }
        o.stats.busyAcks += 1;
        if (attempt >= o.attempts) {
          o.stats.busyGaveUp += 1;
          o.stats.count('BUSY (gave up)');
          return { acked: false, code: 'BUSY' };
        }
        const hint = ack.error.details?.['retryAfterMs'];
        await new Promise((r) => setTimeout(r, typeof hint === 'number' && hint >= 0 ? hint : DEFAULT_BUSY_WAIT_MS));
        continue;
      }
      // Decided at submission (outside the geofence, an earlier final answer): no verification follows.
      if (!ack.data.verifying) {
        o.stats.count(outcomeOf(ack.data));
        return { acked: true };
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), DECISION_TIMEOUT_MS)));
      const got = await Promise.race([decision, timeout]);
      clearTimeout(timer);
      if (!got) {
        o.stats.noDecision += 1;
        o.stats.count('no decision');
      } else {
        o.stats.decided += 1;
        o.stats.verification.push(got.at - t0);
        o.stats.endToEnd.push(got.at - first);
        o.stats.count(outcomeOf(got.view));
      }
      return { acked: true };
    }
  } finally {
    if (onDecision) o.socket.off('checkin:decision', onDecision);
  }
}

function outcomeOf(view: CheckinView): string {
  return view.reason ? `${view.status} ${view.reason}` : view.status;
}

const ms = (n: number) => (Number.isNaN(n) ? 'n/a' : `${n.toFixed(0)} ms`);
const tally = (m: Map<string, number>) =>
  m.size === 0
    ? 'none'
    : [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');

/** Context of the selfie lines of a run's report. */
export interface SelfieRunInfo {
  stats: SelfieStats;
  selfieRooms: number;
  rooms: number;
  faceWorkersPerNode: number;
  people: number;
  impostorsPerRoom: number;
  attempts: number;
}

/** Report lines of the selfie check-ins. */
export function selfieReport(r: SelfieRunInfo): string[] {
  const s = r.stats;
  const v = [...s.verification].sort((a, b) => a - b);
  const e = [...s.endToEnd].sort((a, b) => a - b);
  const lines = [
    `selfies             ${s.submitted} check-ins in ${r.selfieRooms} of ${r.rooms} rooms; ${r.faceWorkersPerNode} face worker(s)/node; ` +
      `${r.people} reference people, ${r.impostorsPerRoom} impostor(s)/room`,
    `verification        p50 ${ms(percentile(v, 50))}, p95 ${ms(percentile(v, 95))}, p99 ${ms(percentile(v, 99))} ` +
      `(accepted submit -> checkin:decision verifying false; ${s.decided} decided, ${s.noDecision} without decision in ${DECISION_TIMEOUT_MS / 1000} s)`,
  ];
  if (s.busyAcks > 0) {
    lines.push(
      `  with BUSY waits   p50 ${ms(percentile(e, 50))}, p95 ${ms(percentile(e, 95))}, p99 ${ms(percentile(e, 99))} (first attempt -> decision)`,
    );
  }
  lines.push(
    `outcomes            ${tally(s.outcomes)}`,
    `  expected          ${tally(s.expected)} (bands the load generator computed for the photos sent)`,
    `BUSY acks           ${s.busyAcks} (retried after details.retryAfterMs, at most ${r.attempts} attempts; ${s.busyGaveUp} gave up)`,
  );
  return lines;
}

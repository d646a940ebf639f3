import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { CLOCK_SKEW_LIMIT_MS } from '../cluster/node-registry.js';
import type { FanoutLink, LinkOutage } from '../shared/fanout-link.js';
import type { AppServer } from './types.js';

/**
 * How long a request waits for every other node's answer; above the adapters' own 5 s, since the
 * classic adapter drops its request without answering when its count of the nodes fails.
 */
export const PEER_ANSWER_MS = 8_000;
/** How many times a request some node did not answer is sent, in all. */
export const PEER_REQUEST_ATTEMPTS = 3;
/** How many of its own past outages a node remembers, to answer a node that missed their requests. */
export const REMEMBERED_OUTAGES = 16;
/** How many requests' ids a node remembers, to answer a request's later attempts without another pass. */
export const REMEMBERED_REQUESTS = 64;

/**
 * The inter-server request, validated as it arrives: it comes from Redis, not from this process.
 * Without `id` from a node of the release before, whose every attempt is told as a new request.
 */
const requestSchema = z.object({ since: z.string().datetime(), id: z.string().min(1).max(100).optional() });
const answerSchema = z.object({ since: z.string().datetime().nullable() });

/** What this node's student catch-up does with a request (EnrolmentCatchUp). */
export interface StudentsTold {
  tellSince(since: Date): void;
}

/**
 * Tells the other nodes' students what this node changed while its own link to Redis was down.
 * During the outage its pushes (a teacher's decision, a close) reached only its own sockets; the
 * other nodes' screens resync when it is back (Fanout), but their students' sockets have no roster
 * to resync, and those nodes' links never went down, so their own catch-up does not run. So once
 * the link is back this node asks every other node (`students:catch-up`, through the adapter, both
 * the sharded and the classic one) to tell its students the changes of their sessions since the
 * outage began; each runs its catch-up for that (EnrolmentCatchUp.tellSince, the clock-skew
 * allowance taken off there).
 *
 * A node whose own link was down when such a request was sent never heard it: it answers the
 * request of a node whose outage overlapped its own, and asks in its turn; each answer names the
 * start of the answering node's outages that ended since the asker's began, and the asker tells
 * its own students the changes since the earliest of those. A request some node did not answer
 * (lost to a flaky link) is sent again with the same id, PEER_REQUEST_ATTEMPTS in all (a node that
 * heard an earlier attempt answers without telling its students again), then logged as lost: a
 * repeated push is harmless (docs/protocol.md §8: the newer `recordVersion` wins), a missing one
 * leaves a phone stale until its next `session:join`.
 */
export class PeerCatchUp {
  /** This node's recent outages (ms since the epoch, its clock), the latest last. */
  private readonly outages: { since: number; restoredAt: number }[] = [];
  private readonly pending = new Set<NodeJS.Timeout>();
  /** The ids of requests heard lately, the latest last: what their attempts were sent for is being told already. */
  private readonly heard: string[] = [];
  private readonly stop: () => void;
  private closed = false;

  constructor(
    private readonly io: AppServer,
    link: FanoutLink,
    private readonly students: StudentsTold,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.stop = link.onRestored((outage) => this.restored(outage));
    io.on('students:catch-up', (request, answer) => this.received(request, answer));
  }

  close(): void {
    this.closed = true;
    this.stop();
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  private restored(outage: LinkOutage): void {
    // Remembered before the request is sent: a node that hears it only later asks, and is answered with it.
    this.outages.push({ since: outage.since.getTime(), restoredAt: this.now() });
    if (this.outages.length > REMEMBERED_OUTAGES) this.outages.shift();
    void this.ask({ since: outage.since.toISOString(), id: randomUUID() }, 1);
  }

  private received(request: unknown, answer: unknown): void {
    const parsed = requestSchema.safeParse(request);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues }, 'students:catch-up request refused: not a valid request');
      return;
    }
    const { id } = parsed.data;
    const since = Date.parse(parsed.data.since);
    // A later attempt of a request heard before (another node did not answer it in time): answered
    // again, its changes told once.
    if (id === undefined || !this.heard.includes(id)) {
      if (id !== undefined) this.heard.push(id);
      if (this.heard.length > REMEMBERED_REQUESTS) this.heard.shift();
      this.students.tellSince(new Date(since));
    }
    if (typeof answer === 'function') answer({ since: this.overlapping(since) });
  }

  /** The start of this node's earliest remembered outage that ended since `askerSince` (allowing for skew), as ISO 8601. */
  private overlapping(askerSince: number): string | null {
    let earliest: number | null = null;
    for (const { since, restoredAt } of this.outages) {
      if (restoredAt < askerSince - CLOCK_SKEW_LIMIT_MS) continue;
      if (earliest === null || since < earliest) earliest = since;
    }
    return earliest === null ? null : new Date(earliest).toISOString();
  }

  private async ask(request: { since: string; id: string }, attempt: number): Promise<void> {
    if (this.closed) return;
    const { since } = request;
    let answers: unknown[];
    try {
      answers = await this.sent(request);
    } catch (err) {
      const answered = (err as { responses?: unknown[] }).responses?.length ?? 0;
      if (attempt < PEER_REQUEST_ATTEMPTS) {
        this.logger.warn({ err, answered, attempt }, 'students:catch-up request not answered by every node; sending it again');
        this.later(() => void this.ask(request, attempt + 1));
      } else {
        this.logger.error(
          { err, answered, since },
          "students:catch-up request lost: some node's students are not told this node's changes made during its outage",
        );
      }
      return;
    }
    let earliest: number | null = null;
    for (const raw of answers) {
      const parsed = answerSchema.safeParse(raw);
      if (!parsed.success || parsed.data.since === null) continue;
      const at = Date.parse(parsed.data.since);
      if (earliest === null || at < earliest) earliest = at;
    }
    // Another node's outage began before this one's and ended while this node could not hear its request.
    if (earliest !== null && earliest < Date.parse(since)) this.students.tellSince(new Date(earliest));
  }

  /** Sends the request; answers the other nodes' answers, or throws when some did not answer in time. */
  private sent(request: { since: string; id: string }): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        reject(new Error(`no answer from every node within ${PEER_ANSWER_MS} ms`));
      }, PEER_ANSWER_MS);
      this.pending.add(timer);
      this.io.serverSideEmitWithAck('students:catch-up', request).then(
        (answers) => {
          clearTimeout(timer);
          this.pending.delete(timer);
          resolve(answers);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.pending.delete(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private later(run: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      run();
    }, PEER_ANSWER_MS);
    timer.unref();
    this.pending.add(timer);
  }
}

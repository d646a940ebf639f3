/**
 * Gets one check-in tap to the server over a weak phone link, saying at each step what is
 * happening, without ever making the student's record twice or spending an attempt by itself:
 * - the page is reconnecting (a token cut while in the background, a network change): the tap
 *   waits for the connection instead of being refused;
 * - no answer (the link dropped after the send, or the ack timed out): once connected again the
 *   page reads the record the server holds (`session:join`); when the tap's attempt is there, that
 *   is the answer, and only when it is not is the check-in sent once more;
 * - `BUSY` / `UNAVAILABLE` (nothing was written): sent once more after the server's hint.
 * No DOM and no socket of its own, so a unit test drives it with fakes.
 */
import type { CheckinView } from '../../shared/events.js';
import { CommandError, NoAnswerError } from './socket.js';
import { pt } from './student-text.js';

export interface DeliveryPorts {
  /** Collects the evidence (a fresh fix) and sends `checkin:submit`; each call is one submission. */
  send(): Promise<CheckinView>;
  /** The student's record as the server holds it now (`session:join`); null: none yet. */
  held(): Promise<CheckinView | null>;
  isConnected(): boolean;
  /** Resolves once the page is connected (at once when it is), rejects after `timeoutMs`. */
  connected(timeoutMs: number): Promise<void>;
  /** What the student should read now; '' clears it. */
  progress(text: string): void;
  sleep(ms: number): Promise<void>;
  /** Runs `fn` after `ms` unless cancelled (the "still sending" notice). */
  later(fn: () => void, ms: number): () => void;
}

/** How long a tap waits for a connection that is coming back before giving up. */
export const RECONNECT_WAIT_MS = 20_000;
/** After this long without an answer the student is told the link is slow, not left guessing. */
export const SLOW_NOTICE_MS = 4_000;
/** Longest pause before the one automatic retry of a BUSY / UNAVAILABLE answer. */
const MAX_RETRY_WAIT_MS = 15_000;

/** What the student reads at each step, in the page's language (read when said, so a language switch applies). */
export const DELIVERY_TEXT = {
  get sending() {
    return pt('delivery.sending');
  },
  get slow() {
    return pt('delivery.slow');
  },
  get reconnecting() {
    return pt('delivery.reconnecting');
  },
  get checking() {
    return pt('delivery.checking');
  },
  get notBack() {
    return pt('delivery.notBack');
  },
  get notArrived() {
    return pt('delivery.notArrived');
  },
  get stillBusy() {
    return pt('delivery.stillBusy');
  },
};

/** Busy-retry wording with the wait in whole seconds. */
export function busyText(waitMs: number): string {
  return pt('delivery.busy', { seconds: Math.ceil(waitMs / 1000) });
}

/** RATE_LIMITED in words, with the wait the server gave. */
export function rateLimitedText(err: CommandError): string {
  const ms = Number(err.body.details?.['retryAfterMs'] ?? 60_000);
  return pt('student.rateLimited', { seconds: Math.max(1, Math.ceil(ms / 1000)) });
}

function retryable(err: unknown): err is CommandError {
  return err instanceof CommandError && !(err instanceof NoAnswerError) && (err.code === 'BUSY' || err.code === 'UNAVAILABLE');
}

/**
 * Sends the check-in and resolves with the record it produced; rejects with an Error whose
 * message says what the student should do. `before` is the record held before the tap.
 */
export async function deliverCheckin(ports: DeliveryPorts, before: CheckinView | null): Promise<CheckinView> {
  const attemptsBefore = before?.attempts ?? 0;
  let busyRetried = false;
  let resent = false;
  const waitForConnection = async (text: string) => {
    if (ports.isConnected()) return;
    ports.progress(text);
    await ports.connected(RECONNECT_WAIT_MS).catch((err: unknown) => {
      throw new Error(DELIVERY_TEXT.notBack, { cause: err });
    });
  };
  for (;;) {
    await waitForConnection(DELIVERY_TEXT.reconnecting);
    ports.progress(DELIVERY_TEXT.sending);
    const cancelSlow = ports.later(() => ports.progress(DELIVERY_TEXT.slow), SLOW_NOTICE_MS);
    try {
      return await ports.send();
    } catch (err) {
      cancelSlow();
      if (retryable(err) && !busyRetried) {
        busyRetried = true;
        const hint = Number(err.body.details?.['retryAfterMs'] ?? 2_000);
        const wait = Math.min(MAX_RETRY_WAIT_MS, Math.max(1_000, Number.isFinite(hint) ? hint : 2_000));
        ports.progress(busyText(wait));
        await ports.sleep(wait);
        continue;
      }
      if (retryable(err)) throw new Error(DELIVERY_TEXT.stillBusy, { cause: err });
      if (!(err instanceof NoAnswerError)) throw err;
      // The submission may have been written before the link dropped: ask before sending again.
      ports.progress(DELIVERY_TEXT.checking);
      await waitForConnection(DELIVERY_TEXT.checking);
      const held = await ports.held().catch((e: unknown) => {
        throw e instanceof NoAnswerError ? new Error(DELIVERY_TEXT.notBack, { cause: e }) : e;
      });
      if (held && held.attempts > attemptsBefore) return held;
      if (resent) throw new Error(DELIVERY_TEXT.notArrived, { cause: err });
      resent = true;
    } finally {
      cancelSlow();
    }
  }
}

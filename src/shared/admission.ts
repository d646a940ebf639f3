import { ErrorCodes, type ErrorBody } from './errors.js';

/**
 * A handshake refused by a node's admission check (docs/protocol.md §2): the node is overloaded,
 * so it answers before the handshake costs anything (no token check, no lookup). engine.io
 * writes the refusal as the body of the HTTP answer, so it is the only place a client reads it.
 */
export interface AdmissionRefusal extends ErrorBody {
  code: 'BUSY';
  details: { cause: 'admission'; retryAfterMs: number };
}

/** The text a node passes to engine.io's `allowRequest` callback when it refuses a handshake. */
export function admissionRefusalText(retryAfterMs: number): string {
  const body: AdmissionRefusal = {
    code: 'BUSY',
    message: ErrorCodes.BUSY.message,
    details: { cause: 'admission', retryAfterMs },
  };
  return JSON.stringify(body);
}

/**
 * The admission refusal inside a socket.io-client `connect_error`, or null for any other error.
 * Only a long-polling handshake shows it: engine.io answers it HTTP 403 with
 * `{"code":4,"message":"<the refusal>"}`, which the client's error carries as `description`
 * (the status) and `context` (the request). A WebSocket handshake's refusal is an HTTP 400 whose
 * body no browser lets a page read ("websocket error"). Read it in the `connect_error` listener
 * itself: the client discards the request after its listeners have run.
 */
export function readAdmissionRefusal(err: unknown): AdmissionRefusal | null {
  const e = err as { description?: unknown; context?: { responseText?: unknown } } | null;
  if (!e || e.description !== 403 || typeof e.context?.responseText !== 'string') return null;
  const outer = parseJson(e.context.responseText) as { message?: unknown } | null;
  if (typeof outer?.message !== 'string') return null;
  const body = parseJson(outer.message) as Partial<AdmissionRefusal> | null;
  const retryAfterMs = body?.details?.retryAfterMs;
  if (body?.code !== 'BUSY' || body.details?.cause !== 'admission' || typeof retryAfterMs !== 'number') return null;
  return {
    code: 'BUSY',
    message: typeof body.message === 'string' ? body.message : ErrorCodes.BUSY.message,
    details: { cause: 'admission', retryAfterMs },
  };
}

/** A 403 of another kind (the origin check's plain-text refusal) is not JSON: that is an answer, not a failure. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

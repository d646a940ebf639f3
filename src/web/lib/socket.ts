/**
 * The pages' Socket.IO connection: presents the current access token on every (re)connect,
 * renews it before expiry, reconnects silently after drops and calls `onSync` on every connect
 * so the page can fetch a fresh snapshot (the server does not replay missed events).
 */
import { io, type Socket } from 'socket.io-client';
import { readAdmissionRefusal } from '../../shared/admission.js';
import type { Ack, ErrorBody } from '../../shared/errors.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/events.js';
import { forgetLogin, freshToken, loadAuth, refresh } from './auth.js';
import { reconnectDelayMs } from './reconnect-delay.js';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A refused command, with the code from the shared table. */
export class CommandError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
  }
  get code(): string {
    return this.body.code;
  }
}

type Events = ClientToServerEvents;
type InputOf<E extends keyof Events> = Parameters<Events[E]>[0];
type DataOf<E extends keyof Events> = Parameters<Events[E]>[1] extends (ack: Ack<infer T>) => void ? T : never;

/**
 * No acknowledgement came: the command timed out or the connection dropped after it was sent.
 * Unlike a refusal, the server may or may not have acted on it.
 */
export class NoAnswerError extends CommandError {
  constructor() {
    super({ code: 'UNAVAILABLE', message: 'No answer from the server; check the connection.' });
  }
}

/** Commands get this long before the page reports a timeout, unless the caller gives another. */
export const ACK_TIMEOUT_MS = 10_000;

/** Sends a command and resolves with its acknowledged data, or rejects with a CommandError. */
export function command<E extends keyof Events>(
  socket: AppSocket,
  event: E,
  input: InputOf<E>,
  timeoutMs = ACK_TIMEOUT_MS,
): Promise<DataOf<E>> {
  return new Promise((resolve, reject) => {
    const onAck = (err: Error | null, ack: Ack<DataOf<E>>) => {
      if (err) reject(new NoAnswerError());
      else if (ack.ok) resolve(ack.data);
      else reject(new CommandError(ack.error));
    };
    // socket.io's typed emit cannot follow a generic event name; the map above keeps callers typed.
    (socket.timeout(timeoutMs) as unknown as { emit(ev: string, input: unknown, cb: typeof onAck): void }).emit(event, input, onAck);
  });
}

/** `busy`: a node refused the connection as overloaded; the page connects again after its hint. */
export type ConnectionState = 'connecting' | 'online' | 'offline' | 'busy' | 'logged-out';

export interface ConnectOptions {
  /** Runs after every connect, the first and each reconnect: re-watch or re-join here. */
  onSync: (socket: AppSocket) => void | Promise<void>;
  onState: (state: ConnectionState) => void;
  /** The login is gone (refresh refused): the page shows its login form. */
  onLoggedOut: () => void;
}

const AUTH_CODES = new Set(['TOKEN_EXPIRED', 'TOKEN_INVALID', 'UNAUTHENTICATED']);
/** Refusals after which this login cannot go on (docs/protocol.md §3): back to the login form. */
const ENDED_CODES = new Set(['TOKEN_REVOKED', 'ACCOUNT_DISABLED', 'ORGANISATION_DISABLED', 'PASSWORD_CHANGE_REQUIRED']);

export function connect(opts: ConnectOptions): AppSocket {
  const socket: AppSocket = io({
    // Beside the page, so it follows the prefix a reverse proxy publishes the service under.
    path: new URL('socket.io', document.baseURI).pathname,
    // A function: each reconnection attempt reads the token current at that moment.
    auth: (cb) => {
      freshToken().then(
        (token) => cb({ token: token ?? '' }),
        () => cb({ token: '' }),
      );
    },
    transports: ['websocket', 'polling'],
    // A network that refuses the WebSocket upgrade (filtering proxies) still gets long-polling;
    // without this the client retries WebSocket alone for ever.
    tryAllTransports: true,
    reconnectionDelayMax: 5_000,
  });

  // Bounds the refresh-and-retry loop when the server keeps refusing a freshly issued token.
  let authRetries = 0;
  const renewOrLogOut = async (): Promise<boolean> => {
    authRetries += 1;
    const auth = authRetries <= 2 ? loadAuth() : null;
    const next = auth ? await refresh(auth) : null;
    if (!next) {
      opts.onState('logged-out');
      opts.onLoggedOut();
      socket.disconnect();
      return false;
    }
    return true;
  };

  // Logged out elsewhere, deactivated: reconnecting would only be refused again.
  let ended = false;
  const endLogin = () => {
    ended = true;
    forgetLogin();
    opts.onState('logged-out');
    opts.onLoggedOut();
    socket.disconnect();
  };
  // ROLE_CHANGED is not an end: the reconnect below acts in the new role.
  socket.on('auth:revoked', ({ code }) => {
    if (code !== 'ROLE_CHANGED') endLogin();
  });

  // Any other refusal (RATE_LIMITED, UNAVAILABLE while the database is unreachable, INTERNAL)
  // also ends socket.io's own retries: the page tries again after the server's hint, else after a
  // pause that doubles up to 30 s, so a phone refused during an outage comes back by itself
  // (reconnect-delay.ts).
  let refusals = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  const connectLater = (body: ErrorBody, overloaded = false) => {
    refusals += 1;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        if (!ended && !socket.connected) socket.connect();
      },
      reconnectDelayMs(body, refusals, overloaded, Math.random()),
    );
  };

  socket.on('connect', () => {
    authRetries = 0;
    refusals = 0;
    opts.onState('online');
    Promise.resolve(opts.onSync(socket)).catch((err: unknown) => console.error('resync failed', err));
  });
  socket.on('disconnect', (reason) => {
    opts.onState('offline');
    // The server cut us (token expired, or a node shutting down): socket.io will not retry by
    // itself. Reconnect; the auth callback refreshes the token only if it is due, so two tabs
    // cut at once do not both rotate the shared refresh token.
    if (reason === 'io server disconnect' && !ended) socket.connect();
  });
  socket.on('connect_error', (err: Error & { data?: ErrorBody }) => {
    // The node refused the handshake BUSY before it began (docs/protocol.md §2): read now, the
    // client lets the answer go after this listener. socket.io's own retry (1 to 5 s) is stopped
    // for the page's, which follows the node's hint and doubles while refusals go on. The user
    // is told the service is busy: the connection is not lost, and nothing is to be done.
    const overloaded = readAdmissionRefusal(err);
    if (overloaded) {
      opts.onState('busy');
      socket.disconnect();
      connectLater(overloaded, true);
      return;
    }
    opts.onState('offline');
    // A refusal by the auth middleware stops the automatic retries; a transport error does not.
    if (err.data && ENDED_CODES.has(err.data.code)) endLogin();
    else if (err.data && AUTH_CODES.has(err.data.code)) {
      void renewOrLogOut().then((ok) => ok && socket.connect());
    } else if (err.data?.code) connectLater(err.data);
  });
  socket.on('auth:expiring', () => {
    void (async () => {
      const auth = loadAuth();
      const next = auth ? await refresh(auth) : null;
      if (next) await command(socket, 'auth:renew', { token: next.accessToken });
    })().catch((err: unknown) => console.warn('token renewal failed; the next reconnect retries', err));
  });
  socket.io.on('reconnect_attempt', () => opts.onState('connecting'));
  // Back from no network, or a phone back from the background: reconnect now rather than at
  // socket.io's next back-off step, up to reconnectionDelayMax later. A refusal's pause stays.
  const reconnectNow = () => {
    if (ended || socket.connected || retryTimer || !navigator.onLine) return;
    socket.disconnect().connect();
  };
  window.addEventListener('online', reconnectNow);
  // The phone lost its link: a WebSocket left open then only fails at the next missed heartbeat,
  // and the page would say "online" all that while. Closing the transport says "offline" now and
  // leaves socket.io retrying, as after any dropped connection; 'online' above reconnects at once.
  window.addEventListener('offline', () => {
    if (socket.connected) socket.io.engine.close();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') reconnectNow();
  });
  opts.onState('connecting');
  return socket;
}

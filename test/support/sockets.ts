import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, RosterUpdate, RosterUpdates, ServerToClientEvents } from '../../src/shared/events.js';
import type { Ack } from '../../src/shared/errors.js';
import type { User } from '../../src/domain/ports/users.js';
import type { TestServer } from './http.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * How long the waits below give what they wait for unless told: mocha's default test timeout
 * (.mocharc.cjs). They wait for an event, never for time to pass, so a shorter bound only made a
 * slow answer on a loaded machine (a close of 5.4 s against the 5 s a command had) fail a test
 * that its own timeout would have let pass.
 */
export const EVENT_WAIT_MS = 20_000;

type Command = keyof ClientToServerEvents;
type Payload<E extends Command> = Parameters<ClientToServerEvents[E]>[0];
type AckOf<E extends Command> = Parameters<ClientToServerEvents[E]>[1] extends (a: infer A) => void ? A : never;

/**
 * A connected socket.io client with the access token in the handshake auth. `timeoutMs` bounds
 * the connection (socket.io-client's own default, 20 s, unless given). `listen` adds listeners
 * before the handshake, for an event the server may send as soon as it has connected the socket:
 * arriving with the connection's acknowledgement, it is handled before the caller of this
 * function runs again, and a listener added then misses it.
 */
export async function connectClient(
  baseUrl: string,
  token: string,
  timeoutMs = 20_000,
  listen: (socket: ClientSocket) => void = () => undefined,
): Promise<ClientSocket> {
  const socket: ClientSocket = connect(baseUrl, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  listen(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/**
 * A suite's `client(user)`: connects to the test server (read at each call, as a hook starts it)
 * with a fresh access token of the user, and keeps the socket in `sockets` for the suite to
 * disconnect.
 */
export function userClient(server: () => TestServer, sockets: ClientSocket[]): (user: User) => Promise<ClientSocket> {
  return async (user) => {
    const srv = server();
    const socket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(user).token);
    sockets.push(socket);
    return socket;
  };
}

/** Connects expecting a refusal; resolves with connect_error's data. */
export async function connectRefused(baseUrl: string, auth: Record<string, unknown>): Promise<{ code: string; message: string }> {
  const socket: ClientSocket = connect(baseUrl, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    return await new Promise((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connection was accepted')));
      socket.once('connect_error', (err) => resolve((err as Error & { data: { code: string; message: string } }).data));
    });
  } finally {
    socket.disconnect();
  }
}

/** Emits a command and resolves with its acknowledgement (rejects after `timeoutMs`, or when the socket disconnects). */
export async function command<E extends Command>(
  socket: ClientSocket,
  event: E,
  payload: Payload<E>,
  timeoutMs = EVENT_WAIT_MS,
): Promise<AckOf<E>> {
  const emit = socket.timeout(timeoutMs).emitWithAck as unknown as (ev: string, p: unknown) => Promise<AckOf<E>>;
  return emit.call(socket.timeout(timeoutMs), event, payload);
}

/** Unwraps an ok acknowledgement or fails with its error. */
export function ok<T>(ack: Ack<T>): T {
  if (!ack.ok) throw new Error(`expected ok, got ${ack.error.code}: ${ack.error.message}`);
  return ack.data;
}

/** Resolves with the first event matching `predicate`, or rejects after `timeoutMs`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  predicate: (...args: Parameters<ServerToClientEvents[E]>) => boolean = () => true,
  timeoutMs = EVENT_WAIT_MS,
): Promise<Parameters<ServerToClientEvents[E]>> {
  return new Promise((resolve, reject) => {
    const listener = ((...args: Parameters<ServerToClientEvents[E]>) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      socket.off(event, listener as never);
      resolve(args);
    }) as ServerToClientEvents[E];
    const timer = setTimeout(() => {
      socket.off(event, listener as never);
      reject(new Error(`no ${String(event)} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on(event, listener as never);
  });
}

/**
 * Polls until `check` returns true and resolves true, or resolves false at the deadline: for a
 * caller whose own assertions then say what differs (waitFor fails with a bare "not met"). For
 * a state that no single event announces (a screen built from many roster updates, a probe's
 * answer, a store row); the step only paces the polling, never stands for the thing awaited.
 */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, stepMs = 20): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}

/** Polls until `check` returns true (see pollUntil); fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = EVENT_WAIT_MS, stepMs = 20): Promise<void> {
  if (!(await pollUntil(check, timeoutMs, stepMs))) throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** The changes of one `roster:updates` message, each as a RosterUpdate. */
export function unbatch(batch: RosterUpdates): RosterUpdate[] {
  return batch.updates.map((u) => ({ sessionId: batch.sessionId, version: u.version, entry: u.entry }));
}

/** Calls `listener` for each roster change a screen receives, in order. */
export function onRosterUpdate(socket: ClientSocket, listener: (update: RosterUpdate) => void): void {
  socket.on('roster:updates', (batch) => unbatch(batch).forEach(listener));
}

/** Resolves with the first roster change matching `predicate`, or rejects after `timeoutMs`. */
export async function nextRosterUpdate(
  socket: ClientSocket,
  predicate: (update: RosterUpdate) => boolean,
  timeoutMs = EVENT_WAIT_MS,
): Promise<RosterUpdate> {
  const [batch] = await nextEvent(socket, 'roster:updates', (b) => unbatch(b).some(predicate), timeoutMs);
  return unbatch(batch).find(predicate)!;
}

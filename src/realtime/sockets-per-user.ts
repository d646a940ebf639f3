import { AppError, toErrorBody } from '../shared/app-error.js';
import { rooms } from '../shared/events.js';
import type { AppServer, AppSocket } from './types.js';

/** How long a client refused for too many sockets is told to wait: a dead one is dropped by the heartbeat within 45 s. */
export const SOCKETS_RETRY_AFTER_MS = 15_000;

/**
 * At most `maxPerUser` sockets of one user on this node at once. The handshake budget counts per
 * login and per minute, and a student may log in again and again, so one account could keep
 * thousands of sockets open on a node, each with its rooms, timers and buffers: 60 more a minute
 * per login, for as long as it liked. Past the bound a new handshake is refused `RATE_LIMITED`
 * (`details: { limit: 'sockets', maxSockets, retryAfterMs }`); the open ones are kept (a refusal
 * rather than closing the oldest: two tabs at the bound would otherwise close each other in turn).
 *
 * Counted from the user's room on this node, plus the handshakes admitted here that have not
 * joined it yet, so a burst of parallel handshakes cannot all pass before any joins the room.
 * Runs after the authentication (it needs the verified user), before the user room's join
 * (user-room.ts); `onRefused` is told each refusal (metrics). Answers the function to call once an
 * admitted socket is in its user room: from then on the room counts it.
 */
export function useSocketsPerUser(io: AppServer, maxPerUser: number, onRefused: () => void = () => undefined): (socket: AppSocket) => void {
  if (maxPerUser <= 0) return () => undefined;
  const admitting = new Map<string, number>();
  /** Each admitted handshake's close listener, until it connects (then its room counts it). */
  const waiting = new WeakMap<AppSocket, () => void>();
  const settle = (socket: AppSocket) => {
    const onClose = waiting.get(socket);
    if (!onClose) return;
    waiting.delete(socket);
    socket.conn.off('close', onClose);
    const userId = socket.data.userId;
    const left = (admitting.get(userId) ?? 1) - 1;
    if (left > 0) admitting.set(userId, left);
    else admitting.delete(userId);
  };
  io.use((socket, next) => {
    const userId = socket.data.userId;
    const open = (io.of('/').adapter.rooms.get(rooms.user(userId))?.size ?? 0) + (admitting.get(userId) ?? 0);
    if (open >= maxPerUser) {
      onRefused();
      const err = new AppError('RATE_LIMITED', `At most ${maxPerUser} connections of one user at once.`, {
        limit: 'sockets',
        maxSockets: maxPerUser,
        retryAfterMs: SOCKETS_RETRY_AFTER_MS,
      });
      const body = toErrorBody(err);
      return next(Object.assign(new Error(body.message), { data: body }));
    }
    admitting.set(userId, (admitting.get(userId) ?? 0) + 1);
    // In its room (then counted by it) or gone before it joined: either way no longer admitting.
    const onClose = () => settle(socket);
    waiting.set(socket, onClose);
    socket.conn.once('close', onClose);
    next();
  });
  return settle;
}

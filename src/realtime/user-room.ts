import type { Logger } from '../logger.js';
import { rooms } from '../shared/events.js';
import type { AppServer, AppSocket } from './types.js';

/**
 * Joins each socket to its user's room before its handshake is answered, as the last middleware.
 * With the Redis adapter the join resolves once Redis has taken this node's subscription to the
 * room (src/cluster/confirmed-joins.ts), so the client's `connect` means every push to its user
 * (a decision, `session:access-lost`, `subject:enrolled`, `auth:revoked`) sent from then on, from
 * any node, reaches it; what changed before, the page reads as it resyncs on `connect`. Joined in
 * the connection listener instead, the first pushes raced the subscription and were lost.
 * `joined` is told once the socket is in the room (sockets-per-user.ts counts it from then on).
 */
export function useUserRoom(io: AppServer, logger: Logger, joined: (socket: AppSocket) => void): void {
  io.use((socket, next) => {
    const done = () => {
      joined(socket);
      next();
    };
    const joining = socket.join(rooms.user(socket.data.userId));
    if (!joining) return done();
    joining.then(done, (err: unknown) => {
      // In the room all the same: only the confirmation failed, the adapter subscribes regardless.
      logger.warn({ err }, "user room's subscription not confirmed; the socket connects anyway");
      done();
    });
  });
}

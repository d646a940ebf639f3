import type { BroadcastOperator } from 'socket.io';
import type { Logger } from '../logger.js';
import { rooms, staffRoomSession, type CheckinView, type ServerToClientEvents, type SocketData } from '../shared/events.js';
import type { FanoutLink } from '../shared/fanout-link.js';
import type { SharedPayloads } from './shared-payloads.js';
import type { AppServer } from './types.js';

/** How many sessions a node remembers having changed during one outage before it gives up naming them. */
export const MAX_MISSED_SESSIONS = 10_000;

type Target = { to(room: string): BroadcastOperator<ServerToClientEvents, SocketData> };

/**
 * Broadcasts that survive a Redis outage without queueing. While the link is down a broadcast
 * reaches this node's sockets only (through the adapter it would wait in the publisher's queue
 * without bound, and peers not yet subscribed again would drop it anyway), and its session is
 * remembered, up to MAX_MISSED_SESSIONS. When the link is back:
 * - every screen on this node is told to resync (`roster:resync`), since broadcasts of the
 *   other nodes may have been lost while this node was not subscribed;
 * - the screens of the remembered sessions on every node are told too, since they missed this
 *   node's changes; past the bound, every node resyncs all its screens.
 * Snapshots come from the store, so a screen that resyncs after the link is back holds
 * everything stored before, and receives everything broadcast after.
 */
export class Fanout {
  private readonly missed = new Set<string>();
  private overflowed = false;
  private readonly stop: () => void;

  constructor(
    private readonly io: AppServer,
    private readonly link: FanoutLink | undefined,
    private readonly logger: Logger,
    /** Whether the server has a cluster adapter (Redis): a user's sockets may then be on other nodes. */
    private readonly clustered: boolean = link !== undefined,
    /** A decision's view is also its student's acknowledgement: encoded once for both (shared-payloads.ts). */
    private readonly shared?: SharedPayloads,
  ) {
    this.stop = link ? link.onRestored(() => this.restored()) : () => undefined;
    io.on('roster:resync-all', () => this.resyncLocalScreens(new Set()));
  }

  /** Where a broadcast about this session goes: every node, or this node only while the link is down. */
  target(sessionId: string): Target {
    if (!this.link || this.link.up) return this.io;
    if (this.missed.size < MAX_MISSED_SESSIONS) this.missed.add(sessionId);
    else if (!this.missed.has(sessionId)) this.overflowed = true;
    return this.io.local;
  }

  /**
   * A check-in's decision to its student's sockets, one push per check-in. When they can only be
   * on this node (no cluster adapter, or its link down) they are written to directly: the same
   * packet, encoded once per socket, without what `io.to(room).emit` builds per call (a broadcast
   * operator, four Sets, its flags and options: about 1.5 KB of a check-in's 29 KB of garbage,
   * docs/multi-node.md "The student's decision push"). A user with several sockets here gets one
   * broadcast, encoded once. With the Redis adapter up it goes through the adapter: the
   * student's other devices may be connected to other nodes.
   */
  decision(sessionId: string, studentId: string, view: CheckinView): void {
    const target = this.target(sessionId);
    const room = rooms.user(studentId);
    if (this.clustered && this.link?.up !== false) {
      this.shared?.share(view);
      target.to(room).emit('checkin:decision', view);
      return;
    }
    const nsp = this.io.of('/');
    const ids = nsp.adapter.rooms.get(room);
    if (ids === undefined) return;
    this.shared?.share(view);
    if (ids.size > 1) {
      this.io.local.to(room).emit('checkin:decision', view);
      return;
    }
    for (const id of ids) nsp.sockets.get(id)?.emit('checkin:decision', view);
  }

  close(): void {
    this.stop();
  }

  private restored(): void {
    const missed = [...this.missed];
    const overflowed = this.overflowed;
    this.missed.clear();
    this.overflowed = false;
    this.logger.info({ missedSessions: missed.length, overflowed }, 'fan-out restored; telling screens to resync');
    if (overflowed) {
      this.io.serverSideEmit('roster:resync-all');
      this.resyncLocalScreens(new Set());
      return;
    }
    // io.to reaches this node's screens of these sessions too: skip them below.
    for (const sessionId of missed) this.io.to(rooms.staff(sessionId)).emit('roster:resync', { sessionId });
    this.resyncLocalScreens(new Set(missed));
  }

  private resyncLocalScreens(except: Set<string>): void {
    for (const room of this.io.of('/').adapter.rooms.keys()) {
      const sessionId = staffRoomSession(room);
      if (sessionId && !except.has(sessionId)) this.io.local.to(room).emit('roster:resync', { sessionId });
    }
  }
}

import { clientAddress, type TrustProxy } from '../adapters/trust-proxy.js';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { addressLimitKey } from '../domain/checks/network.js';
import { Server, type ServerOptions } from 'socket.io';
import type { TokenSigner } from '../domain/accounts/access-tokens.js';
import type { EventBus } from '../domain/events.js';
import type { CheckinService } from '../domain/checkins/checkin-service.js';
import type { RateLimiter } from '../domain/rate-limiter.js';
import type { RequestLimiters } from '../domain/request-limits.js';
import type { SessionCloser } from '../domain/sessions/session-closer.js';
import type { SessionService } from '../domain/sessions/session-service.js';
import type { SessionLifecycle } from '../domain/sessions/session-lifecycle.js';
import { toStudentSessionView } from '../domain/sessions/views.js';
import type { Logger } from '../logger.js';
import type { Store } from '../domain/ports/store.js';
import { rooms } from '../shared/events.js';
import { originAllowed } from './origin-check.js';
import { CommandLimits } from './command-limits.js';
import { CommandsInFlight } from './commands-in-flight.js';
import { CurrentActors } from './current-actor.js';
import { attachCommands, commandDispatcher } from './define-handler.js';
import type { CheckinTrace } from '../domain/checkins/checkin-trace.js';
import { Fanout } from './fanout.js';
import type { FanoutLink } from '../shared/fanout-link.js';
import { RosterBatches } from './roster-batches.js';
import { checkinCommands } from './handlers/checkin-handlers.js';
import { sessionCommands } from './handlers/session-handlers.js';
import { corkUpgrades } from './upgrade-corking.js';
import { closeConnections, trackUpgradedSockets, type ClosingConnection } from './connection-closing.js';
import { boundedParser, MAX_TEXT_PACKET_CHARS } from './text-packet-bound.js';
import { HandshakeAdmission, type AdmissionLimits, type AdmissionReason, type HoldTimers } from './admission.js';
import { LoopLag } from './loop-lag.js';
import { authCommands, HandshakeClaims, useConnectLimit, useSocketAuth } from './socket-auth.js';
import { StandingSweep } from './standing-sweep.js';
import { EnrolmentCatchUp } from './enrolment-catch-up.js';
import { PeerCatchUp } from './peer-catch-up.js';
import { expiryWarningMs, TokenExpiryWatch } from './token-expiry.js';
import { QueuedBound } from './queued-bound.js';
import { useSocketsPerUser } from './sockets-per-user.js';
import { useUserRoom } from './user-room.js';
import { WriteCoalescing } from './write-coalescing.js';
import { SharedPayloads } from './shared-payloads.js';
import type { Ack } from '../shared/errors.js';
import type { AppServer, CommandName } from './types.js';

/** How long shutdown waits for the answers of commands in flight before the sockets are cut. */
const COMMANDS_DRAIN_TIMEOUT_MS = 10_000;

export interface RealtimeDeps {
  /** Told every command's answer (metrics). */
  onCommandAnswer?: (event: CommandName, ack: Ack<unknown>) => void;
  /** Stage times of each check-in (CHECKIN_STAGES_FILE); absent: none kept. */
  checkinTrace?: CheckinTrace;
  httpServer: HttpServer;
  store: Store;
  tokens: TokenSigner;
  bus: EventBus;
  sessions: SessionService;
  closer: SessionCloser;
  lifecycle: SessionLifecycle;
  checkins: CheckinService;
  /** Check-in submissions per student. */
  submitLimiter: RateLimiter;
  requestLimiters: RequestLimiters;
  /** Lifetime of the access tokens this deployment signs (ACCESS_TOKEN_TTL_S). */
  accessTokenTtlS: number;
  /** Commands one socket may have unanswered at once. */
  maxInFlight: number;
  /** Roster changes of a session reach its screens at most this often, in one message (0: each at once). */
  rosterBatchMs: number;
  /** Every socket's login, account and role re-checked this often, idle ones too (0: only at commands). */
  socketRecheckMs: number;
  /** At close, how long connections get to close in order before they are cut (CONNECTION_CLOSE_GRACE_MS). */
  connectionCloseGraceMs: number;
  /** Past these, new handshakes are refused before they cost anything (admission.ts). */
  admission: AdmissionLimits;
  /** Told every handshake the admission check refused (metrics). */
  onAdmissionRefused?: (reason: AdmissionReason) => void;
  /** The timers of the admission's hold bound; real ones by default (tests fire them instead of waiting). */
  admissionTimers?: HoldTimers;
  logger: Logger;
  now: () => Date;
  maxHttpBufferSize: number;
  /** Past this many bytes waiting for one connection, it is closed (queued-bound.ts; 0: no bound). */
  maxQueuedBytes: number;
  /** Told each connection closed for more than maxQueuedBytes waiting (metrics). */
  onQueueOverflow?: () => void;
  /** Most sockets of one user on this node at once (sockets-per-user.ts; 0: no bound). */
  maxSocketsPerUser: number;
  /** Told each handshake refused for maxSocketsPerUser (metrics). */
  onSocketsPerUserRefused?: () => void;
  trustProxy: TrustProxy;
  corsOrigins: string[];
  /** e.g. the Redis adapter when several nodes serve one deployment. */
  adapter?: ServerOptions['adapter'];
  /** The adapter's link to the other nodes (several nodes only). */
  fanoutLink?: FanoutLink;
}

export interface Realtime {
  io: AppServer;
  /** Handshakes the admission check counts as in flight (tests wait on it rather than on time). */
  readonly admittedHandshakes: number;
  close(): Promise<void>;
}

/**
 * The Socket.IO transport: authenticates connections, registers one handler group per event
 * family, and turns domain events into room broadcasts. With the Redis adapter, a broadcast
 * from any node reaches the room's sockets on every node.
 */
export function attachRealtime(deps: RealtimeDeps): Realtime {
  // Its timer wakes the node 20 times a second: only with the lag bound on (off by default).
  const loopLag = deps.admission.maxLagMs > 0 ? new LoopLag() : null;
  const addressOf = (req: IncomingMessage) =>
    addressLimitKey(clientAddress(req.socket.remoteAddress, req.headers, deps.trustProxy) ?? 'unknown');
  const admission = new HandshakeAdmission(deps.admission, addressOf, loopLag, deps.onAdmissionRefused, deps.admissionTimers);
  const logger = deps.logger.child({ component: 'realtime' });
  const io: AppServer = new Server(deps.httpServer, {
    parser: boundedParser(MAX_TEXT_PACKET_CHARS, (chars) =>
      logger.warn({ chars, maxChars: MAX_TEXT_PACKET_CHARS }, 'socket text packet over the bound: connection closed unread'),
    ),
    // A selfie fits in 1 MiB after the client's downscale; anything bigger is refused by
    // closing the connection, before it is buffered.
    maxHttpBufferSize: deps.maxHttpBufferSize,
    serveClient: false,
    // Off, as is engine.io's default, said here so it stays off: check-in traffic is many small
    // frames, where deflate costs CPU and a zlib context per socket for little gain.
    perMessageDeflate: false,
    ...(deps.corsOrigins.length > 0 ? { cors: { origin: deps.corsOrigins, credentials: true } } : {}),
    // Asked of handshakes only (engine.io skips it for the requests of an open connection).
    // Refused with HTTP 403 on long-polling, 400 on a WebSocket upgrade, before anything else.
    allowRequest: (req, callback) => {
      if (!originAllowed(req, deps.corsOrigins)) return callback('origin not allowed', false);
      const refusal = admission.admit(req);
      callback(refusal, refusal === null);
    },
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
  });
  corkUpgrades(deps.httpServer);
  const upgraded = trackUpgradedSockets(deps.httpServer);
  // Every engine.io connection, authenticated or not: shutdown closes them all within its grace.
  const connections = new Set<ClosingConnection>();
  // A check-in's decision push and its acknowledgement leave in one write (write-coalescing.ts).
  const writes = new WriteCoalescing(logger, new QueuedBound(deps.maxQueuedBytes, logger, deps.onQueueOverflow));
  io.engine.on(
    'connection',
    (conn: Parameters<WriteCoalescing['attach']>[0] & Parameters<HandshakeAdmission['watch']>[0] & ClosingConnection) => {
      writes.attach(conn);
      admission.watch(conn);
      connections.add(conn);
      conn.once('close', () => connections.delete(conn));
    },
  );
  io.engine.on('connection_error', (err: { req: object }) => admission.settle(err.req));
  const authDeps = { tokens: deps.tokens, store: deps.store, logger, trustProxy: deps.trustProxy, now: deps.now };
  // Counted before the user is read: a reconnect storm costs a signature check and one counter per handshake.
  const handshakes = new HandshakeClaims(authDeps);
  useConnectLimit(
    io,
    { perAddress: deps.requestLimiters.socketConnect, perLogin: deps.requestLimiters.socketConnectUser },
    authDeps,
    handshakes,
  );
  const actors = new CurrentActors(deps.store, deps.now);
  useSocketAuth(io, authDeps, handshakes, (socket, orgId) => actors.beforeHandshake(socket, orgId));
  useUserRoom(io, logger, useSocketsPerUser(io, deps.maxSocketsPerUser, deps.onSocketsPerUserRefused));
  const expiry = new TokenExpiryWatch(deps.now, expiryWarningMs(deps.accessTokenTtlS));
  const standing = new StandingSweep(io, actors, logger, deps.socketRecheckMs, deps.sessions);
  const limits = new CommandLimits(
    deps.maxInFlight,
    { light: deps.requestLimiters.socket, heavy: deps.requestLimiters.socketHeavy, checkin: deps.submitLimiter },
    actors,
  );
  const inFlight = new CommandsInFlight(logger);
  const commands = commandDispatcher(
    [
      ...authCommands(authDeps, expiry),
      ...sessionCommands({ sessions: deps.sessions, closer: deps.closer, lifecycle: deps.lifecycle, logger }),
      ...checkinCommands({ checkins: deps.checkins, logger }),
    ],
    limits,
    inFlight,
    deps.onCommandAnswer,
    deps.checkinTrace,
  );

  io.on('connection', (socket) => {
    admission.settle(socket.conn);
    // In its user room already (user-room.ts). No room per login: one more room per socket (and,
    // with the sharded Redis adapter, one more channel subscription) for an event as rare as a
    // logout; endLogin finds its sockets instead.
    expiry.track(socket);
    standing.track(socket);
    const readUnder = actors.fresh(socket);
    attachCommands(socket, commands);
    if (readUnder !== undefined) void standing.checkConnected(socket, readUnder);
  });
  io.on('actor:forget', (userId) => actors.forget(userId));
  io.on('login:revoked', (sid) => endLogin(sid));

  /** Ends this node's sockets of one login: told why, then disconnected (its reconnect is refused TOKEN_REVOKED). */
  function endLogin(sid: string): void {
    for (const socket of io.of('/').sockets.values()) {
      if (socket.data.sid !== sid) continue;
      socket.emit('auth:revoked', { code: 'TOKEN_REVOKED' });
      socket.disconnect(true);
    }
  }

  // A check-in's view (its push and its answer) and a roster batch are each encoded once, without the walk for binary.
  const shared = new SharedPayloads(io.encoder);
  const fanout = new Fanout(io, deps.fanoutLink, logger, deps.adapter !== undefined, shared);
  const catchUp = new EnrolmentCatchUp(io, deps.fanoutLink, deps.sessions, logger);
  // Several nodes only: what this node changed during an outage of its own link, told to the others' students.
  const peers = deps.adapter && deps.fanoutLink ? new PeerCatchUp(io, deps.fanoutLink, catchUp, logger) : null;
  const trace = deps.checkinTrace;
  const batches = new RosterBatches(deps.rosterBatchMs, (batch) => {
    if (trace) {
      const at = trace.now();
      for (const u of batch.updates) trace.mark(batch.sessionId, u.entry.studentId, 'rosterSent', at);
    }
    try {
      shared.share(batch);
      fanout.target(batch.sessionId).to(rooms.staff(batch.sessionId)).emit('roster:updates', batch);
    } catch (err) {
      // Sent from a timer, where a throw would end the process; the screens' gap rule resyncs them.
      logger.error({ err, sessionId: batch.sessionId }, 'roster batch not sent');
    }
  });
  const unsubscribe = deps.bus.subscribe((event) => {
    switch (event.type) {
      case 'roster.changed':
        trace?.mark(event.update.sessionId, event.update.entry.studentId, 'rostered');
        batches.add(event.update);
        // The student's own result is not held back with the screens' batch.
        fanout.decision(event.update.sessionId, event.studentId, event.checkin);
        break;
      case 'session.changed': {
        // Screens see the changes before the status that follows them (e.g. a close's absents).
        batches.flush(event.session.id);
        const target = fanout.target(event.session.id);
        target.to(rooms.staff(event.session.id)).emit('session:status', event.session);
        // Only students sit in these two rooms (session:join and a student's list): their view
        // leaves out the room's coordinates and networks.
        target
          .to(rooms.students(event.session.id))
          .to(rooms.subjectStudents(event.session.subjectId))
          .emit('session:status', toStudentSessionView(event.session));
        break;
      }
      case 'roster.reset':
        batches.flush(event.sessionId);
        fanout.target(event.sessionId).to(rooms.staff(event.sessionId)).emit('roster:resync', { sessionId: event.sessionId });
        break;
      case 'session.close-failed':
        fanout
          .target(event.sessionId)
          .to(rooms.staff(event.sessionId))
          .emit('session:close-failed', { sessionId: event.sessionId, code: event.code });
        break;
      case 'login.revoked':
        // The reconnect that follows presents the same token and is refused TOKEN_REVOKED.
        endLogin(event.sid);
        // Other nodes, when there are any (the in-memory adapter has no one to tell).
        if (deps.adapter) io.serverSideEmit('login:revoked', event.sid);
        break;
      case 'user.access-changed':
        // A deactivated user's reconnect is refused ACCOUNT_DISABLED; a changed role reconnects in it.
        actors.forget(event.userId);
        // Other nodes, when there are any (the in-memory adapter has no one to tell).
        if (deps.adapter) io.serverSideEmit('actor:forget', event.userId);
        io.to(rooms.user(event.userId)).emit('auth:revoked', { code: event.code });
        io.in(rooms.user(event.userId)).disconnectSockets(true);
        break;
      case 'subject.enrolled': {
        // Through the adapter, so the students' sockets on every node join; then told, so a page
        // lists the sessions already live. The listing joins the room as well: a notice that
        // overtook the join (two Redis shards) leaves the page in it all the same.
        const students = event.studentIds.map(rooms.user);
        io.in(students).socketsJoin(rooms.subjectStudents(event.subjectId));
        io.to(students).emit('subject:enrolled', { subjectId: event.subjectId });
        break;
      }
      case 'subject.assigned':
        // Through the adapter, to the teachers' sockets on every node. No room to join: the
        // subject's sessions are watched by asking for them, which checks the teacher then.
        io.to(event.teacherIds.map(rooms.user)).emit('subject:assigned', { subjectId: event.subjectId });
        break;
      case 'subject.access-changed':
        for (const userId of event.removedStudentIds) io.in(rooms.user(userId)).socketsLeave(rooms.subjectStudents(event.subjectId));
        for (const sessionId of event.sessionIds) {
          for (const userId of event.removedTeacherIds) {
            io.in(rooms.user(userId)).socketsLeave(rooms.staff(sessionId));
            io.to(rooms.user(userId)).emit('session:access-lost', { sessionId, code: 'NOT_SUBJECT_TEACHER' });
          }
          for (const userId of event.removedStudentIds) {
            io.in(rooms.user(userId)).socketsLeave(rooms.students(sessionId));
            io.to(rooms.user(userId)).emit('session:access-lost', { sessionId, code: 'NOT_ENROLLED' });
          }
        }
        break;
      case 'notification.created':
        io.to(rooms.user(event.userId)).emit('notification:new', { notification: event.notification, unread: event.unread });
        break;
      case 'face.changed':
        io.to(rooms.user(event.view.userId)).emit('face:changed', event.view);
        break;
    }
  });

  return {
    io,
    get admittedHandshakes() {
      return admission.handshakes;
    },
    async close() {
      // Commands in flight answer before the sockets go: check-ins waiting for their group
      // commit are written now, and their roster changes still leave below.
      inFlight.stop();
      await deps.checkins.drain();
      await inFlight.settled(COMMANDS_DRAIN_TIMEOUT_MS);
      unsubscribe();
      // The last changes leave before the sockets close.
      batches.flushAll();
      fanout.close();
      catchUp.close();
      peers?.close();
      expiry.close();
      standing.close();
      loopLag?.close();
      // Not io.close(): that also closes the HTTP server, which the application drains itself.
      // Not disconnectSockets(true) either: a disconnect packet is "io server disconnect", after
      // which socket.io-client never reconnects by itself (docs/protocol.md §2), so every client
      // of a node restarted or scaled down stayed offline. Closing the transport is a lost
      // connection, which the client retries, through the balancer, on another node.
      // engine.close() below would discard the answers above; a silent client would hold the
      // node 30 s (connection-closing.ts).
      await closeConnections([...connections], upgraded, deps.connectionCloseGraceMs);
      await io.of('/').adapter.close();
      io.engine.close();
    },
  };
}

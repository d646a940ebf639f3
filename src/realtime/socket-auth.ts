import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { payload } from './handlers/schemas.js';
import type { AccessClaims, TokenSigner } from '../domain/accounts/access-tokens.js';
import { AppError, toErrorBody } from '../shared/app-error.js';
import { clientAddress, type TrustProxy } from '../adapters/trust-proxy.js';
import type { RateLimiter } from '../domain/rate-limiter.js';
import { addressLimitKey } from '../domain/checks/network.js';
import type { Logger } from '../logger.js';
import type { Store } from '../domain/ports/store.js';
import { storeFailureToAppError } from '../domain/store-errors.js';
import { defineCommand, type Command } from './define-handler.js';
import { StringPool } from './string-pool.js';
import type { TokenExpiryWatch } from './token-expiry.js';
import type { AppServer, AppSocket } from './types.js';

export interface SocketAuthDeps {
  tokens: TokenSigner;
  store: Store;
  logger: Logger;
  /** TRUST_PROXY compiled once, shared with express (the same rule for HTTP and sockets). */
  trustProxy: TrustProxy;
  now: () => Date;
}

/** A refused connection reaches the client as connect_error with `err.data = { code, message }`. */
function refusal(err: unknown): Error & { data: unknown } {
  const body = toErrorBody(err);
  return Object.assign(new Error(body.message), { data: body });
}

/**
 * Handshakes per login (user and `sid`) when they bear a valid access token, else per client
 * address: refused with connect_error RATE_LIMITED (`data.details.retryAfterMs`). A school's
 * pupils share one address, and when a node dies they all reconnect to the others at once:
 * counted per address, a class past the address's budget was refused for up to a minute.
 * Checking the token's signature first costs no store read (the authentication after the count
 * reads the user), so a token logged out still verifies here: counted per user, a copy of it
 * spent the user's budget and kept their new login's sockets out until it expired.
 */
export function useConnectLimit(
  io: AppServer,
  limiters: { perAddress: RateLimiter; perLogin: RateLimiter },
  deps: Pick<SocketAuthDeps, 'trustProxy' | 'logger' | 'tokens' | 'now'>,
  claims: HandshakeClaims,
): void {
  io.use((socket, next) => {
    const user = verifiedUser(claims, socket);
    const ip = user === null ? clientAddress(socket.handshake.address, socket.handshake.headers, deps.trustProxy) : null;
    const counted = user === null ? limiters.perAddress.consume(addressLimitKey(ip ?? 'unknown')) : limiters.perLogin.consume(user);
    counted.then(
      (limit) => next(limit.allowed ? undefined : refusal(new AppError('RATE_LIMITED', undefined, { retryAfterMs: limit.retryAfterMs }))),
      (err: unknown) => {
        deps.logger.error({ err }, 'socket connection limit failed');
        next(refusal(err));
      },
    );
  });
}

/**
 * Longest token read, here and in auth:renew: an access token is a few hundred characters (RS256
 * with a 4096-bit key under 1,000). The handshake's `auth` was as large as a Socket.IO message
 * (SOCKET_MAX_BUFFER_BYTES), and verifying a 1 MB one cost 7 ms of CPU, before any budget: with
 * the per-user count reading the token first, one address could buy unbounded verifications. Its
 * packet is now at most MAX_TEXT_PACKET_CHARS (text-packet-bound.ts); this bound stays the token's.
 */
export const ACCESS_TOKEN_MAX_CHARS = 8_192;

/** The `org:user:sid` of a handshake token that verifies and has not expired, else null. */
function verifiedUser(claims: HandshakeClaims, socket: AppSocket): string | null {
  try {
    const verified = claims.of(socket);
    return `${verified.org}:${verified.sub}:${verified.sid ?? ''}`;
  } catch {
    // Refused by the authentication after the count, with its own code; counted per address here.
    return null;
  }
}

/**
 * Each handshake's token checked once: the connection limit and the authentication after it
 * both need its claims, and in a reconnect storm the second signature check was a few per cent
 * of the node's time. The outcome is kept with the handshake's socket object only, so it goes
 * with it, and the authentication forgets it once done (`release`).
 */
export class HandshakeClaims {
  private readonly checked = new WeakMap<AppSocket, { claims: AccessClaims } | { refused: unknown }>();

  constructor(private readonly deps: Pick<SocketAuthDeps, 'tokens' | 'now'>) {}

  /** The claims of the socket's handshake token; throws the coded refusal when it has none valid. */
  of(socket: AppSocket): AccessClaims {
    let outcome = this.checked.get(socket);
    if (!outcome) {
      const token: unknown = socket.handshake.auth?.['token'];
      try {
        if (typeof token !== 'string' || token.length === 0) throw new AppError('UNAUTHENTICATED');
        outcome = { claims: verifyUnexpired(this.deps, token) };
      } catch (err) {
        outcome = { refused: err };
      }
      this.checked.set(socket, outcome);
    }
    if ('refused' in outcome) throw outcome.refused;
    return outcome.claims;
  }

  /** Forgets the socket's outcome (its handshake is over). */
  release(socket: AppSocket): void {
    this.checked.delete(socket);
  }
}

/**
 * Authenticates every connection once, from the access token in the handshake `auth`
 * (never the query string). The claims become socket.data; handlers read identity only there.
 */
export function useSocketAuth(
  io: AppServer,
  deps: SocketAuthDeps,
  handshakes: HandshakeClaims,
  /** Runs before the user is read (CurrentActors.beforeHandshake: what is read is kept under the version it reads). */
  beforeRead: (socket: AppSocket, orgId: string) => Promise<void> = async () => undefined,
): void {
  const shared = new StringPool(SHARED_STRINGS_MAX);
  io.use((socket, next) => {
    void (async () => {
      const claims = handshakes.of(socket);
      await beforeRead(socket, claims.org);
      const user = await deps.store.users.get(claims.org, claims.sub);
      if (!user) throw new AppError('TOKEN_INVALID');
      if (!user.active) throw new AppError('ACCOUNT_DISABLED');
      await refuseDisabledOrganisation(deps.store, claims.org);
      if (user.mustChangePassword) throw new AppError('PASSWORD_CHANGE_REQUIRED');
      await refuseRevoked(deps.store, claims.sid);
      socket.data = {
        userId: user.id,
        orgId: shared.intern(user.orgId),
        role: shared.intern(user.role),
        tokenExpiresAt: claims.exp * 1000,
        sid: claims.sid ?? null,
        ip: clientAddress(socket.handshake.address, socket.handshake.headers, deps.trustProxy),
        userAgent: shared.intern(userAgentOf(socket.handshake.headers['user-agent'])),
      };
      releaseHandshake(socket);
    })().then(
      () => {
        handshakes.release(socket);
        next();
      },
      (err: unknown) => {
        handshakes.release(socket);
        // A store outage is logged once by the store ("store failing: ..."); each phone that
        // connects meanwhile hears UNAVAILABLE with a retry hint, as its commands would.
        const known = err instanceof AppError ? err : storeFailureToAppError(err);
        if (!known) deps.logger.error({ err }, 'socket authentication failed');
        next(refusal(known ?? err));
      },
    );
  });
}

/**
 * The signer tolerates a few seconds of clock skew past `exp` (HTTP requests), but a socket ends
 * at its token's `exp` (TokenExpiryWatch): a token already past it would connect, or renew, only
 * to be cut at the next sweep, so it is refused as the expired token it is.
 */
function verifyUnexpired(deps: Pick<SocketAuthDeps, 'tokens' | 'now'>, token: string): AccessClaims {
  if (token.length > ACCESS_TOKEN_MAX_CHARS) throw new AppError('TOKEN_INVALID');
  const claims = deps.tokens.verifyAccess(token);
  if (claims.exp * 1000 <= deps.now().getTime()) throw new AppError('TOKEN_EXPIRED');
  return claims;
}

/** Distinct organisation ids, roles and user agents a node shares between its sockets. */
const SHARED_STRINGS_MAX = 2_000;

/** Longer user agents are cut: the record keeps it for the shared-device review only. */
const USER_AGENT_MAX_CHARS = 300;

function userAgentOf(header: string | undefined): string | null {
  return typeof header === 'string' && header.length > 0 ? header.slice(0, USER_AGENT_MAX_CHARS) : null;
}

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});
const NO_AUTH: Record<string, never> = Object.freeze({});

/**
 * Once the socket is authenticated, what it needs later is in socket.data (identity, address,
 * user agent, token expiry); the upgrade request, its headers and the token itself are let go.
 * With thousands of sockets per node they were about a sixth of each connection's memory, and a
 * token that is no longer held cannot leak through a heap dump of a long-lived connection.
 */
function releaseHandshake(socket: AppSocket): void {
  socket.handshake.headers = NO_HEADERS;
  socket.handshake.auth = NO_AUTH;
  // engine.io keeps the upgrade request for socket.request only; nothing here reads it after the handshake.
  (socket.conn as unknown as { request: unknown }).request = null;
}

/**
 * A deactivated organisation's sockets are refused at the handshake and at auth:renew, so an
 * open one ends at the latest when its access token expires (TokenExpiryWatch).
 */
async function refuseDisabledOrganisation(store: Store, orgId: string): Promise<void> {
  const org = await store.organisations.get(orgId);
  if (!org) throw new AppError('TOKEN_INVALID');
  if (!org.active) throw new AppError('ORGANISATION_DISABLED');
}

async function refuseRevoked(store: Store, sid: string | undefined): Promise<void> {
  if (sid && (await store.refreshTokens.familyRevoked(sid))) throw new AppError('TOKEN_REVOKED');
}

const RenewSchema = payload({ token: z.string().min(1).max(ACCESS_TOKEN_MAX_CHARS) });

/**
 * `auth:renew` with a fresh token of the same user moves the socket's expiry deadline (see
 * TokenExpiryWatch). A client that reconnects presents its current token in the handshake again.
 */
export function authCommands(deps: SocketAuthDeps, watch: TokenExpiryWatch): Command[] {
  return [
    defineCommand(deps.logger, 'auth:renew', 'light', RenewSchema, async ({ token }, { socket }) => {
      const claims = verifyUnexpired(deps, token);
      if (claims.sub !== socket.data.userId || claims.org !== socket.data.orgId) {
        throw new AppError('TOKEN_INVALID', 'The token belongs to another user.');
      }
      const user = await deps.store.users.get(claims.org, claims.sub);
      if (!user?.active) throw new AppError('ACCOUNT_DISABLED');
      await refuseDisabledOrganisation(deps.store, claims.org);
      await refuseRevoked(deps.store, claims.sid);
      // The socket stays with the login it connected with (socket.data.sid): logging that out ends it.
      socket.data.role = user.role;
      watch.renew(socket, claims.exp * 1000);
      return { expiresAt: new Date(socket.data.tokenExpiresAt).toISOString() };
    }),
  ];
}

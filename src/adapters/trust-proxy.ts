import type { IncomingHttpHeaders } from 'node:http';
import proxyaddr from 'proxy-addr';
import { normalizeIp } from '../domain/checks/network.js';

/** Whether the hop at `i` (0 = the socket peer) with address `addr` is a trusted proxy. */
export type TrustProxy = (addr: string, i: number) => boolean;

/**
 * Compiles TRUST_PROXY once, with express's own rules (proxy-addr), into the function express
 * (`app.set('trust proxy', fn)`) and the socket handshake both use, so HTTP and sockets agree
 * on who the client is: `false` trusts nobody, `true` every hop, a number the first n hops, a
 * list the addresses, CIDR ranges and names (`loopback`, `linklocal`, `uniquelocal`) in it.
 * Throws a RangeError on an invalid list entry (at start-up).
 */
export function compileTrustProxy(setting: boolean | number | readonly string[]): TrustProxy {
  if (setting === true) return () => true;
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_addr, i) => i < setting;
  const entries = setting.map((e) => {
    const t = e.trim();
    return ['loopback', 'linklocal', 'uniquelocal'].includes(t.toLowerCase()) ? t.toLowerCase() : t;
  });
  if (entries.length === 0) return () => false;
  try {
    return proxyaddr.compile(entries);
  } catch (err) {
    throw new RangeError(`invalid trust proxy entry: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * The client address of a request or socket.io handshake: the socket peer, then the
 * X-Forwarded-For hops read from the right while they are trusted (proxy-addr, as express's
 * `req.ip`). Normalised (`normalizeIp`); null without a peer address or when the chosen hop is
 * not an IP address.
 */
export function clientAddress(remoteAddress: string | undefined, headers: IncomingHttpHeaders, trust: TrustProxy): string | null {
  if (remoteAddress === undefined) return null;
  const xff = headers['x-forwarded-for'];
  // Node joins a repeated header with ', '; a hand-built headers object may still hold an array.
  const forwarded = Array.isArray(xff) ? xff.join(', ') : xff;
  const req = { socket: { remoteAddress }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } };
  return normalizeIp(proxyaddr(req as unknown as Parameters<typeof proxyaddr>[0], trust));
}

import { BlockList, isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** Address part as written (IPv6 lower-cased; IPv4-mapped IPv6 rewritten as IPv4). */
  address: string;
  /** Prefix length; /32 or /128 when the range was a bare address. */
  prefix: number;
}

export interface NetworkResult {
  outcome: 'pass' | 'fail';
  reason: 'NETWORK_OK' | 'NETWORK_NOT_ALLOWED';
}

/** Named subnets accepted in a trust-proxy list, as express's `trust proxy` accepts them. */
const NAMED_SUBNETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** The eight 16-bit groups of a valid IPv6 address (embedded dotted IPv4 included). */
function ipv6Groups(ip: string): number[] {
  let text = ip;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const [a = 0, b = 0, c = 0, d = 0] = text.slice(lastColon + 1).split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = new Array<number>(8 - left.length - right.length).fill(0);
  const groups = rest === undefined ? left : [...left, ...fill, ...right];
  if (tail.length > 0) groups.splice(6, 2, ...tail);
  return groups;
}

/** The dotted IPv4 inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), or null. */
function mappedIpv4(ip: string): string | null {
  const g = ipv6Groups(ip);
  if (g.slice(0, 5).some((x) => x !== 0) || g[5] !== 0xffff) return null;
  const hi = g[6] ?? 0;
  const lo = g[7] ?? 0;
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * A valid IP address in the form the checks compare: trimmed, IPv6 lower-cased without a zone
 * id, IPv4-mapped IPv6 as plain IPv4. Null when it is not an IP address (a port, a name, junk).
 */
export function normalizeIp(ip: string): string | null {
  let s = ip.trim();
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return null;
  s = s.toLowerCase();
  return mappedIpv4(s) ?? s;
}

/**
 * Parses `address/prefix` or a bare address (= /32 or /128). IPv4-mapped IPv6 ranges with a
 * prefix of at least 96 become the equivalent IPv4 range, so they match IPv4 clients.
 * Throws a RangeError on anything else.
 */
export function parseCidr(range: string): Cidr {
  const text = range.trim();
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  if (addressText.includes('%')) throw new RangeError(`invalid CIDR range: ${range}`);
  const family = isIP(addressText);
  if (family !== 4 && family !== 6) throw new RangeError(`invalid CIDR range: ${range}`);
  const max = family === 4 ? 32 : 128;
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) throw new RangeError(`invalid CIDR range: ${range}`);
  const prefix = prefixText === null ? max : Number(prefixText);
  if (prefix > max) throw new RangeError(`invalid CIDR range: ${range}`);
  if (family === 4) return { family, address: addressText, prefix };

  const address = addressText.toLowerCase();
  const v4 = mappedIpv4(address);
  if (v4 !== null && prefix >= 96) return { family: 4, address: v4, prefix: prefix - 96 };
  return { family: 6, address, prefix };
}

/** True when `parseCidr` accepts the range. */
export function isValidCidr(range: string): boolean {
  try {
    parseCidr(range);
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

/**
 * A matcher over ranges. IPv4 addresses are compared only with IPv4 ranges and IPv6 with IPv6
 * (BlockList alone would let `::/0` match every IPv4 address). Invalid ranges never match;
 * validate them with `isValidCidr` where they are saved.
 */
function compileRanges(ranges: readonly string[]): (ip: string) => boolean {
  const v4 = new BlockList();
  const v6 = new BlockList();
  for (const range of ranges) {
    if (!isValidCidr(range)) continue;
    const { family, address, prefix } = parseCidr(range);
    if (family === 4) v4.addSubnet(address, prefix, 'ipv4');
    else v6.addSubnet(address, prefix, 'ipv6');
  }
  return (ip) => {
    const n = normalizeIp(ip);
    if (n === null) return false;
    return isIP(n) === 4 ? v4.check(n, 'ipv4') : v6.check(n, 'ipv6');
  };
}

/** True when `ip` (IPv4, IPv6 or IPv4-mapped IPv6) is inside any of the ranges. */
export function ipInRanges(ip: string, ranges: readonly string[]): boolean {
  return compileRanges(ranges)(ip);
}

/** The network check: the client address must be in one of the allowed ranges. */
export function evaluateNetwork(ip: string | null, ranges: readonly string[]): NetworkResult {
  if (ip !== null && ipInRanges(ip, ranges)) return { outcome: 'pass', reason: 'NETWORK_OK' };
  return { outcome: 'fail', reason: 'NETWORK_NOT_ALLOWED' };
}

// A trust list comes from config and is the same array on every handshake: compile it once.
const trustCache = new WeakMap<readonly string[], (ip: string) => boolean>();

function trustedBy(list: readonly string[]): (ip: string) => boolean {
  let match = trustCache.get(list);
  if (!match) {
    const ranges: string[] = [];
    for (const entry of list) {
      const named = NAMED_SUBNETS[entry.trim().toLowerCase()];
      if (named) ranges.push(...named);
      else if (isValidCidr(entry)) ranges.push(entry);
      else throw new RangeError(`invalid trust proxy entry: ${entry}`);
    }
    match = compileRanges(ranges);
    trustCache.set(list, match);
  }
  return match;
}

function forwardedEntries(forwardedFor: string | string[] | undefined): string[] {
  if (forwardedFor === undefined) return [];
  const joined = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  return joined
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The client address for a socket.io handshake, with express's `trust proxy` semantics
 * (proxy-addr): the hops are the socket address followed by X-Forwarded-For read from the
 * right; walk them while the current hop is trusted and return the first untrusted one, or the
 * left-most entry when all are trusted.
 * - `false`: the socket address (X-Forwarded-For is ignored, so it cannot be spoofed);
 * - `true`: every hop is trusted, i.e. the left-most X-Forwarded-For entry;
 * - a number n: the first n hops are trusted (n = 1: the right-most X-Forwarded-For entry);
 * - a list of addresses/CIDRs (or `loopback`, `linklocal`, `uniquelocal`): hops inside it are
 *   trusted. Throws a RangeError when an entry is invalid (check the list at start-up).
 * Returns the address normalised (`normalizeIp`), or null when there is no socket address or
 * the chosen hop is not an IP address.
 */
export function resolveClientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustProxy: boolean | number | string[],
): string | null {
  if (remoteAddress === undefined) return null;
  const hops = [remoteAddress, ...forwardedEntries(forwardedFor).reverse()];

  let trusted: (ip: string, index: number) => boolean;
  if (trustProxy === true) trusted = () => true;
  else if (trustProxy === false) trusted = () => false;
  else if (typeof trustProxy === 'number') trusted = (_ip, i) => i < trustProxy;
  else {
    const match = trustedBy(trustProxy);
    trusted = (ip) => match(ip);
  }

  let i = 0;
  while (i < hops.length - 1 && trusted(hops[i] as string, i)) i += 1;
  return normalizeIp(hops[i] as string);
}

/**
 * The allowed range "add my current network" proposes for a client address: the address itself
 * for IPv4 (a school usually reaches the service from one NAT address; the admin may widen it),
 * its /64 for IPv6 (devices change the low 64 bits for privacy). Null for anything else.
 */
export function rangeOfAddress(ip: string): string | null {
  const n = normalizeIp(ip);
  if (n === null) return null;
  if (isIP(n) === 4) return `${n}/32`;
  const [head = '', tail = ''] = n.split('::');
  const left = head ? head.split(':') : [];
  const right = n.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const prefix = groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, ''));
  return `${prefix.join(':')}::/64`;
}

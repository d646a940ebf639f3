import ipaddr from 'ipaddr.js';

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

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/** Without a zone id (`fe80::1%eth0`), trimmed. */
function withoutZone(ip: string): string {
  const s = ip.trim();
  const zone = s.indexOf('%');
  return zone === -1 ? s : s.slice(0, zone);
}

/**
 * A valid IP address, parsed; IPv4 only in strict four-part decimal (no `010.0.0.1`, no `10.1`),
 * as Node's `isIP` accepts it. Null when it is not an address.
 */
function parseStrict(text: string): Ip | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return null;
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) as the IPv4 address it carries. */
function unmapped(ip: Ip): Ip {
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/**
 * A valid IP address in the form the checks compare: trimmed, IPv6 lower-cased without a zone
 * id, IPv4-mapped IPv6 as plain IPv4. Null when it is not an IP address (a port, a name, junk).
 */
export function normalizeIp(ip: string): string | null {
  const text = withoutZone(ip);
  const parsed = parseStrict(text);
  if (parsed === null) return null;
  const plain = unmapped(parsed);
  return plain.kind() === 'ipv4' ? plain.toString() : text.toLowerCase();
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
  const ip = parseStrict(addressText);
  if (ip === null) throw new RangeError(`invalid CIDR range: ${range}`);
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) throw new RangeError(`invalid CIDR range: ${range}`);
  const prefix = prefixText === null ? max : Number(prefixText);
  if (prefix > max) throw new RangeError(`invalid CIDR range: ${range}`);
  if (ip.kind() === 'ipv4') return { family: 4, address: addressText, prefix };
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress() && prefix >= 96) return { family: 4, address: v6.toIPv4Address().toString(), prefix: prefix - 96 };
  return { family: 6, address: addressText.toLowerCase(), prefix };
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
 * A matcher over ranges (ipaddr.js). IPv4 addresses are compared only with IPv4 ranges and
 * IPv6 with IPv6, so `::/0` does not match IPv4 clients. Invalid ranges never match; validate
 * them with `isValidCidr` where they are saved.
 */
function compileRanges(ranges: readonly string[]): (ip: string) => boolean {
  const subnets: Array<[Ip, number]> = [];
  for (const range of ranges) {
    if (!isValidCidr(range)) continue;
    const { address, prefix } = parseCidr(range);
    subnets.push([ipaddr.parse(address), prefix]);
  }
  return (ip) => {
    const text = withoutZone(ip);
    const parsed = parseStrict(text);
    if (parsed === null) return false;
    const client = unmapped(parsed);
    return subnets.some(([net, prefix]) => net.kind() === client.kind() && client.match(net, prefix));
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

/**
 * The key a client address's rate limits count under: an IPv4 address itself (an IPv4-mapped
 * IPv6 address as that IPv4 address), an IPv6 address by its /64. A device picks any address of
 * its /64 (privacy addresses, or any number on purpose), so per IPv6 address a client had as many
 * login throttles and request budgets as it cared to use. Anything unreadable is its own key.
 */
export function addressLimitKey(ip: string): string {
  const range = rangeOfAddress(ip);
  if (range === null) return ip;
  return range.endsWith('/32') ? range.slice(0, -'/32'.length) : range;
}

/**
 * The allowed range "add my current network" proposes for a client address: the address itself
 * for IPv4 (a school usually reaches the service from one NAT address; the admin may widen it),
 * its /64 for IPv6 (devices change the low 64 bits for privacy). Null for anything else.
 */
export function rangeOfAddress(ip: string): string | null {
  const parsed = parseStrict(withoutZone(ip));
  if (parsed === null) return null;
  const plain = unmapped(parsed);
  if (plain.kind() === 'ipv4') return `${plain.toString()}/32`;
  const groups = (plain as ipaddr.IPv6).parts.slice(0, 4).map((g) => g.toString(16));
  return `${groups.join(':')}::/64`;
}

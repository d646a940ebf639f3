/**
 * Whether the range "add my current network" proposes (GET /me/network: an IPv4 address as /32,
 * an IPv6 /64) can stand for a class. A private, loopback, link-local or carrier-grade NAT IPv4
 * address is one device's own on its local network or its phone operator's: with the server on
 * the school LAN every student has another one, so allowing it would refuse the whole class. A
 * public IPv4 address (the school's NAT egress) or an IPv6 /64 is shared by the devices on one
 * Wi-Fi, which only the person who sees the room can confirm.
 */

/** IPv4 blocks whose addresses name one device, never a whole network: [first address, prefix]. */
const DEVICE_ONLY_V4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network": only ever the device itself
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT: a phone on mobile data
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
];

function ipv4Number(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function inBlock(n: number, [first, prefix]: readonly [string, number]): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(n / size) === Math.floor(ipv4Number(first)! / size);
}

/**
 * True when `range` (as GET /me/network gives it) names only the device that asked: a
 * device-only IPv4 address, the IPv6 loopback's /64 or a link-local /64 (every link has the same
 * one, so it says nothing of the room). Such a range is not offered as the class's network.
 */
export function isDeviceOnlyRange(range: string): boolean {
  const address = range.split('/')[0] ?? '';
  const v4 = ipv4Number(address);
  if (v4 !== null) return DEVICE_ONLY_V4.some((block) => inBlock(v4, block));
  const [first = '', second = ''] = address.split(':');
  // ::1's /64 reads "0:0:0:0::/64"; fe80::/10 is link-local.
  if (/^0*$/.test(first) || /^fe[89ab][0-9a-f]$/i.test(first)) return true;
  // 64:ff9b::/96 (NAT64) and 2001:0::/32 (Teredo) carry IPv4 clients: their /64 is every IPv4
  // client behind the gateway or relay, the whole internet, not the room's Wi-Fi.
  const group = (g: string) => parseInt(g || '0', 16);
  return (group(first) === 0x64 && group(second) === 0xff9b) || (group(first) === 0x2001 && group(second) === 0);
}

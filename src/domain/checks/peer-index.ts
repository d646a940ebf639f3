/**
 * The other records of a session as the proxy signals ask about them (./proxy-signals.ts), indexed
 * so that one check-in costs a few map lookups instead of a pass over the whole session: a large
 * lecture opening its code at once would otherwise cost O(session size) per check-in.
 */
import { EARTH_RADIUS_M, haversineM } from './geofence.js';
import { DUPLICATE_FIX_M, type CheckinSignals, type Peer, type PeerLookup } from './proxy-signals.js';

/**
 * Side of a grid cell, in metres of the 3-D point on the sphere. Two fixes closer than
 * DUPLICATE_FIX_M along the surface are closer than that in a straight line (a chord is never
 * longer than its arc), so they lie in the same or adjacent cells on each axis; the margin covers
 * the rounding of the coordinates (about 1e-9 m at the Earth's radius).
 */
const CELL_M = DUPLICATE_FIX_M * 1.5;
/** Cell numbers per axis lie within ±EARTH_RADIUS_M / CELL_M (< 2^23): two of them pack into one safe integer. */
const AXIS_SPAN = 2 ** 24;

/** Student ids with how many entries each has under one key: "someone else" is then one size check. */
type Students = Map<string, number>;

interface Entry {
  peer: Peer;
  /** The device and address-and-browser keys it is filed under, or null. */
  device: string | null;
  address: string | null;
  /** Whether it counts for the address-and-browser rule against a check-in that has a device id. */
  deviceless: boolean;
  cell: { outer: number; inner: number } | null;
  /** Its position in its cell's list, for a removal without a search (a whole class may share one fix). */
  slot: number;
}

function addTo(map: Map<string, Students>, key: string, studentId: string): void {
  let students = map.get(key);
  if (!students) map.set(key, (students = new Map()));
  students.set(studentId, (students.get(studentId) ?? 0) + 1);
}

function removeFrom(map: Map<string, Students>, key: string, studentId: string): void {
  const students = map.get(key);
  if (!students) return;
  const n = (students.get(studentId) ?? 0) - 1;
  if (n > 0) students.set(studentId, n);
  else students.delete(studentId);
  if (students.size === 0) map.delete(key);
}

function hasOther(students: Students | undefined, studentId: string): boolean {
  return students !== undefined && students.size > (students.has(studentId) ? 1 : 0);
}

/** The same address and the same browser build, unambiguous whatever the two strings hold. */
function addressKey(ip: string, userAgent: string): string {
  return `${ip.length}:${ip}${userAgent}`;
}

/** The cell numbers of a fix's point on the sphere, on the three axes. */
function cellOf(lat: number, lon: number): [number, number, number] {
  const phi = (lat * Math.PI) / 180;
  const lambda = (lon * Math.PI) / 180;
  const r = EARTH_RADIUS_M / CELL_M;
  return [
    Math.floor(r * Math.cos(phi) * Math.cos(lambda)),
    Math.floor(r * Math.cos(phi) * Math.sin(lambda)),
    Math.floor(r * Math.sin(phi)),
  ];
}

const outerKey = (x: number, y: number): number => (x + AXIS_SPAN / 2) * AXIS_SPAN + (y + AXIS_SPAN / 2);

/**
 * Peers by a key of the caller's (a record id), each filed by device id, by address and browser,
 * and by the grid cell of its fix. Answers exactly what a pass over every peer would
 * (docs/protocol.md, "Proxy signals"); a test compares the two on random sessions.
 */
export class PeerIndex implements PeerLookup {
  private readonly entries = new Map<string, Entry>();
  private readonly byDevice = new Map<string, Students>();
  /** Every peer with an address and a browser: what a check-in without a device id compares. */
  private readonly byAddress = new Map<string, Students>();
  /** Only peers without a device id: with one on both sides, the ids alone decide. */
  private readonly byAddressDeviceless = new Map<string, Students>();
  /** outer key (x, y) -> z -> the peers with a fix in that cell. */
  private readonly cells = new Map<number, Map<number, Entry[]>>();

  get size(): number {
    return this.entries.size;
  }

  /** Files the peer under `key`, replacing what was filed under it. */
  set(key: string, peer: Peer): void {
    this.delete(key);
    const device = peer.deviceId ? peer.deviceId : null;
    const address = peer.ip && peer.userAgent ? addressKey(peer.ip, peer.userAgent) : null;
    const entry: Entry = { peer, device, address, deviceless: !peer.deviceId, cell: null, slot: 0 };
    if (device !== null) addTo(this.byDevice, device, peer.studentId);
    if (address !== null) {
      addTo(this.byAddress, address, peer.studentId);
      if (entry.deviceless) addTo(this.byAddressDeviceless, address, peer.studentId);
    }
    if (peer.location) {
      const [x, y, z] = cellOf(peer.location.lat, peer.location.lon);
      entry.cell = { outer: outerKey(x, y), inner: z };
      let column = this.cells.get(entry.cell.outer);
      if (!column) this.cells.set(entry.cell.outer, (column = new Map()));
      const list = column.get(z);
      if (list) {
        entry.slot = list.length;
        list.push(entry);
      } else column.set(z, [entry]);
    }
    this.entries.set(key, entry);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const { studentId } = entry.peer;
    if (entry.device !== null) removeFrom(this.byDevice, entry.device, studentId);
    if (entry.address !== null) {
      removeFrom(this.byAddress, entry.address, studentId);
      if (entry.deviceless) removeFrom(this.byAddressDeviceless, entry.address, studentId);
    }
    if (entry.cell) {
      const column = this.cells.get(entry.cell.outer)!;
      const list = column.get(entry.cell.inner)!;
      // The last one takes its place: the order within a cell does not matter.
      const last = list.pop()!;
      if (last !== entry) {
        list[entry.slot] = last;
        last.slot = entry.slot;
      }
      if (list.length === 0) column.delete(entry.cell.inner);
      if (column.size === 0) this.cells.delete(entry.cell.outer);
    }
  }

  sharesDevice(current: CheckinSignals): boolean {
    const me = current.studentId;
    const address = current.ip && current.userAgent ? addressKey(current.ip, current.userAgent) : null;
    if (current.deviceId) {
      // With an id on both sides the ids decide; a peer without one is compared by address and browser.
      return hasOther(this.byDevice.get(current.deviceId), me) || (address !== null && hasOther(this.byAddressDeviceless.get(address), me));
    }
    return address !== null && hasOther(this.byAddress.get(address), me);
  }

  hasDuplicateFix(current: CheckinSignals): boolean {
    const fix = current.location;
    if (!fix || this.cells.size === 0) return false;
    const [x, y, z] = cellOf(fix.lat, fix.lon);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const column = this.cells.get(outerKey(x + dx, y + dy));
        if (!column) continue;
        for (let dz = -1; dz <= 1; dz++) {
          const list = column.get(z + dz);
          if (!list) continue;
          for (const { peer } of list) {
            if (peer.studentId !== current.studentId && haversineM(peer.location!, fix) < DUPLICATE_FIX_M) return true;
          }
        }
      }
    }
    return false;
  }
}

/** Two lookups as one: the session's stored records and the check-ins ahead in the same batch. */
export class PeerLookups implements PeerLookup {
  constructor(private readonly lookups: readonly PeerLookup[]) {}

  sharesDevice(current: CheckinSignals): boolean {
    return this.lookups.some((l) => l.sharesDevice(current));
  }

  hasDuplicateFix(current: CheckinSignals): boolean {
    return this.lookups.some((l) => l.hasDuplicateFix(current));
  }
}

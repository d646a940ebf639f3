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
/**
 * A cell's key keeps its numbers modulo 2^10 per axis: three of them fill 30 bits, one Map level
 * instead of two, and the key is a small integer V8 stores in the field and the Map unboxed (at
 * 17 bits per axis, 51, each peer's key was a heap number of its own: about 12 bytes of every
 * peer the node keeps, each promoted to the old space; docs/multi-node.md, "Round 31, old
 * space"). Cells about 1.5 km apart share a key, and the distance test of every candidate drops
 * the far one, so a shared key costs a comparison, never a flag.
 */
const AXIS_BITS = 10;
const AXIS_MASK = 2 ** AXIS_BITS - 1;

/**
 * Who is filed under one key: the one student id itself while it has a single entry there (most
 * keys: a phone's device id, a phone's address), else student ids with how many entries each
 * has, so that "someone else" stays one size check. A Map per key cost about 150 bytes per peer
 * and key, most of a peer's memory once a node keeps its 100,000 (session-peers.ts).
 */
type Students = string | Map<string, number>;

interface Entry {
  studentId: string;
  /** The fix (NaN without one); the index keeps no other part of the record: the peer it was given is let go. */
  lat: number;
  lon: number;
  /** The device id it is filed under, or null. */
  device: string | null;
  /** The address and browser build it is filed under (both or neither; the build as the index keeps it). */
  ip: string | null;
  userAgent: string | null;
  /** Its cell's key, or -1 without a fix. */
  cell: number;
  /** Its position in its cell's list, for a removal without a search (a whole class may share one fix). */
  slot: number;
}

function addTo(map: Map<string, Students>, key: string, studentId: string): void {
  const students = map.get(key);
  if (students === undefined) map.set(key, studentId);
  else if (typeof students === 'string') map.set(key, new Map([[students, 1]]).set(studentId, students === studentId ? 2 : 1));
  else students.set(studentId, (students.get(studentId) ?? 0) + 1);
}

function removeFrom(map: Map<string, Students>, key: string, studentId: string): void {
  const students = map.get(key);
  if (students === undefined) return;
  if (typeof students === 'string') {
    map.delete(key);
    return;
  }
  const n = (students.get(studentId) ?? 0) - 1;
  if (n > 0) students.set(studentId, n);
  else students.delete(studentId);
  if (students.size === 0) map.delete(key);
}

function hasOther(students: Students | undefined, studentId: string): boolean {
  if (students === undefined) return false;
  if (typeof students === 'string') return students !== studentId;
  return students.size > (students.has(studentId) ? 1 : 0);
}

/**
 * Students by browser build, then by address. A build's string is kept once, as its first peer
 * gave it, and every later peer of that build points to it: a key of address and build per peer
 * held a copy of the build's 100 to 300 characters each (a class has a few builds, each a phone's
 * user agent).
 */
class ByAddress {
  private readonly builds = new Map<string, { userAgent: string; byIp: Map<string, Students> }>();

  /** Files the student; returns the build's string as kept, for the peer to hold. */
  add(ip: string, userAgent: string, studentId: string): string {
    let build = this.builds.get(userAgent);
    if (!build) this.builds.set(userAgent, (build = { userAgent, byIp: new Map() }));
    addTo(build.byIp, ip, studentId);
    return build.userAgent;
  }

  remove(ip: string, userAgent: string, studentId: string): void {
    const build = this.builds.get(userAgent);
    if (!build) return;
    removeFrom(build.byIp, ip, studentId);
    if (build.byIp.size === 0) this.builds.delete(userAgent);
  }

  get(ip: string, userAgent: string): Students | undefined {
    return this.builds.get(userAgent)?.byIp.get(ip);
  }
}

/** Another student is filed under the check-in's address and browser build (when it has both). */
function sharesAddress(index: ByAddress, { ip, userAgent, studentId }: CheckinSignals): boolean {
  return Boolean(ip && userAgent && hasOther(index.get(ip, userAgent), studentId));
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

const cellKey = (x: number, y: number, z: number): number =>
  (x & AXIS_MASK) * 2 ** (2 * AXIS_BITS) + (y & AXIS_MASK) * 2 ** AXIS_BITS + (z & AXIS_MASK);

/**
 * Peers by a key of the caller's (a student id: one record per session and student), each filed by device id, by address and browser,
 * and by the grid cell of its fix. Answers exactly what a pass over every peer would
 * (docs/protocol.md, "Proxy signals"); a test compares the two on random sessions.
 */
export class PeerIndex implements PeerLookup {
  private readonly entries = new Map<string, Entry>();
  private readonly byDevice = new Map<string, Students>();
  /** Every peer with an address and a browser: what a check-in without a device id compares. */
  private readonly byAddress = new ByAddress();
  /** Only peers without a device id: with one on both sides, the ids alone decide. */
  private readonly byAddressDeviceless = new ByAddress();
  /**
   * cell key -> the peers with a fix in that cell (or in one sharing its key): the one entry
   * itself while it is alone there (most cells: a cell is 1.5 m across, and a class's fixes
   * scatter over tens of metres), else a list. A list per cell was about 30 bytes of every kept
   * peer, promoted to the old space with it (docs/multi-node.md, "Round 31, old space").
   */
  private readonly cells = new Map<number, Entry | Entry[]>();

  get size(): number {
    return this.entries.size;
  }

  /** Files the peer under `key`, replacing what was filed under it. */
  set(key: string, peer: Peer): void {
    this.delete(key);
    const { studentId, location } = peer;
    const device = peer.deviceId ? peer.deviceId : null;
    const ip = peer.ip && peer.userAgent ? peer.ip : null;
    const entry: Entry = {
      studentId,
      lat: location ? location.lat : Number.NaN,
      lon: location ? location.lon : Number.NaN,
      device,
      ip,
      userAgent: null,
      cell: -1,
      slot: 0,
    };
    if (device !== null) addTo(this.byDevice, device, studentId);
    if (ip !== null) {
      entry.userAgent = this.byAddress.add(ip, peer.userAgent!, studentId);
      // Only without a device id does it count for the address rule against a check-in that has one.
      if (device === null) this.byAddressDeviceless.add(ip, entry.userAgent, studentId);
    }
    if (location) {
      const [x, y, z] = cellOf(location.lat, location.lon);
      entry.cell = cellKey(x, y, z);
      const found = this.cells.get(entry.cell);
      if (found === undefined) this.cells.set(entry.cell, entry);
      else if (Array.isArray(found)) {
        entry.slot = found.length;
        found.push(entry);
      } else {
        found.slot = 0;
        entry.slot = 1;
        this.cells.set(entry.cell, [found, entry]);
      }
    }
    this.entries.set(key, entry);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const { studentId } = entry;
    if (entry.device !== null) removeFrom(this.byDevice, entry.device, studentId);
    if (entry.ip !== null) {
      this.byAddress.remove(entry.ip, entry.userAgent!, studentId);
      if (entry.device === null) this.byAddressDeviceless.remove(entry.ip, entry.userAgent!, studentId);
    }
    if (entry.cell !== -1) {
      const list = this.cells.get(entry.cell)!;
      if (!Array.isArray(list)) this.cells.delete(entry.cell);
      else {
        // The last one takes its place: the order within a cell does not matter.
        const last = list.pop()!;
        if (last !== entry) {
          list[entry.slot] = last;
          last.slot = entry.slot;
        }
        if (list.length === 0) this.cells.delete(entry.cell);
      }
    }
  }

  sharesDevice(current: CheckinSignals): boolean {
    const me = current.studentId;
    if (current.deviceId) {
      // With an id on both sides the ids decide; a peer without one is compared by address and browser.
      return hasOther(this.byDevice.get(current.deviceId), me) || sharesAddress(this.byAddressDeviceless, current);
    }
    return sharesAddress(this.byAddress, current);
  }

  hasDuplicateFix(current: CheckinSignals): boolean {
    const fix = current.location;
    if (!fix || this.cells.size === 0) return false;
    const [x, y, z] = cellOf(fix.lat, fix.lon);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (let dz = -1; dz <= 1; dz++) {
          const found = this.cells.get(cellKey(x + dx, y + dy, z + dz));
          if (found === undefined) continue;
          if (!Array.isArray(found)) {
            if (isDuplicate(found, current.studentId, fix)) return true;
            continue;
          }
          for (const entry of found) if (isDuplicate(entry, current.studentId, fix)) return true;
        }
      }
    }
    return false;
  }
}

/** Another student's fix closer than DUPLICATE_FIX_M. */
function isDuplicate(entry: Entry, studentId: string, fix: { lat: number; lon: number }): boolean {
  return entry.studentId !== studentId && haversineM(entry, fix) < DUPLICATE_FIX_M;
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

/**
 * Reads a `roster:updates` push for the load generator without parsing all of it: the session,
 * and of each update its version, student id and status, which is all the pairing needs. The 40
 * screens of a 5,000 check-ins/s run receive every check-in twice, each entry 18 fields, and
 * `JSON.parse` of those frames was about a sixth of the lean generator's busy time
 * (docs/multi-node.md, "Round 32, the generator").
 *
 * Why a plain scan is safe here: inside a JSON string every `"` is written `\"`, so a key
 * preceded by `{` or `,` (`{"version":`, `,"status":"`) can only be the structure, never a
 * student's name. What the scan assumes and JSON does not promise is the server's key order
 * (`{"sessionId",...,"updates":[{"version",...,"entry":{"studentId",...`), and that no nested
 * object gains a `version` key: so the first frame and every `checkEvery`th are parsed in full as
 * well and compared; at the first difference the reader records it and parses every later frame
 * in full, so the figures stay right and the run reports the drift.
 */
import { ROSTER_STATUSES, type RosterStatus, type RosterUpdates } from '../../src/shared/events.js';

const PREFIX = '42["roster:updates",{"sessionId":"';
const UPDATES = '","updates":[';
const VERSION = '{"version":';
const ENTRY = ',"entry":{"studentId":"';
const STATUS = ',"status":"';
/** Code of a status that is none of ROSTER_STATUSES. */
export const UNKNOWN_STATUS = 255;

export class RosterFrameReader {
  /** The last frame's session. */
  sessionId = '';
  /** Updates in the last frame; their fields are at 0 .. count-1 below (the arrays are reused). */
  count = 0;
  readonly studentIds: string[] = [];
  versions = new Float64Array(64);
  /** Index in ROSTER_STATUSES, or UNKNOWN_STATUS. */
  statuses = new Uint8Array(64);
  /** Frames read; frames also parsed in full and compared; frames read in full only. */
  frames = 0;
  checked = 0;
  parsedOnly = 0;
  /** The first difference between the scan and the full parse, once there was one. */
  drift: string | null = null;

  /** `checkEvery`: every how many frames the scan is compared with the full parse (1: all). */
  constructor(private readonly checkEvery = 64) {}

  /** Reads one `42["roster:updates",...]` text frame; false (nothing read) when it is none. */
  read(text: string): boolean {
    const n = this.frames++;
    if (this.drift === null && this.scan(text)) {
      if (n % this.checkEvery === 0) this.compare(text);
      return true;
    }
    this.parsedOnly += 1;
    return this.parse(text);
  }

  /** The status of update `j` of the last frame, as the server wrote it. */
  status(j: number): RosterStatus | null {
    return ROSTER_STATUSES[this.statuses[j]!] ?? null;
  }

  private scan(text: string): boolean {
    if (!text.startsWith(PREFIX)) return false;
    let p = PREFIX.length;
    let q = text.indexOf('"', p);
    if (q < 0 || !text.startsWith(UPDATES, q)) return false;
    const sessionId = text.slice(p, q);
    if (sessionId.includes('\\')) return false;
    p = q + UPDATES.length;
    let count = 0;
    while (text.startsWith(VERSION, p)) {
      p += VERSION.length;
      let version = 0;
      const from = p;
      for (let c = text.charCodeAt(p); c >= 48 && c <= 57; c = text.charCodeAt(++p)) version = version * 10 + (c - 48);
      if (p === from || !text.startsWith(ENTRY, p)) return false;
      p += ENTRY.length;
      q = text.indexOf('"', p);
      if (q < 0) return false;
      const studentId = text.slice(p, q);
      if (studentId.includes('\\')) return false;
      p = text.indexOf(STATUS, q);
      if (p < 0) return false;
      p += STATUS.length;
      this.grow(count + 1);
      this.versions[count] = version;
      this.statuses[count] = statusCode(text, p);
      this.studentIds[count] = studentId;
      count += 1;
      p = text.indexOf(VERSION, p);
      if (p < 0) break;
    }
    if (count === 0) return false;
    this.sessionId = sessionId;
    this.count = count;
    return true;
  }

  private parse(text: string): boolean {
    if (!text.startsWith('42["roster:updates",')) return false;
    const [, batch] = JSON.parse(text.slice(2)) as [string, RosterUpdates];
    this.fill(batch);
    return true;
  }

  /** Takes a batch another client parsed already (socket.io-client), so one reader serves both. */
  fill(batch: RosterUpdates): void {
    this.sessionId = batch.sessionId;
    this.count = batch.updates.length;
    this.grow(this.count);
    batch.updates.forEach((u, j) => {
      this.versions[j] = u.version;
      this.studentIds[j] = u.entry.studentId;
      const s = ROSTER_STATUSES.indexOf(u.entry.status);
      this.statuses[j] = s < 0 ? UNKNOWN_STATUS : s;
    });
  }

  /** The full parse of the frame the scan just read; a difference turns the scan off. */
  private compare(text: string): void {
    this.checked += 1;
    const [, batch] = JSON.parse(text.slice(2)) as [string, RosterUpdates];
    const differs = (): string | null => {
      if (batch.sessionId !== this.sessionId) return `sessionId ${batch.sessionId} read as ${this.sessionId}`;
      if (batch.updates.length !== this.count) return `${batch.updates.length} updates read as ${this.count}`;
      for (let j = 0; j < this.count; j += 1) {
        const u = batch.updates[j]!;
        const read = `${this.versions[j]} ${this.studentIds[j]} ${this.status(j)}`;
        if (read !== `${u.version} ${u.entry.studentId} ${u.entry.status}`)
          return `update ${j}: ${u.version} ${u.entry.studentId} ${u.entry.status} read as ${read}`;
      }
      return null;
    };
    const difference = differs();
    if (difference === null) return;
    this.drift = `frame ${this.frames}: ${difference}`;
    // This frame's figures come from the full parse too.
    this.fill(batch);
  }

  private grow(n: number): void {
    if (n <= this.versions.length) return;
    const size = Math.max(n, this.versions.length * 2);
    const versions = new Float64Array(size);
    versions.set(this.versions);
    const statuses = new Uint8Array(size);
    statuses.set(this.statuses);
    this.versions = versions;
    this.statuses = statuses;
  }
}

/** The status starting at `p` (its closing quote right after), as its index, without a slice. */
function statusCode(text: string, p: number): number {
  for (let s = 0; s < ROSTER_STATUSES.length; s += 1) {
    const name = ROSTER_STATUSES[s]!;
    if (text.startsWith(name, p) && text.charCodeAt(p + name.length) === 34 /* " */) return s;
  }
  return UNKNOWN_STATUS;
}

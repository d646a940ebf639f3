/**
 * What the group commit's peer indexes (src/domain/checkins/session-peers.ts) cost a node when
 * they hold their bound: 500 sessions of 200 students, 100,000 peers. Not a test.
 *
 *   node --import tsx scripts/bench-peer-memory.ts [--sessions 500] [--students 200]
 *
 * The peers are what the store's read gives: flat strings of their own for the ids, the address
 * and a phone browser's user agent (one of a few builds), a fix a metre or more from the others,
 * and a device id for the share given by --device-share (the student page always sends one;
 * other clients none). Prints the heap after a full collection, per peer.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SessionPeers, SESSION_PEER_LIMITS } from '../src/domain/checkins/session-peers.js';
import type { PeerMarkChanges, RecordRepository, VersionedPeerMark } from '../src/domain/ports/records.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: String(SESSION_PEER_LIMITS.sessions) },
    students: { type: 'string', default: String(SESSION_PEER_LIMITS.peers / SESSION_PEER_LIMITS.sessions) },
    'device-share': { type: 'string', default: '1' },
  },
});
const sessions = Number(args.sessions);
const students = Number(args.students);
const deviceShare = Number(args['device-share']);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const BROWSERS = [
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.99 Mobile Safari/537.36',
];
// A row's strings are flat and its own; randomUUID's are concatenations, larger than a row's.
const own = (s: string) => Buffer.from(s).toString();

function marksOf(session: number): VersionedPeerMark[] {
  return Array.from({ length: students }, (_, i) => ({
    id: own(randomUUID()),
    rosterVersion: i + 1,
    studentId: own(randomUUID()),
    deviceId: i < students * deviceShare ? own(randomUUID()) : null,
    ip: own(`10.${session % 250}.${i % 250}.${(session * 7 + i) % 250}`),
    userAgent: own(BROWSERS[i % BROWSERS.length]!),
    // A room 20 m across: fixes a metre or more apart.
    location: { lat: 52.2297 + (i % 20) * 1e-5, lon: 21.0122 + Math.floor(i / 20) * 1.5e-5 },
  }));
}

const records: Pick<RecordRepository, 'listPeerMarkChanges'> = {
  async listPeerMarkChanges(_orgId, asked) {
    return asked.map(({ sessionId }): PeerMarkChanges => {
      const marks = marksOf(Number(sessionId));
      return { marks, count: marks.length };
    });
  },
};

const peers = new SessionPeers(records, () => 0, { sessions, peers: sessions * students, maxAgeMs: 60_000 });
gc();
const before = process.memoryUsage().heapUsed;
for (let s = 0; s < sessions; s += 1) await peers.currentAll('org', [String(s)]);
gc();
const after = process.memoryUsage().heapUsed;
const n = sessions * students;
process.stdout.write(
  `${peers.size} sessions, ${n.toLocaleString('en')} peers (device id on ${Math.round(deviceShare * 100)} %): ` +
    `heap +${((after - before) / 1024 / 1024).toFixed(1)} MB, ${Math.round((after - before) / n)} bytes per peer\n`,
);

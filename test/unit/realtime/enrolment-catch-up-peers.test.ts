import { expect } from 'chai';
import { CLOCK_SKEW_LIMIT_MS } from '../../../src/cluster/node-registry.js';
import {
  CATCH_UP_GATHER_MS,
  CATCH_UP_SETTLE_MS,
  EnrolmentCatchUp,
  type StudentEnrolmentReads,
} from '../../../src/realtime/enrolment-catch-up.js';
import type { FanoutLink, LinkOutage } from '../../../src/shared/fanout-link.js';
import type { AppServer } from '../../../src/realtime/types.js';
import type { Logger } from '../../../src/logger.js';
import { rooms } from '../../../src/shared/events.js';

// Another node's outage ended: requests that arrive together make one pass, from the earliest
// of them less the skew allowance, with one read of records per joined session and no read of
// enrolments (that node's enrolment announcements waited in its publisher's queue).

class FakeSocket {
  readonly sent: string[] = [];
  disconnected = false;
  constructor(
    readonly data: { userId: string; orgId: string; role: 'teacher' | 'student' },
    readonly rooms: Set<string>,
  ) {}
  emit(event: string): boolean {
    this.sent.push(event);
    return true;
  }
}

const silent = { warn() {}, info() {}, error() {}, debug() {}, isLevelEnabled: () => false } as unknown as Logger;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('EnrolmentCatchUp.tellSince (another node back from its own outage)', () => {
  it('gathers requests arriving together into one pass from the earliest, reading no enrolments', async () => {
    const phone = new FakeSocket({ userId: 's1', orgId: 'o1', role: 'student' }, new Set([rooms.students('sess1')]));
    const sockets = new Map([['x', phone]]);
    const io = { of: () => ({ sockets }) } as unknown as AppServer;
    const reads: { sessionId: string; since: Date }[] = [];
    let enrolmentReads = 0;
    const store: StudentEnrolmentReads = {
      enrolmentsOf() {
        enrolmentReads += 1;
        return Promise.resolve(new Map());
      },
      changedForStudents(_orgId, sessionId, _ids, since) {
        reads.push({ sessionId, since });
        return Promise.resolve({ session: null, checkins: [{ studentId: 's1', view: {} as never }] });
      },
    };
    const catchUp = new EnrolmentCatchUp(io, undefined, store, silent);
    try {
      const later = new Date('2026-12-07T06:00:10Z');
      const earlier = new Date('2026-12-07T06:00:00Z');
      catchUp.tellSince(later);
      catchUp.tellSince(earlier);
      expect(reads).to.deep.equal([]);
      await sleep(CATCH_UP_GATHER_MS + 200);
      expect(reads).to.deep.equal([{ sessionId: 'sess1', since: new Date(earlier.getTime() - CLOCK_SKEW_LIMIT_MS) }]);
      expect(enrolmentReads).to.equal(0);
      expect(phone.sent).to.deep.equal(['checkin:decision']);
    } finally {
      catchUp.close();
    }
  });
  it("this node's own link back: waits for the others' requests of the same restart, then one pass reads enrolments and changes from the earliest", async () => {
    const phone = new FakeSocket({ userId: 's1', orgId: 'o1', role: 'student' }, new Set([rooms.students('sess1')]));
    const sockets = new Map([['x', phone]]);
    const io = { of: () => ({ sockets }) } as unknown as AppServer;
    const reads: Date[] = [];
    let enrolmentReads = 0;
    const store: StudentEnrolmentReads = {
      enrolmentsOf() {
        enrolmentReads += 1;
        return Promise.resolve(new Map());
      },
      changedForStudents(_orgId, _sessionId, _ids, since) {
        reads.push(since);
        return Promise.resolve({ session: null, checkins: [] });
      },
    };
    let restored: ((outage: LinkOutage) => void) | null = null;
    const link: FanoutLink = {
      up: true,
      onRestored(listener) {
        restored = listener;
        return () => (restored = null);
      },
    };
    const catchUp = new EnrolmentCatchUp(io, link, store, silent);
    try {
      const own = new Date('2026-12-07T06:00:05Z');
      const peer = new Date('2026-12-07T06:00:00Z');
      restored!({ since: own });
      // Another node back a second later asks; its request joins the pass still waiting.
      await sleep(1_000);
      catchUp.tellSince(peer);
      await sleep(CATCH_UP_GATHER_MS + 200);
      expect([enrolmentReads, reads.length]).to.deep.equal([0, 0]);
      await sleep(CATCH_UP_SETTLE_MS - 1_000);
      expect([enrolmentReads, reads]).to.deep.equal([1, [new Date(peer.getTime() - CLOCK_SKEW_LIMIT_MS)]]);
      await sleep(CATCH_UP_GATHER_MS + 200);
      expect(reads).to.have.length(1);
    } finally {
      catchUp.close();
    }
  });
});

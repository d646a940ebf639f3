import { expect } from 'chai';
import { Server } from 'socket.io';
import { createLogger } from '../../../src/logger.js';
import { Fanout } from '../../../src/realtime/fanout.js';
import { rooms, type CheckinView } from '../../../src/shared/events.js';
import type { AppServer, AppSocket } from '../../../src/realtime/types.js';

function view(sessionId: string): CheckinView {
  return {
    sessionId,
    recordId: `r-${sessionId}`,
    status: 'present',
    reason: null,
    flags: [],
    attempts: 1,
    attemptsLeft: 0,
    submittedAt: '2026-12-07T09:00:00.000Z',
    decidedAt: '2026-12-07T09:00:00.000Z',
    note: null,
    recordVersion: 1,
    verifying: false,
  };
}

/** A server without a listener: a socket of `userId` is put in its user room by hand, its pushes recorded. */
function serverWithSockets(userIds: readonly string[]): { io: AppServer; pushes: Map<string, unknown[][]> } {
  const io = new Server() as AppServer;
  const nsp = io.of('/');
  const pushes = new Map<string, unknown[][]>();
  for (const userId of userIds) {
    const id = `sock-${userId}`;
    const seen: unknown[][] = [];
    pushes.set(userId, seen);
    nsp.sockets.set(id, { emit: (...args: unknown[]) => void seen.push(args) } as unknown as AppSocket);
    nsp.adapter.rooms.set(rooms.user(userId), new Set([id]));
  }
  return { io, pushes };
}

describe('Fanout.decision on a node without a cluster adapter', () => {
  it("pushes each check-in's view to its own student's socket only", () => {
    const { io, pushes } = serverWithSockets(['st-1', 'st-2']);
    const fanout = new Fanout(io, undefined, createLogger('silent'));
    fanout.decision('ses-1', 'st-1', view('ses-1'));
    fanout.decision('ses-2', 'st-2', view('ses-2'));
    fanout.decision('ses-3', 'st-1', view('ses-3'));
    fanout.decision('ses-4', 'st-absent', view('ses-4'));
    expect(pushes.get('st-1')).to.deep.equal([
      ['checkin:decision', view('ses-1')],
      ['checkin:decision', view('ses-3')],
    ]);
    expect(pushes.get('st-2')).to.deep.equal([['checkin:decision', view('ses-2')]]);
    fanout.close();
  });
});
